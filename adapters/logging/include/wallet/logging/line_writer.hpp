// Writes log lines to a file descriptor in batches: loggers append whole lines to a bounded buffer
// and one writer thread writes what has gathered, once per flush interval, with one write(2) per
// batch instead of one per line. No line is ever dropped: past the bound a logging thread waits
// until the writer has caught up.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "wallet/logging/log.hpp"

namespace wallet::logging {

class line_writer {
 public:
  explicit line_writer(line_writer_settings settings);
  // Writes everything appended, then stops the writer thread.
  ~line_writer();
  line_writer(const line_writer&) = delete;
  line_writer& operator=(const line_writer&) = delete;
  line_writer(line_writer&&) = delete;
  line_writer& operator=(line_writer&&) = delete;

  // Appends `line` (its newline included) whole. Thread-safe; blocks while the buffer is full.
  // `now`: write it (and what came before) before returning.
  void append(std::string_view line, bool now = false);
  // Returns once everything appended before the call is written.
  void flush();

  // For tests: bytes appended, bytes written (or given up on: see write_failures), the most
  // bytes ever unwritten at once, the batches written, and those the descriptor refused.
  struct counters {
    std::uint64_t appended_bytes = 0;
    std::uint64_t written_bytes = 0;
    std::size_t unwritten_bytes_peak = 0;
    std::uint64_t writes = 0;
    std::uint64_t write_failures = 0;
  };
  [[nodiscard]] counters stats() const;

 private:
  void run();
  // Writes `batch` whole (retrying short writes and EINTR); false when the descriptor refuses it.
  bool write_all(std::string_view batch) const;
  void wait_written(std::unique_lock<std::mutex>& lock, std::uint64_t upto);

  const line_writer_settings settings_;
  mutable std::mutex mutex_;
  std::condition_variable work_;   // the writer: lines to write, or stop
  std::condition_variable room_;   // appenders: room in the buffer, or their lines written
  std::string pending_;            // appended, not yet taken by the writer
  std::uint64_t appended_ = 0;     // bytes ever appended
  std::uint64_t written_ = 0;      // bytes ever written (or failed)
  std::uint64_t urgent_upto_ = 0;  // write at once up to this many appended bytes
  std::size_t peak_ = 0;
  std::uint64_t writes_ = 0;
  std::uint64_t failures_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace wallet::logging
