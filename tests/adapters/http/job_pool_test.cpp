// The pool behind pg_reader and pg_admin, without a database: jobs run on workers built on the
// pool's own threads, the queue's bound refuses the job past it, and stop() answers what is still
// queued, lets the running job finish and refuses new ones.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "wallet/http/job_pool.hpp"

namespace wallet::http {
namespace {

using namespace std::chrono_literals;

struct worker {
  std::thread::id built_on = std::this_thread::get_id();
};

using pool = job_pool<worker>;

pool::job job_of(
    std::function<void(worker&)> run, std::function<void()> stopped = [] {}) {
  return pool::job{std::move(run), std::move(stopped)};
}

TEST(job_pool, runs_jobs_on_workers_built_on_its_threads) {
  pool p(64);
  p.start(3, [] { return worker{}; });
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::atomic<int> own_worker{0};
  constexpr int jobs = 30;
  std::promise<void> all_done;
  std::atomic<int> left{jobs};
  for (int i = 0; i < jobs; ++i) {
    ASSERT_TRUE(p.push(job_of([&](worker& w) {
      if (w.built_on == std::this_thread::get_id()) ++own_worker;
      {
        const std::lock_guard lock{mutex};
        threads.insert(std::this_thread::get_id());
      }
      if (--left == 0) all_done.set_value();
    })));
  }
  ASSERT_EQ(all_done.get_future().wait_for(10s), std::future_status::ready);
  p.stop();
  EXPECT_EQ(own_worker.load(), jobs);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0U);
  EXPECT_LE(threads.size(), 3U);
}

TEST(job_pool, refuses_past_its_bound_and_stop_answers_what_is_queued) {
  pool p(2);
  p.start(0, [] { return worker{}; });  // at least one thread all the same
  std::promise<void> started;
  std::promise<void> gate;
  auto gate_open = gate.get_future().share();
  std::atomic<int> ran{0};
  std::atomic<int> stopped{0};
  ASSERT_TRUE(p.push(job_of([&](worker&) {
    started.set_value();
    gate_open.wait();
    ++ran;
  })));
  ASSERT_EQ(started.get_future().wait_for(10s), std::future_status::ready);
  // The one thread is busy: two jobs wait, the third is past the bound.
  const auto queued = [&] { return job_of([&](worker&) { ++ran; }, [&] { ++stopped; }); };
  EXPECT_TRUE(p.push(queued()));
  EXPECT_TRUE(p.push(queued()));
  EXPECT_FALSE(p.push(queued()));

  std::thread stopping([&] { p.stop(); });
  for (int i = 0; i < 1'000 && stopped.load() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(stopped.load(), 2);  // answered while the running job still runs
  EXPECT_EQ(ran.load(), 0);
  gate.set_value();
  stopping.join();
  EXPECT_EQ(ran.load(), 1);  // the running job finished; the queued ones never ran
  EXPECT_FALSE(p.push(queued()));
  EXPECT_EQ(stopped.load(), 2);
}

}  // namespace
}  // namespace wallet::http
