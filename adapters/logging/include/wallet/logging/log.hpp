// Structured logs: one JSON object per line, {"ts","level","logger","msg", then fields}, through
// spdlog, never holding unescaped text and never dropping a line: written synchronously, or in
// batches by a bounded line writer (line_writer.hpp) that makes a full buffer wait, not drop.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace wallet::logging {

enum class level : std::uint8_t { trace, debug, info, warn, error };

// "trace", "debug", "info", "warn", "error" (the names of the log.level setting).
std::string_view name(level l);
std::optional<level> parse_level(std::string_view text);

// Appends `text` as a JSON string literal: quotes, backslashes and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, so that every line is valid JSON whatever it logs.
void append_json_string(std::string& out, std::string_view text);

// Where and how a batching logger writes (line_writer.hpp; walletd's log.flush_interval_ms and
// log.buffer_bytes_max).
struct line_writer_settings {
  int fd = 1;  // stdout; not closed by the writer
  // Longest a line waits in the buffer before the writer writes it. A line appended with `now`
  // set, and everything before it, is written before append returns.
  std::chrono::milliseconds flush_interval{10};
  // Most bytes appended and not yet written (waiting, or being written). An append that would
  // pass it waits; a single longer line is taken alone, when nothing else is unwritten.
  std::size_t buffer_bytes_max = std::size_t{1} << 20U;
};

// Text that is already one JSON value, logged as is (e.g. a configuration object).
struct raw_json {
  std::string text;
};

// One key/value of a log line; the value is rendered to JSON when the field is made.
class field {
 public:
  field(std::string_view key, std::string_view text);
  field(std::string_view key, const char* text) : field(key, std::string_view(text)) {}
  field(std::string_view key, const std::string& text) : field(key, std::string_view(text)) {}
  field(std::string_view key, bool b);
  template <std::integral T>
  requires(!std::same_as<T, bool>) field(std::string_view key, T number)
      : key_(key), json_(std::to_string(number)) {}
  field(std::string_view key, raw_json json) : key_(key), json_(std::move(json.text)) {}

  [[nodiscard]] const std::string& key() const { return key_; }
  [[nodiscard]] const std::string& json() const { return json_; }

 private:
  std::string key_;
  std::string json_;
};

// The whole line, without its newline: pure, for tests and for the sink formatter.
std::string format_line(std::chrono::system_clock::time_point ts, level l,
                        std::string_view logger_name, std::string_view msg,
                        std::initializer_list<field> fields);

// A named logger writing JSON lines. Cheap to copy; copies share the sink.
class logger {
 public:
  // Writes to stdout, one flushed line per event; lines below `min` are dropped.
  logger(std::string name, level min);
  // Writes to `out.fd` through a line_writer: lines gathered for up to out.flush_interval and
  // written in one batch; warn and error lines (and all before them) are written before log()
  // returns.
  // A flush_interval of 0 writes and flushes each line as it is logged, as the constructor above.
  logger(std::string name, level min, line_writer_settings out);
  // Writes to `out` instead (tests).
  logger(std::string name, level min, std::shared_ptr<std::string> out);

  void log(level l, std::string_view msg, std::initializer_list<field> fields = {}) const;
  void trace(std::string_view msg, std::initializer_list<field> fields = {}) const {
    log(level::trace, msg, fields);
  }
  void debug(std::string_view msg, std::initializer_list<field> fields = {}) const {
    log(level::debug, msg, fields);
  }
  void info(std::string_view msg, std::initializer_list<field> fields = {}) const {
    log(level::info, msg, fields);
  }
  void warn(std::string_view msg, std::initializer_list<field> fields = {}) const {
    log(level::warn, msg, fields);
  }
  void error(std::string_view msg, std::initializer_list<field> fields = {}) const {
    log(level::error, msg, fields);
  }
  [[nodiscard]] bool enabled(level l) const;
  // Returns once every line logged before is written.
  void flush() const;

 private:
  std::shared_ptr<spdlog::logger> impl_;
};

// Flushes and releases every logger: call once before exit.
void shutdown();

}  // namespace wallet::logging
