// The open loop's schedule: intended times come from the schedule alone, a late sender catches up
// at once, and latency measured from the intended time shows a stall instead of hiding it.
#include <gtest/gtest.h>

#include <vector>

#include "schedule.hpp"

namespace wallet::loadtest {
namespace {

constexpr std::int64_t ms = 1'000'000;

TEST(schedule, intended_times_are_evenly_spaced_without_drift) {
  const open_schedule s(1'000, 1'000);  // 1000 jobs per second from t = 1000 ns
  EXPECT_EQ(s.intended(0), 1'000);
  EXPECT_EQ(s.intended(1), 1'000 + ms);
  EXPECT_EQ(s.intended(1'000'000), 1'000 + 1'000'000 * ms);
  const open_schedule third(0, 3);  // a period that is not a whole number of ns
  EXPECT_EQ(third.intended(3), 1'000'000'000);
  EXPECT_EQ(third.intended(3'000'000), 1'000'000'000'000'000);
}

TEST(schedule, due_counts_the_jobs_whose_time_has_come) {
  const open_schedule s(10 * ms, 100);  // every 10 ms from t = 10 ms
  EXPECT_EQ(s.due(0), 0U);
  EXPECT_EQ(s.due(10 * ms - 1), 0U);
  EXPECT_EQ(s.due(10 * ms), 1U);
  EXPECT_EQ(s.due(20 * ms - 1), 1U);
  EXPECT_EQ(s.due(20 * ms), 2U);
  EXPECT_EQ(s.due(1'010 * ms), 101U);
}

// A fake clock; the service answers each command 1 ms after it is sent, except that the sender
// itself stalls for 100 ms while sending job 10 (a GC pause, a full socket buffer).
struct simulation {
  std::int64_t clock = 0;
  std::vector<std::int64_t> sent_at;
  std::vector<std::int64_t> intended;
  std::vector<std::int64_t> latency;  // answer time - intended time
};

TEST(schedule, a_stall_shows_as_latency_not_as_fewer_commands) {
  simulation sim;
  const open_schedule s(0, 1'000);  // one job per ms
  const schedule_run r = run_schedule(
      s, 50, [&] { return sim.clock; }, [&](std::int64_t t) { sim.clock = std::max(sim.clock, t); },
      [&](std::uint64_t i, std::int64_t intended) {
        sim.sent_at.push_back(sim.clock);
        sim.intended.push_back(intended);
        sim.latency.push_back(sim.clock + ms - intended);
        if (i == 10) sim.clock += 100 * ms;
        return true;
      });
  ASSERT_EQ(r.sent, 50U);
  for (std::size_t i = 0; i < 50; ++i) {
    EXPECT_EQ(sim.intended[i], static_cast<std::int64_t>(i) * ms);  // the schedule, not the sender
    EXPECT_GE(sim.sent_at[i], sim.intended[i]);                     // never early
  }
  EXPECT_EQ(sim.latency[5], ms);  // on time: the service's 1 ms
  // Job 11 was due at 11 ms and went out at 110 ms: it is charged the 99 ms it waited.
  EXPECT_EQ(sim.sent_at[11], 110 * ms);
  EXPECT_EQ(sim.latency[11], 100 * ms);
  // The backlog (jobs 11..49, all due by 110 ms) was sent at once, each latency from its own due
  // time; a coordinated-omission sender would have reported 1 ms for all of them.
  EXPECT_EQ(sim.latency[49], (110 - 49 + 1) * ms);
  EXPECT_EQ(r.lag_max_ns, 99 * ms);
}

TEST(schedule, send_can_stop_the_run) {
  std::int64_t clock = 0;
  const open_schedule s(0, 10);
  const schedule_run r = run_schedule(
      s, 0, [&] { return clock; }, [&](std::int64_t t) { clock = t; },
      [&](std::uint64_t i, std::int64_t /*intended*/) { return i < 7; });
  EXPECT_EQ(r.sent, 7U);
  EXPECT_EQ(clock, s.intended(7));  // it waited for job 7's time, then was told to stop
}

}  // namespace
}  // namespace wallet::loadtest
