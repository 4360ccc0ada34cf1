// A bounded queue of jobs served by a fixed set of threads, each owning a Worker (its database
// connections) built on that thread: the engine of pg_reader and pg_admin.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace wallet::http {

template <class Worker>
class job_pool {
 public:
  // A job runs on a worker; `stopped` is how it answers when the pool stops before running it.
  struct job {
    std::function<void(Worker&)> run;
    std::function<void()> stopped;
  };

  explicit job_pool(std::size_t queue_max) : queue_max_(queue_max) {}
  ~job_pool() { stop(); }
  job_pool(const job_pool&) = delete;
  job_pool& operator=(const job_pool&) = delete;
  job_pool(job_pool&&) = delete;
  job_pool& operator=(job_pool&&) = delete;

  // Starts `threads` threads (at least one); each builds its worker with `make` and serves jobs
  // until stop(). Called once, when what `make` refers to is ready.
  template <class Make>
  void start(std::size_t threads, Make make) {
    const std::size_t n = std::max<std::size_t>(threads, 1);
    for (std::size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, make] {
        Worker w = make();
        serve(w);
      });
    }
  }

  // Queues `j`; false when the queue holds queue_max jobs or the pool is stopping (the caller
  // answers then).
  [[nodiscard]] bool push(job j) {
    {
      const std::lock_guard lock{mutex_};
      if (stopping_ || queue_.size() >= queue_max_) return false;
      queue_.push_back(std::move(j));
    }
    wake_.notify_one();
    return true;
  }

  // Answers what is queued through its `stopped`, lets running jobs finish and joins the threads.
  void stop() {
    std::deque<job> left;
    {
      const std::lock_guard lock{mutex_};
      if (stopping_) return;
      stopping_ = true;
      left.swap(queue_);
    }
    wake_.notify_all();
    for (job& j : left) j.stopped();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void serve(Worker& w) {
    for (;;) {
      job next;
      {
        std::unique_lock lock{mutex_};
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        next = std::move(queue_.front());
        queue_.pop_front();
      }
      next.run(w);
    }
  }

  std::size_t queue_max_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wallet::http
