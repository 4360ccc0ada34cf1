// The queue between the driver's sender and a transport's worker threads (the naive baseline's
// database connections, the HTTP transport's keep-alive connections): each worker owns one
// connection and takes the next command when it is free. Unbounded here because the driver bounds
// the commands in flight.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace wallet::loadtest {

template <class Item>
class work_queue {
 public:
  void push(Item item) {
    {
      const std::lock_guard lock(mutex_);
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
  }

  // The next item; nullopt once the queue is closed and empty.
  std::optional<Item> pop() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    Item item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  void close() {
    {
      const std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  bool closed_ = false;
};

}  // namespace wallet::loadtest
