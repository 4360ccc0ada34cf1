// The batching line writer (wallet_logging): every line appended is written whole, exactly once
// and in each thread's order, whatever the buffer's bound; unwritten bytes never pass the bound;
// lines appended `now` are written before append returns; a logger over it writes valid JSON
// lines. Driven through a pipe whose reader the tests control.
#include "wallet/logging/line_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace wallet::logging {
namespace {

using namespace std::chrono_literals;

// A pipe whose read end is drained by a thread once start() is called; everything read is kept.
class pipe_reader {
 public:
  pipe_reader() {
    std::array<int, 2> fds{};
    EXPECT_EQ(::pipe(fds.data()), 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  }
  pipe_reader(const pipe_reader&) = delete;
  pipe_reader& operator=(const pipe_reader&) = delete;
  pipe_reader(pipe_reader&&) = delete;
  pipe_reader& operator=(pipe_reader&&) = delete;
  ~pipe_reader() {
    close_write();
    if (thread_.joinable()) thread_.join();
    ::close(read_fd_);
  }

  [[nodiscard]] int fd() const { return write_fd_; }
  void start() {
    thread_ = std::thread([this] {
      std::array<char, 4096> chunk{};
      for (;;) {
        const ssize_t n = ::read(read_fd_, chunk.data(), chunk.size());
        if (n <= 0) return;
        text_.append(chunk.data(), static_cast<std::size_t>(n));
      }
    });
  }
  // Ends the stream and returns all that was written to it.
  std::string finish() {
    close_write();
    if (!thread_.joinable()) start();
    thread_.join();
    return text_;
  }
  // What is in the pipe right now, without waiting (the reader must not be started).
  std::string available() {
    const int flags = ::fcntl(read_fd_, F_GETFL);
    ::fcntl(read_fd_, F_SETFL, flags | O_NONBLOCK);
    std::string out;
    std::array<char, 4096> chunk{};
    for (ssize_t n = 0; (n = ::read(read_fd_, chunk.data(), chunk.size())) > 0;) {
      out.append(chunk.data(), static_cast<std::size_t>(n));
    }
    ::fcntl(read_fd_, F_SETFL, flags);
    return out;
  }

 private:
  void close_write() {
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = -1;
  }

  int read_fd_ = -1;
  int write_fd_ = -1;
  std::thread thread_;
  std::string text_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end = 0; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    out.push_back(text.substr(start, end - start));
  }
  EXPECT_EQ(start, text.size()) << "the text ends inside a line";
  return out;
}

// "<thread> <number> <padding>\n", the padding 0 to 299 bytes, so that lines differ in size.
std::string numbered_line(int thread, int number) {
  std::string line = std::to_string(thread) + " " + std::to_string(number) + " ";
  line.append(static_cast<std::size_t>((number * 37) % 300), 'x');
  line += '\n';
  return line;
}

// Every thread's lines, complete and in order, exactly once.
void expect_all_lines(const std::string& text, int threads, int per_thread) {
  std::map<int, int> next;
  std::size_t count = 0;
  for (const std::string& line : lines_of(text)) {
    const int thread = std::stoi(line);
    const int number = std::stoi(line.substr(line.find(' ') + 1));
    ASSERT_EQ(number, next[thread]) << "thread " << thread << " lost or reordered a line";
    ASSERT_EQ(line + "\n", numbered_line(thread, number)) << "a line was torn";
    ++next[thread];
    ++count;
  }
  EXPECT_EQ(count, static_cast<std::size_t>(threads * per_thread));
}

TEST(LineWriter, WritesEveryLineOfEveryThreadWholeAndInOrderThroughASmallBuffer) {
  constexpr int threads = 4;
  constexpr int per_thread = 5'000;
  pipe_reader pipe;
  pipe.start();
  line_writer_settings s;
  s.fd = pipe.fd();
  s.flush_interval = 1ms;
  s.buffer_bytes_max = 4'096;
  std::size_t longest = 0;
  line_writer::counters stats;
  {
    line_writer writer{s};
    std::vector<std::thread> loggers;
    for (int t = 0; t < threads; ++t) {
      loggers.emplace_back([&writer, t] {
        for (int i = 0; i < per_thread; ++i) writer.append(numbered_line(t, i));
      });
    }
    for (std::thread& l : loggers) l.join();
    for (int i = 0; i < per_thread; ++i) longest = std::max(longest, numbered_line(0, i).size());
    writer.flush();
    stats = writer.stats();
  }
  expect_all_lines(pipe.finish(), threads, per_thread);
  EXPECT_EQ(stats.appended_bytes, stats.written_bytes);
  EXPECT_LE(stats.unwritten_bytes_peak, s.buffer_bytes_max);
  EXPECT_GE(stats.unwritten_bytes_peak, longest);
  EXPECT_EQ(stats.write_failures, 0U);
}

TEST(LineWriter, AStalledReaderMakesLoggersWaitAtTheBoundAndLosesNothing) {
  // The loggers append about 1 MB; the reader starts only once more than the buffer holds was
  // appended, so the writer blocks on the full pipe and the loggers on the full buffer, with
  // never more than the bound unwritten.
  constexpr int threads = 3;
  constexpr int per_thread = 2'000;  // about 1 MB in all
  pipe_reader pipe;
  line_writer_settings s;
  s.fd = pipe.fd();
  s.flush_interval = 5ms;
  s.buffer_bytes_max = 4'096;
  line_writer::counters stats;
  {
    line_writer writer{s};
    std::vector<std::thread> loggers;
    for (int t = 0; t < threads; ++t) {
      loggers.emplace_back([&writer, t] {
        for (int i = 0; i < per_thread; ++i) writer.append(numbered_line(t, i));
      });
    }
    while (writer.stats().appended_bytes <= s.buffer_bytes_max) std::this_thread::sleep_for(1ms);
    pipe.start();
    for (std::thread& l : loggers) l.join();
    writer.flush();
    stats = writer.stats();
  }
  expect_all_lines(pipe.finish(), threads, per_thread);
  EXPECT_EQ(stats.appended_bytes, stats.written_bytes);
  EXPECT_LE(stats.unwritten_bytes_peak, s.buffer_bytes_max);
}

TEST(LineWriter, GathersLinesIntoOneWriteUntilTheIntervalOrAFlush) {
  pipe_reader pipe;
  line_writer_settings s;
  s.fd = pipe.fd();
  s.flush_interval = 10min;  // never reached: only the flush writes
  line_writer writer{s};
  for (int i = 0; i < 100; ++i) writer.append(numbered_line(0, i));
  EXPECT_EQ(writer.stats().writes, 0U);
  writer.flush();
  EXPECT_EQ(writer.stats().writes, 1U);
  expect_all_lines(pipe.available(), 1, 100);
}

TEST(LineWriter, ALineAppendedNowIsWrittenBeforeAppendReturnsWithAllBeforeIt) {
  pipe_reader pipe;
  line_writer_settings s;
  s.fd = pipe.fd();
  s.flush_interval = 10min;
  line_writer writer{s};
  writer.append("first\n");
  writer.append("second\n");
  EXPECT_EQ(pipe.available(), "");
  writer.append("urgent\n", true);
  EXPECT_EQ(pipe.available(), "first\nsecond\nurgent\n");
}

TEST(LineWriter, TakesALineLongerThanTheBoundAlone) {
  pipe_reader pipe;
  pipe.start();
  line_writer_settings s;
  s.fd = pipe.fd();
  s.flush_interval = 1ms;
  s.buffer_bytes_max = 4'096;
  const std::string longer(10'000, 'y');
  {
    line_writer writer{s};
    writer.append("before\n");
    writer.append(longer + "\n");
    writer.append("after\n");
  }
  EXPECT_EQ(pipe.finish(), "before\n" + longer + "\nafter\n");
}

TEST(LineWriter, ADescriptorThatRefusesWritesNeverBlocksTheLoggers) {
  line_writer_settings s;
  s.fd = -1;  // EBADF
  s.flush_interval = 1ms;
  s.buffer_bytes_max = 4'096;
  line_writer writer{s};
  for (int i = 0; i < 1'000; ++i) writer.append(numbered_line(0, i));
  writer.flush();
  const auto stats = writer.stats();
  EXPECT_EQ(stats.appended_bytes, stats.written_bytes);
  EXPECT_GE(stats.write_failures, 1U);
}

TEST(BatchingLogger, WritesValidJsonLinesAndWarningsAndErrorsAtOnce) {
  pipe_reader pipe;
  line_writer_settings s;
  s.fd = pipe.fd();
  s.flush_interval = 10min;
  const logger log("test", level::info, s);
  log.info("http request", {{"route", "/v1/wallets/{wallet_id}/deposits"}, {"status", 200}});
  log.debug("below the level");
  EXPECT_EQ(pipe.available(), "");
  log.error("something failed", {{"detail", "quote\" and\nnewline"}});
  const std::vector<std::string> lines = lines_of(pipe.available());
  ASSERT_EQ(lines.size(), 2U);
  const auto first = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(first.at("msg").as_string(), "http request");
  EXPECT_EQ(first.at("level").as_string(), "info");
  EXPECT_EQ(first.at("status").as_int64(), 200);
  const auto second = boost::json::parse(lines[1]).as_object();
  EXPECT_EQ(second.at("level").as_string(), "error");
  EXPECT_EQ(second.at("detail").as_string(), "quote\" and\nnewline");
  log.info("then");
  log.warn("a warning");
  EXPECT_EQ(lines_of(pipe.available()).size(), 2U);
  log.info("last");
  log.flush();
  EXPECT_EQ(lines_of(pipe.available()).size(), 1U);
}

}  // namespace
}  // namespace wallet::logging
