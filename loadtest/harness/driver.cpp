// The load generator. One sender thread starts jobs and sends their steps; answers arrive on the
// transport's threads and free their slot, or queue the job's next step for the sender; a ticker
// thread samples the timeline once a second, prints the progress line and times out commands
// that were never answered.
#include "driver.hpp"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "../steady_ns.hpp"
#include "schedule.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::loadtest {
namespace {

using namespace std::chrono_literals;

// A token is <generation:39><copy:1><slot:24>: a late answer for a slot used again is ignored.
constexpr unsigned slot_bits = 24;
constexpr std::uint64_t slot_mask = (std::uint64_t{1} << slot_bits) - 1;
constexpr std::uint64_t copy_bit = std::uint64_t{1} << slot_bits;
constexpr unsigned generation_shift = slot_bits + 1;
constexpr std::size_t slots_max = slot_mask;
constexpr std::size_t examples_max = 10;
constexpr auto tick_interval = 1s;

std::uint64_t token_of(std::size_t slot, bool copy, std::uint64_t generation) {
  return slot | (copy ? copy_bit : 0) | (generation << generation_shift);
}

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

bool decided(const answer& a) {
  return a.status == answer_status::accepted || a.status == answer_status::rejected;
}

void keep_example(std::mutex& m, std::vector<std::string>& examples, std::string text) {
  const std::lock_guard lock(m);
  if (examples.size() < examples_max) examples.push_back(std::move(text));
}

}  // namespace

struct driver::slot {
  std::mutex mutex;
  std::uint64_t generation = 0;
  job work;
  std::size_t step = 0;
  std::uint8_t pending = 0;  // answers awaited: bit 0 the command, bit 1 its copy
  bool accepted = false;     // some answer of this step was `accepted`
  bool measured = false;     // started after the warm-up
  bool busy = false;
  std::int64_t sent_ns = 0;  // latency origin of the step (open loop, first step: intended)
};

struct driver::phase_state {
  load_settings load;
  latency_set* latency = nullptr;
  std::int64_t start_ns = 0;
  std::int64_t warmup_end_ns = 0;
  std::atomic<std::int64_t> stop_ns{0};  // when starting jobs stopped
  std::atomic<std::uint64_t> jobs_started{0};
  std::atomic<std::uint64_t> commands_sent{0};
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::uint64_t> measured_answers{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> transfers_accepted{0};
  std::atomic<std::int64_t> last_answer_ns{0};
  std::mutex counts_mutex;
  std::map<std::string, std::uint64_t> answers;
  std::map<std::string, std::uint64_t> error_kinds;
  // Percentiles per second: answers record into interval[epoch % 3]; the ticker reads the last
  // second's and clears the one that comes next.
  std::array<log_histogram, 3> interval;
  std::atomic<std::uint64_t> epoch{0};
  std::uint64_t last_answered = 0;
  std::uint64_t last_errors = 0;
  std::uint64_t last_credits = 0;
  std::vector<timeline_point> timeline;

  [[nodiscard]] bool duration_bounded() const { return load.duration_s > 0; }
};

driver::driver(transport& t, const naming& names, run_ledger& ledger, bool credits_tracked)
    : transport_(t), names_(names), ledger_(ledger), credits_tracked_(credits_tracked) {}

driver::~driver() = default;

// ---- phases

phase_stats driver::run(const std::string& name, const load_settings& load, const job_source& jobs,
                        latency_set& latency, const std::function<std::int64_t()>& rss_kb) {
  const std::size_t needed =
      load.how == load_settings::model::closed ? load.concurrency : load.outstanding_max;
  WALLET_ASSERT(needed >= 1 && needed <= slots_max);
  while (slots_.size() < needed) slots_.push_back(std::make_unique<slot>());
  phase_state p;
  p.load = load;
  p.latency = &latency;
  p.start_ns = now_ns();
  p.warmup_end_ns = p.start_ns + static_cast<std::int64_t>(load.warmup_s * 1e9);
  {
    const std::lock_guard lock(ready_mutex_);
    free_.clear();
    for (std::size_t i = needed; i > 0; --i) free_.push_back(i - 1);
    outstanding_ = 0;
  }
  phase_.store(&p);
  send_lag_max_ms_ = 0;
  job_source_ = &jobs;
  std::mutex ticker_mutex;
  std::condition_variable ticker_cv;
  bool done = false;
  std::thread ticker([&] {
    auto next = steady::now() + tick_interval;
    std::unique_lock lock(ticker_mutex);
    while (!ticker_cv.wait_until(lock, next, [&] { return done; })) {
      next += tick_interval;
      lock.unlock();
      tick(p, now_ns(), rss_kb);
      sweep_timeouts(now_ns(), load.answer_timeout_s);
      lock.lock();
    }
  });
  if (load.how == load_settings::model::closed) {
    sender_closed(p);
  } else {
    sender_open(p);
  }
  {
    const std::lock_guard lock(ticker_mutex);
    done = true;
  }
  ticker_cv.notify_one();
  ticker.join();
  if (load.progress) std::fputc('\n', stderr);
  phase_.store(nullptr);
  job_source_ = nullptr;
  phase_stats s;
  s.name = name;
  s.load = load;
  s.jobs_started = p.jobs_started.load();
  s.commands_sent = p.commands_sent.load();
  s.measured_answers = p.measured_answers.load();
  const std::int64_t end =
      p.duration_bounded() && p.stop_ns.load() != 0 ? p.stop_ns.load() : p.last_answer_ns.load();
  s.measured_s = std::max(0.0, static_cast<double>(end - p.warmup_end_ns) / 1e9);
  s.seconds = static_cast<double>(now_ns() - p.start_ns) / 1e9;
  s.send_lag_max_ms = send_lag_max_ms_;
  s.answers = p.answers;
  s.errors = p.error_kinds;
  s.timeline = std::move(p.timeline);
  s.transfers_accepted = p.transfers_accepted.load();
  s.transfers_credited = credits_tracked_ ? credits_seen_.load() : s.transfers_accepted;
  // The seconds of the timeline inside the measured window (each point covers the second before
  // it).
  double credited = 0;
  int seconds = 0;
  for (const timeline_point& t : s.timeline) {
    if (t.warmup || t.at_s > load.warmup_s + s.measured_s + 0.5) continue;
    credited += t.credited_per_s;
    ++seconds;
  }
  s.credited_per_s = seconds > 0 ? credited / seconds : 0;
  return s;
}

// Whether job `next`, starting at `at_ns`, may start: stops at the count or at the end of warm-up
// plus duration. The open loop passes a job's intended time, not the clock: a job the schedule made
// due before the end starts even when the sender was late for it, its latency counted from the
// intended time, so a stalled sender cannot drop the phase's last jobs unmeasured.
bool driver::may_start(phase_state& p, std::uint64_t next, std::int64_t at_ns) {
  const bool more = (p.load.jobs == 0 || next < p.load.jobs) &&
                    (!p.duration_bounded() ||
                     at_ns < p.warmup_end_ns + static_cast<std::int64_t>(p.load.duration_s * 1e9));
  if (!more && p.stop_ns.load() == 0) p.stop_ns.store(now_ns());
  return more;
}

// Sends the next step that is ready, if any (the lock is released while sending).
bool driver::send_ready(std::unique_lock<std::mutex>& lock) {
  if (ready_.empty()) return false;
  const std::size_t i = ready_.front();
  ready_.pop_front();
  lock.unlock();
  send_step(i);
  lock.lock();
  return true;
}

// Takes a free slot for a new job (the lock is held).
std::size_t driver::take_slot() {
  const std::size_t i = free_.back();
  free_.pop_back();
  ++outstanding_;
  return i;
}

void driver::sender_closed(phase_state& p) {
  std::uint64_t next = 0;
  std::unique_lock lock(ready_mutex_);
  for (;;) {
    if (send_ready(lock)) continue;
    const bool more = may_start(p, next, now_ns());
    if (more && !free_.empty()) {
      const std::size_t i = take_slot();
      lock.unlock();
      start_job(p, i, (*job_source_)(next++), now_ns());
      lock.lock();
      continue;
    }
    if (!more && outstanding_ == 0) return;
    ready_cv_.wait_for(lock, 20ms);
  }
}

// Sends what is ready until `until_ns`, or until a slot is free when `want_slot`.
void driver::serve_until(std::int64_t until_ns, bool want_slot) {
  std::unique_lock lock(ready_mutex_);
  for (;;) {
    if (send_ready(lock)) continue;
    if (want_slot ? !free_.empty() : now_ns() >= until_ns) return;
    const std::int64_t left = until_ns - now_ns();
    if (want_slot || left > 200'000) {
      ready_cv_.wait_for(lock, want_slot ? std::chrono::nanoseconds{20ms}
                                         : std::chrono::nanoseconds{left - 100'000});
    } else {
      lock.unlock();  // the last fraction of a millisecond: spin for precision
      std::this_thread::yield();
      lock.lock();
    }
  }
}

void driver::sender_open(phase_state& p) {
  // From the phase's start, not from when this thread got going: a late start is lag, measured.
  const open_schedule schedule(p.start_ns + 1'000'000, p.load.rate);
  const auto r = run_schedule(
      schedule, p.load.jobs, [] { return now_ns(); },
      [this](std::int64_t at) { serve_until(at, false); },
      [&](std::uint64_t i, std::int64_t intended) {
        if (!may_start(p, i, intended)) return false;
        serve_until(0, true);  // waits for a free slot: the latency still counts from `intended`
        std::size_t s = 0;
        {
          const std::lock_guard lock(ready_mutex_);
          s = take_slot();
        }
        start_job(p, s, (*job_source_)(i), intended);
        return true;
      });
  send_lag_max_ms_ = static_cast<double>(r.lag_max_ns) / 1e6;
  std::unique_lock lock(ready_mutex_);
  while (outstanding_ > 0 || !ready_.empty()) {
    if (!send_ready(lock)) ready_cv_.wait_for(lock, 20ms);
  }
}

void driver::start_job(phase_state& p, std::size_t slot_index, const job& j,
                       std::int64_t intended_ns) {
  slot& s = *slots_[slot_index];
  {
    const std::lock_guard lock(s.mutex);
    ++s.generation;
    s.work = j;
    s.step = 0;
    s.busy = true;
    s.measured = intended_ns >= p.warmup_end_ns;
    s.sent_ns = intended_ns;
  }
  p.jobs_started.fetch_add(1, std::memory_order_relaxed);
  send_step(slot_index);
}

void driver::send_step(std::size_t slot_index) {
  slot& s = *slots_[slot_index];
  command c;
  std::uint64_t generation = 0;
  {
    const std::lock_guard lock(s.mutex);
    c = s.work.steps[s.step];
    s.pending = c.with_duplicate ? 3 : 1;
    s.accepted = false;
    if (s.step > 0) s.sent_ns = now_ns();
    generation = s.generation;
  }
  const std::uint64_t n = c.with_duplicate ? 2 : 1;
  ledger_.sent.fetch_add(n, std::memory_order_relaxed);
  if (phase_state* p = phase_.load()) p->commands_sent.fetch_add(n, std::memory_order_relaxed);
  if (c.with_duplicate) ledger_.duplicates.sent(c.id);
  transport_.send(c, names_, token_of(slot_index, false, generation));
  if (c.with_duplicate) {
    command copy = c;
    copy.with_duplicate = false;
    copy.duplicate = true;
    transport_.send(copy, names_, token_of(slot_index, true, generation));
  }
}

// ---- answers

void driver::answered(std::uint64_t token, const answer& a) {
  const std::size_t index = token & slot_mask;
  const bool copy = (token & copy_bit) != 0;
  const std::uint64_t generation = token >> generation_shift;
  if (index >= slots_.size()) return;
  slot& s = *slots_[index];
  std::unique_lock lock(s.mutex);
  const std::uint8_t bit = copy ? 2 : 1;
  if (s.generation != generation || (s.pending & bit) == 0) return;  // late: timed out before
  s.pending = static_cast<std::uint8_t>(s.pending & ~bit);
  command c = s.work.steps[s.step];
  if (copy) {
    c.with_duplicate = false;
    c.duplicate = true;
  }
  phase_state* p = phase_.load();
  if (p == nullptr) return;  // no phase runs: nothing can be pending
  record(*p, s, c, a, now_ns());
  if (a.status == answer_status::accepted) s.accepted = true;
  if (s.pending != 0) return;
  const bool go_on = s.accepted && s.step + 1 < s.work.step_count;
  if (go_on) ++s.step;
  if (!go_on) s.busy = false;
  lock.unlock();
  finish_step(index, go_on);
}

void driver::finish_step(std::size_t slot_index, bool go_on) {
  {
    const std::lock_guard lock(ready_mutex_);
    if (go_on) {
      ready_.push_back(slot_index);
    } else {
      free_.push_back(slot_index);
      --outstanding_;
    }
  }
  ready_cv_.notify_one();
}

void driver::record(phase_state& p, const slot& s, const command& c, const answer& a,
                    std::int64_t now) {
  const auto latency = static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - s.sent_ns));
  p.answered.fetch_add(1, std::memory_order_relaxed);
  std::int64_t last = p.last_answer_ns.load(std::memory_order_relaxed);
  while (now > last && !p.last_answer_ns.compare_exchange_weak(last, now)) {
  }
  if (a.status != answer_status::failed) p.interval[p.epoch.load() % 3].record(latency);
  if (s.measured && a.status != answer_status::failed) {
    p.latency->all.record(latency);
    p.latency->by_op[static_cast<std::size_t>(c.what)].record(latency);
  }
  const std::int64_t stop = p.stop_ns.load();
  if (decided(a) && now >= p.warmup_end_ns && (!p.duration_bounded() || stop == 0 || now <= stop)) {
    p.measured_answers.fetch_add(1, std::memory_order_relaxed);
  }
  record_ledger(p, s, c, a);
  std::string label(to_string(a.status));
  if (a.replayed) label += " (replay)";
  const std::lock_guard lock(p.counts_mutex);
  ++p.answers[label];
  if (a.status != answer_status::accepted) {
    p.errors.fetch_add(1, std::memory_order_relaxed);
    ++p.error_kinds[std::string(to_string(a.status)) + ":" + a.code];
  }
}

void driver::record_ledger(phase_state& p, const slot& s, const command& c, const answer& a) {
  if (a.status == answer_status::failed) {
    ledger_.failed.fetch_add(1, std::memory_order_relaxed);
    keep_example(ledger_.examples_mutex, ledger_.failed_examples,
                 names_.key(c) + ": " + a.code + (a.problem.empty() ? "" : " (" + a.problem + ")"));
  }
  if (c.flaw != defect::none) {
    ledger_.invalid.answered(c, names_.key(c), a, transport_.expected(c.flaw));
    return;
  }
  if (c.with_duplicate || c.duplicate) ledger_.duplicates.answered(c.id, a);
  if (a.status == answer_status::refused) {
    ledger_.valid_refused.fetch_add(1, std::memory_order_relaxed);
    keep_example(ledger_.examples_mutex, ledger_.valid_refused_examples,
                 names_.key(c) + " (" + std::string(to_string(c.what)) + "): " + a.code +
                     (a.problem.empty() ? "" : "/" + a.problem));
  }
  if (a.status != answer_status::accepted || a.replayed) return;
  ledger_.expected.applied(c);
  if (c.what != op::transfer) return;
  p.transfers_accepted.fetch_add(1, std::memory_order_relaxed);
  if (!credits_tracked_) return;
  credits_expected_.fetch_add(1, std::memory_order_relaxed);
  const std::lock_guard lock(credit_mutex_);
  if (early_credits_.erase(c.id) > 0) {
    if (s.measured) p.latency->transfer_complete.record(0);
    return;
  }
  awaiting_credit_[c.id] = s.measured ? s.sent_ns : -1 - s.sent_ns;
}

void driver::credited(std::uint64_t id) {
  const std::int64_t now = now_ns();
  credits_seen_.fetch_add(1, std::memory_order_relaxed);
  const std::lock_guard lock(credit_mutex_);
  const auto it = awaiting_credit_.find(id);
  if (it == awaiting_credit_.end()) {
    early_credits_[id] = true;  // its answer is still on its way
    return;
  }
  if (phase_state* p = phase_.load(); it->second >= 0 && p != nullptr) {
    p->latency->transfer_complete.record(
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - it->second)));
  }
  awaiting_credit_.erase(it);
}

std::uint64_t driver::wait_for_credits(double timeout_s) {
  const auto deadline = steady::now() + std::chrono::duration<double>(timeout_s);
  while (credits_tracked_ && steady::now() < deadline) {
    {
      const std::lock_guard lock(credit_mutex_);
      if (awaiting_credit_.empty()) return 0;
    }
    std::this_thread::sleep_for(20ms);
  }
  const std::lock_guard lock(credit_mutex_);
  return awaiting_credit_.size();
}

// ---- the ticker

void driver::tick(phase_state& p, std::int64_t now, const std::function<std::int64_t()>& rss_kb) {
  const std::uint64_t old = p.epoch.fetch_add(1);
  const log_histogram& h = p.interval[old % 3];
  timeline_point t;
  t.at_s = static_cast<double>(now - p.start_ns) / 1e9;
  t.warmup = now < p.warmup_end_ns;
  const std::uint64_t answered = p.answered.load();
  const std::uint64_t errors = p.errors.load();
  const std::uint64_t credits =
      credits_tracked_ ? credits_seen_.load() : p.transfers_accepted.load();
  const double seconds = p.timeline.empty() ? t.at_s : t.at_s - p.timeline.back().at_s;
  t.answered_per_s = static_cast<double>(answered - p.last_answered) / seconds;
  t.credited_per_s = static_cast<double>(credits - p.last_credits) / seconds;
  t.errors = errors - p.last_errors;
  t.p50_ms = ms(h.percentile(0.5));
  t.p99_ms = ms(h.percentile(0.99));
  t.max_ms = ms(h.max());
  p.interval[(old + 2) % 3].reset();
  {
    const std::lock_guard lock(ready_mutex_);
    t.outstanding = outstanding_;
  }
  if (rss_kb) t.service_rss_kb = rss_kb();
  p.last_answered = answered;
  p.last_errors = errors;
  p.last_credits = credits;
  p.timeline.push_back(t);
  if (p.load.progress) {
    std::fprintf(stderr,
                 "\r%6.0fs %s %9.0f/s  p99 %8.2f ms  errors %-8" PRIu64 " in flight %-8" PRIu64
                 "   ",
                 t.at_s, t.warmup ? "warm-up" : "       ", t.answered_per_s, t.p99_ms,
                 p.errors.load(), t.outstanding);
  }
}

void driver::sweep_timeouts(std::int64_t now, double timeout_s) {
  const auto limit = static_cast<std::int64_t>(timeout_s * 1e9);
  std::vector<std::uint64_t> expired;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot& s = *slots_[i];
    const std::lock_guard lock(s.mutex);
    if (!s.busy || s.pending == 0 || now - s.sent_ns < limit) continue;
    if ((s.pending & 1) != 0) expired.push_back(token_of(i, false, s.generation));
    if ((s.pending & 2) != 0) expired.push_back(token_of(i, true, s.generation));
  }
  answer a;
  a.code = "no answer within " + std::to_string(static_cast<long>(timeout_s)) + " s";
  for (const std::uint64_t token : expired) answered(token, a);
}

}  // namespace wallet::loadtest
