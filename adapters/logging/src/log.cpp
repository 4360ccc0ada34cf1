// JSON lines through spdlog: the logger renders "msg" and the fields, a formatter adds the
// timestamp, level and logger name. spdlog has no JSON sink, so escaping is done here.
#include "wallet/logging/log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <mutex>
#include <utility>

#include "wallet/logging/line_writer.hpp"

namespace wallet::logging {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

void append_escaped_ascii(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  if (c < 0x20U) {
    out += "\\u00";
    out += hex_digits[c >> 4U];
    out += hex_digits[c & 0xfU];
  } else {
    out += static_cast<char>(c);
  }
}

// Length of the well-formed UTF-8 sequence starting text[i] (2 to 4 bytes), or 0 if it is not
// one: overlong forms, surrogates and code points past U+10FFFF are refused.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = at(i);
  std::size_t length = 0;
  unsigned char low = 0x80U;
  unsigned char high = 0xbfU;
  if (lead >= 0xc2U && lead <= 0xdfU) {
    length = 2;
  } else if (lead >= 0xe0U && lead <= 0xefU) {
    length = 3;
    if (lead == 0xe0U) low = 0xa0U;
    if (lead == 0xedU) high = 0x9fU;
  } else if (lead >= 0xf0U && lead <= 0xf4U) {
    length = 4;
    if (lead == 0xf0U) low = 0x90U;
    if (lead == 0xf4U) high = 0x8fU;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (at(i + 1) < low || at(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (at(i + k) < 0x80U || at(i + k) > 0xbfU) return 0;
  }
  return length;
}

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
    case level::trace:
      return spdlog::level::trace;
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

level from_spdlog(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
      return level::trace;
    case spdlog::level::debug:
      return level::debug;
    case spdlog::level::info:
      return level::info;
    case spdlog::level::warn:
      return level::warn;
    default:
      return level::error;
  }
}

// `number` in decimal, zero-padded to `width` digits.
void append_padded(std::string& out, std::int64_t number, std::size_t width) {
  const std::string digits = std::to_string(number);
  if (digits.size() < width) out.append(width - digits.size(), '0');
  out += digits;
}

// {"ts":"2026-11-30T03:25:48.123456Z","level":"info","logger":"walletd",
void append_head(std::string& out, std::chrono::system_clock::time_point ts, level l,
                 std::string_view logger_name) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(ts.time_since_epoch()).count();
  auto seconds = static_cast<std::time_t>(micros / 1'000'000);
  auto fraction = micros % 1'000'000;
  if (fraction < 0) {  // before 1970: floor, not truncate
    fraction += 1'000'000;
    --seconds;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  out += R"({"ts":")";
  append_padded(out, utc.tm_year + 1900, 4);
  out += '-';
  append_padded(out, utc.tm_mon + 1, 2);
  out += '-';
  append_padded(out, utc.tm_mday, 2);
  out += 'T';
  append_padded(out, utc.tm_hour, 2);
  out += ':';
  append_padded(out, utc.tm_min, 2);
  out += ':';
  append_padded(out, utc.tm_sec, 2);
  out += '.';
  append_padded(out, fraction, 6);
  out += R"(Z","level":")";
  out += name(l);
  out += R"(","logger":)";
  append_json_string(out, logger_name);
  out += ',';
}

// "msg":"...","key":value,...  (the part the logger renders before handing it to spdlog)
void append_body(std::string& out, std::string_view msg, std::initializer_list<field> fields) {
  out += "\"msg\":";
  append_json_string(out, msg);
  for (const field& f : fields) {
    out += ',';
    append_json_string(out, f.key());
    out += ':';
    out += f.json();
  }
}

// Wraps the pre-rendered body that the logger passes as the payload.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    // The head is rendered in this thread's scratch string, which keeps its capacity.
    thread_local std::string head;
    head.clear();
    append_head(head, msg.time, from_spdlog(msg.level),
                std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    dest.append(head.data(), head.data() + head.size());
    dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    constexpr std::string_view end = "}\n";
    dest.append(end.data(), end.data() + end.size());
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

// Appends formatted lines to a string; for tests.
class string_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit string_sink(std::shared_ptr<std::string> out) : out_(std::move(out)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    out_->append(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  std::shared_ptr<std::string> out_;
};

// Hands formatted lines to a line_writer; warn and error lines go out before log() returns, since
// their process may be about to end and whoever watches the log waits for them. The writer is
// thread-safe, and so is the stateless formatter: no sink mutex.
class writer_sink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit writer_sink(line_writer_settings settings) : writer_(settings) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    writer_.append(std::string_view(formatted.data(), formatted.size()),
                   msg.level >= spdlog::level::warn);
  }
  void flush_() override { writer_.flush(); }

 private:
  line_writer writer_;
};

// `flush_each`: spdlog flushes the sink after every line (the stdio sinks); otherwise only on
// logger::flush().
std::shared_ptr<spdlog::logger> make(std::string name, level min, spdlog::sink_ptr sink,
                                     bool flush_each = true) {
  sink->set_formatter(std::make_unique<json_formatter>());
  // Not registered with spdlog's global registry: the logger is passed down, not looked up.
  auto impl = std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
  impl->set_level(to_spdlog(min));
  impl->flush_on(flush_each ? spdlog::level::trace : spdlog::level::off);
  return impl;
}

spdlog::sink_ptr output_sink(const line_writer_settings& out) {
  if (out.flush_interval.count() == 0 && out.fd == 1) {
    return std::make_shared<spdlog::sinks::stdout_sink_mt>();
  }
  return std::make_shared<writer_sink>(out);
}

}  // namespace

std::string_view name(level l) {
  switch (l) {
    case level::trace:
      return "trace";
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
  }
  return "error";
}

std::optional<level> parse_level(std::string_view text) {
  for (const level l : {level::trace, level::debug, level::info, level::warn, level::error}) {
    if (name(l) == text) return l;
  }
  return std::nullopt;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80U) {
      append_escaped_ascii(out, c);
      ++i;
    } else if (const std::size_t length = utf8_sequence_length(text, i); length != 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

field::field(std::string_view key, std::string_view text) : key_(key) {
  append_json_string(json_, text);
}

field::field(std::string_view key, bool b) : key_(key), json_(b ? "true" : "false") {}

std::string format_line(std::chrono::system_clock::time_point ts, level l,
                        std::string_view logger_name, std::string_view msg,
                        std::initializer_list<field> fields) {
  std::string out;
  append_head(out, ts, l, logger_name);
  append_body(out, msg, fields);
  out += '}';
  return out;
}

logger::logger(std::string name, level min)
    : impl_(make(std::move(name), min, std::make_shared<spdlog::sinks::stdout_sink_mt>())) {}

logger::logger(std::string name, level min, line_writer_settings out)
    : impl_(make(std::move(name), min, output_sink(out), out.flush_interval.count() == 0)) {}

logger::logger(std::string name, level min, std::shared_ptr<std::string> out)
    : impl_(make(std::move(name), min, std::make_shared<string_sink>(std::move(out)))) {}

void logger::log(level l, std::string_view msg, std::initializer_list<field> fields) const {
  if (!enabled(l)) return;  // skip rendering what would be dropped
  // Rendered in this thread's scratch string (it keeps its capacity): spdlog copies it out
  // before log() returns.
  thread_local std::string rendered;
  rendered.clear();
  append_body(rendered, msg, fields);
  impl_->log(to_spdlog(l), spdlog::string_view_t(rendered.data(), rendered.size()));
}

bool logger::enabled(level l) const { return impl_->should_log(to_spdlog(l)); }

void logger::flush() const { impl_->flush(); }

void shutdown() { spdlog::shutdown(); }

}  // namespace wallet::logging
