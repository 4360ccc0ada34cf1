// The batching line writer: appenders copy lines into `pending_` under one mutex; the writer
// thread wakes when the first line of a batch arrives, gathers for up to flush_interval (less when
// a line must go out now or half the buffer is used), then writes the batch with as few write(2)
// calls as the descriptor takes, outside the lock.
#include "wallet/logging/line_writer.hpp"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace wallet::logging {

line_writer::line_writer(line_writer_settings settings)
    : settings_(settings), thread_([this] { run(); }) {
  // Named, so that a profile or `top -H` tells it from the threads that log.
  pthread_setname_np(thread_.native_handle(), "log.writer");
}

line_writer::~line_writer() {
  {
    const std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void line_writer::append(std::string_view line, bool now) {
  std::unique_lock lock{mutex_};
  const std::size_t max = settings_.buffer_bytes_max;
  room_.wait(lock, [&] {
    const std::uint64_t unwritten = appended_ - written_;
    return unwritten == 0 || unwritten + line.size() <= max;
  });
  const bool first = pending_.empty();
  pending_.append(line);
  appended_ += line.size();
  peak_ = std::max(peak_, static_cast<std::size_t>(appended_ - written_));
  if (now) urgent_upto_ = appended_;
  // The writer waits for a batch's first line, then gathers: a wake-up per batch, not per line.
  if (first || now || pending_.size() >= max / 2) work_.notify_one();
  if (now) wait_written(lock, appended_);
}

void line_writer::flush() {
  std::unique_lock lock{mutex_};
  const std::uint64_t upto = appended_;
  if (written_ >= upto) return;
  urgent_upto_ = std::max(urgent_upto_, upto);
  work_.notify_one();
  wait_written(lock, upto);
}

line_writer::counters line_writer::stats() const {
  const std::lock_guard lock{mutex_};
  return counters{appended_, written_, peak_, writes_, failures_};
}

void line_writer::wait_written(std::unique_lock<std::mutex>& lock, std::uint64_t upto) {
  room_.wait(lock, [&] { return written_ >= upto; });
}

void line_writer::run() {
  std::string batch;
  std::unique_lock lock{mutex_};
  for (;;) {
    work_.wait(lock, [&] { return !pending_.empty() || stopping_; });
    if (pending_.empty()) return;  // stopping, and everything is written
    work_.wait_for(lock, settings_.flush_interval, [&] {
      return stopping_ || urgent_upto_ > written_ ||
             pending_.size() >= settings_.buffer_bytes_max / 2;
    });
    batch.swap(pending_);  // `pending_` takes the last batch's (cleared) capacity
    const std::uint64_t upto = appended_;
    lock.unlock();
    const bool ok = write_all(batch);
    batch.clear();
    lock.lock();
    ++writes_;
    if (!ok) ++failures_;
    written_ = upto;
    room_.notify_all();
  }
}

bool line_writer::write_all(std::string_view batch) const {
  while (!batch.empty()) {
    const ssize_t n = ::write(settings_.fd, batch.data(), batch.size());
    if (n >= 0) {
      batch.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // A non-blocking descriptor (set so by whoever holds the other end): wait until it drains.
      pollfd p{settings_.fd, POLLOUT, 0};
      if (::poll(&p, 1, -1) >= 0 || errno == EINTR) continue;
    }
    return false;  // closed or broken: as with stdio, the lines are lost, the process goes on
  }
  return true;
}

}  // namespace wallet::logging
