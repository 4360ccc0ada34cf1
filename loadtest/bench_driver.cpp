// The closed and open loops of runtime_bench.
#include "bench_driver.hpp"

#include <string>
#include <thread>

namespace wallet::loadtest {

using namespace std::chrono_literals;

bool answer_tally::count(const actors::submit_outcome& o) {
  if (o.error) {
    switch (*o.error) {
      case actors::submit_errc::overloaded:
        overloaded_.fetch_add(1, std::memory_order_relaxed);
        break;
      case actors::submit_errc::unavailable:
        unavailable_.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        other_errors_.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    return false;
  }
  if (o.result.rejected) {
    rejected_[static_cast<std::size_t>(*o.result.rejected) % rejected_.size()].fetch_add(
        1, std::memory_order_relaxed);
  } else {
    accepted_.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

answer_counts answer_tally::snapshot() const {
  answer_counts c;
  c.accepted = accepted_.load();
  c.overloaded = overloaded_.load();
  c.unavailable = unavailable_.load();
  c.other_errors = other_errors_.load();
  for (std::size_t i = 1; i < rejected_.size(); ++i) {
    const auto n = rejected_[i].load();
    if (n == 0) continue;
    c.rejected += n;
    c.rejections[std::string(engine::code(static_cast<engine::rejection>(i)))] += n;
  }
  return c;
}

closed_loop::closed_loop(actors::runtime& rt, job_maker make, std::size_t jobs,
                         log_histogram& latency, std::shared_ptr<transfer_clock> clock)
    : rt_(rt), make_(std::move(make)), jobs_(jobs), latency_(latency), clock_(std::move(clock)) {}

run_result closed_loop::run(std::size_t concurrency) {
  const std::int64_t started = now_ns();
  for (std::size_t i = 0; i < concurrency && i < jobs_; ++i) {
    start_next();
  }
  std::vector<std::shared_ptr<job>> again;
  while (done_.load(std::memory_order_acquire) < jobs_) {
    std::this_thread::sleep_for(1ms);
    {
      const std::lock_guard lock(retry_mutex_);
      again.swap(retry_);
    }
    for (auto& j : again) submit(std::move(j));
    again.clear();
  }
  run_result r;
  r.answers = tally_.snapshot();
  r.started_ns = started;
  r.seconds = static_cast<double>(last_answer_ns_.load() - started) / 1e9;
  return r;
}

void closed_loop::start_next() {
  const std::size_t index = next_.fetch_add(1, std::memory_order_relaxed);
  if (index >= jobs_) return;
  auto j = std::make_shared<job>(job{index, make_(index), 0});
  if (clock_) clock_->sent_ns[index].store(now_ns(), std::memory_order_relaxed);
  submit(std::move(j));
}

void closed_loop::submit(std::shared_ptr<job> j) {
  const std::int64_t sent = now_ns();
  engine::command cmd = j->commands[j->step];
  rt_.submit(std::move(cmd), [this, j = std::move(j), sent](const actors::submit_outcome& o) {
    on_answer(j, sent, o);
  });
}

// Runs on an actor thread. done_ is the last member it touches: run() may return right after.
void closed_loop::on_answer(const std::shared_ptr<job>& j, std::int64_t sent_ns,
                            const actors::submit_outcome& o) {
  const bool decided = tally_.count(o);
  if (!decided && (*o.error == actors::submit_errc::overloaded ||
                   *o.error == actors::submit_errc::unavailable)) {
    const std::lock_guard lock(retry_mutex_);
    retry_.push_back(j);
    return;
  }
  const std::int64_t now = now_ns();
  if (decided) latency_.record(static_cast<std::uint64_t>(now - sent_ns));
  std::int64_t last = last_answer_ns_.load(std::memory_order_relaxed);
  while (now > last && !last_answer_ns_.compare_exchange_weak(last, now)) {
  }
  if (decided && ++j->step < j->commands.size()) {
    submit(j);
    return;
  }
  start_next();
  done_.fetch_add(1, std::memory_order_release);
}

namespace {

// Shared with the callbacks, which may outlive a timed-out open_loop().
struct open_state {
  answer_tally tally;
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::int64_t> last_answer_ns{0};
};

void wait_until(std::int64_t at_ns) {
  for (;;) {
    const std::int64_t left = at_ns - now_ns();
    if (left <= 0) return;
    if (left > 200'000) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(left - 100'000));
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace

run_result open_loop(actors::runtime& rt, const std::function<engine::command(std::size_t)>& make,
                     std::size_t commands, double rate, log_histogram& latency,
                     const std::shared_ptr<transfer_clock>& clock,
                     std::chrono::seconds drain_timeout) {
  auto state = std::make_shared<open_state>();
  const double period_ns = 1e9 / rate;
  const std::int64_t start = now_ns() + 10'000'000;
  double lag_max_ns = 0;
  for (std::size_t i = 0; i < commands; ++i) {
    const auto intended = start + static_cast<std::int64_t>(static_cast<double>(i) * period_ns);
    wait_until(intended);
    lag_max_ns = std::max(lag_max_ns, static_cast<double>(now_ns() - intended));
    if (clock) clock->sent_ns[i].store(intended, std::memory_order_relaxed);
    rt.submit(make(i), [state, &latency, intended](const actors::submit_outcome& o) {
      const std::int64_t now = now_ns();
      if (state->tally.count(o)) latency.record(static_cast<std::uint64_t>(now - intended));
      state->last_answer_ns.store(now, std::memory_order_relaxed);
      state->answered.fetch_add(1, std::memory_order_release);
    });
  }
  const auto deadline = steady::now() + drain_timeout;
  while (state->answered.load(std::memory_order_acquire) < commands && steady::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  run_result r;
  r.answers = state->tally.snapshot();
  r.started_ns = start;
  r.seconds = static_cast<double>(state->last_answer_ns.load() - start) / 1e9;
  r.send_lag_max_ms = lag_max_ns / 1e6;
  return r;
}

}  // namespace wallet::loadtest
