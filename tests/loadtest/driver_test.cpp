// The driver over a fake transport that answers on a thread of its own: closed and open loops
// start what they should, keep their bound on jobs in flight, chain a job's steps, pair
// duplicates, and time out what is never answered.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "driver.hpp"

namespace wallet::loadtest {
namespace {

// Answers like a correct service: a key seen before is a replay; an invalid command gets its
// expected answer. Drops every `drop_every`-th command when set.
class fake_transport final : public transport {
 public:
  explicit fake_transport(answer_sink& sink, std::size_t drop_every = 0)
      : sink_(sink), drop_every_(drop_every), worker_([this] { serve(); }) {}
  ~fake_transport() override {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  fake_transport(const fake_transport&) = delete;
  fake_transport& operator=(const fake_transport&) = delete;
  fake_transport(fake_transport&&) = delete;
  fake_transport& operator=(fake_transport&&) = delete;

  std::string name() const override { return "fake"; }
  std::string describe() const override { return "fake"; }
  void send(const command& c, const naming& names, std::uint64_t token) override {
    const std::lock_guard lock(mutex_);
    ++sent_;
    if (drop_every_ != 0 && sent_ % drop_every_ == 0) return;
    queue_.push_back({c, names.key(c), token});
    in_flight_max_ = std::max(in_flight_max_, queue_.size());
    if (c.what == op::hold_capture || c.what == op::hold_release) {
      EXPECT_TRUE(placed_.count(c.hold) == 1) << "a hold ended before it was placed";
    }
    cv_.notify_one();
  }
  std::size_t sent() {
    const std::lock_guard lock(mutex_);
    return sent_;
  }
  std::size_t in_flight_max() {
    const std::lock_guard lock(mutex_);
    return in_flight_max_;
  }

 private:
  struct item {
    command c;
    std::string key;
    std::uint64_t token;
  };
  void serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      item it = queue_.front();
      queue_.pop_front();
      answer a;
      const expected_answer want = expected_for(it.c.flaw);
      a.status = want.status;
      a.code = want.code;
      a.problem = want.problem;
      a.replayed = !seen_.insert(it.key + "/" + std::to_string(it.c.wallet)).second;
      if (it.c.what == op::hold_place && a.status == answer_status::accepted)
        placed_.insert(it.c.hold);
      lock.unlock();
      sink_.answered(it.token, a);
      lock.lock();
    }
  }

  answer_sink& sink_;
  std::size_t drop_every_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<item> queue_;
  std::set<std::string> seen_;
  std::set<std::uint64_t> placed_;
  std::size_t sent_ = 0;
  std::size_t in_flight_max_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

class relay final : public answer_sink {
 public:
  void answered(std::uint64_t token, const answer& a) override { target->answered(token, a); }
  driver* target = nullptr;
};

workload_settings settings() {
  workload_settings s;
  s.wallets = 100;
  s.weights = *parse_mix("deposit=1,withdraw=1,transfer=1,hold=1");
  s.duplicate_share = 0.1;
  s.invalid_share = 0.1;
  return s;
}

// A closed loop of `jobs` jobs, `concurrency` at a time.
load_settings counted(std::size_t concurrency, std::uint64_t jobs) {
  load_settings load;
  load.concurrency = concurrency;
  load.jobs = jobs;
  load.duration_s = 0;
  return load;
}

struct rig {
  run_ledger ledger{100};
  naming names{"lt-", "t1"};
  workload work{settings()};
  relay sink;
  fake_transport fake;
  driver d;
  explicit rig(std::size_t drop_every = 0) : fake(sink, drop_every), d(fake, names, ledger, false) {
    sink.target = &d;
  }
  driver::job_source jobs() {
    return [this](std::uint64_t i) { return work.make(i); };
  }
};

TEST(driver, closed_loop_runs_every_job_within_its_bound) {
  rig r;
  const load_settings load = counted(8, 2'000);
  latency_set latency;
  const phase_stats s = r.d.run("closed", load, r.jobs(), latency);
  EXPECT_EQ(s.jobs_started, 2'000U);
  EXPECT_EQ(s.commands_sent, r.fake.sent());
  EXPECT_EQ(r.ledger.sent.load(), r.fake.sent());
  EXPECT_LE(r.fake.in_flight_max(), 16U);  // 8 jobs, each with at most a command and its copy
  EXPECT_EQ(r.ledger.failed.load(), 0U);
  EXPECT_EQ(latency.all.count(), r.fake.sent());
  // Every duplicate pair: one first answer and one replay; every invalid command as expected.
  const auto pairs = r.ledger.duplicates.pairs();
  EXPECT_GT(pairs.size(), 100U);
  for (const auto& [id, p] : pairs) {
    EXPECT_EQ(p.answers, 2) << id;
    EXPECT_EQ(p.first_time, 1) << id;
  }
  for (const auto& [what, n] : r.ledger.invalid.counts()) EXPECT_EQ(n.right, n.sent) << what;
  EXPECT_GT(s.throughput(), 0);
}

TEST(driver, open_loop_starts_jobs_on_schedule) {
  rig r;
  load_settings load;
  load.how = load_settings::model::open;
  load.rate = 2'000;
  load.duration_s = 0.5;
  load.warmup_s = 0.25;
  latency_set latency;
  const phase_stats s = r.d.run("open", load, r.jobs(), latency);
  // Every job the schedule made due before the phase's end starts, however late the sender ran
  // (a busy machine stalls it): the count follows from the rate and the phase's length alone.
  EXPECT_GE(s.measured_s, load.duration_s);
  const double due = load.rate * (load.warmup_s + load.duration_s);
  EXPECT_NEAR(static_cast<double>(s.jobs_started), due, 4);  // the schedule starts 1 ms in
  EXPECT_LT(latency.all.count(), s.commands_sent);           // the warm-up's are not measured
  EXPECT_GT(latency.all.count(), 0U);
}

TEST(driver, unanswered_commands_time_out_as_failed) {
  rig r(50);  // every 50th command is lost
  load_settings load = counted(16, 500);
  load.answer_timeout_s = 1;
  latency_set latency;
  const phase_stats s = r.d.run("lossy", load, r.jobs(), latency);
  EXPECT_EQ(s.jobs_started, 500U);
  EXPECT_EQ(r.ledger.failed.load(), r.fake.sent() / 50);
  EXPECT_GT(s.errors.count("failed:no answer within 1 s"), 0U);
}

TEST(driver, accepted_answers_become_expectations) {
  rig r;
  const load_settings load = counted(4, 1'000);
  latency_set latency;
  (void)r.d.run("ledger", load, r.jobs(), latency);
  // The fake accepts everything valid: the expectations add up to the deposits, withdrawals and
  // captures; transfers move money without creating any, and no hold stays open.
  std::int64_t balance = 0;
  std::int64_t held = 0;
  for (std::uint32_t n = 1; n <= 100; ++n) {
    balance += r.ledger.expected.balance_delta(n);
    held += r.ledger.expected.held_delta(n);
  }
  EXPECT_EQ(balance, r.ledger.expected.deposited() - r.ledger.expected.withdrawn() -
                         r.ledger.expected.captured());
  EXPECT_EQ(held, 0);
  EXPECT_GT(r.ledger.expected.transfers(), 0U);
}

}  // namespace
}  // namespace wallet::loadtest
