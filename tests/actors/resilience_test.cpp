// Circuit breaker, restart backoff and the LRU map: the runtime's pure policies, without CAF.
#include <gtest/gtest.h>

#include <set>

#include "wallet/actors/backoff.hpp"
#include "wallet/actors/circuit_breaker.hpp"
#include "wallet/actors/lru.hpp"

namespace wallet::actors {
namespace {

using namespace std::chrono_literals;

const steady_time t0{std::chrono::seconds{1'000}};

TEST(circuit_breaker, opens_after_consecutive_failures_only) {
  circuit_breaker cb{{3, 1s}};
  cb.on_failure(t0);
  cb.on_failure(t0);
  cb.on_success();  // resets the count
  cb.on_failure(t0);
  cb.on_failure(t0);
  EXPECT_EQ(cb.state(), circuit_state::closed);
  EXPECT_TRUE(cb.allow(t0));
  cb.on_failure(t0);
  EXPECT_EQ(cb.state(), circuit_state::open);
  EXPECT_FALSE(cb.allow(t0 + 999ms));
}

TEST(circuit_breaker, lets_one_probe_through_after_the_cool_down) {
  circuit_breaker cb{{1, 1s}};
  cb.on_failure(t0);
  ASSERT_EQ(cb.state(), circuit_state::open);
  EXPECT_EQ(cb.retry_at(), t0 + 1s);
  EXPECT_TRUE(cb.allow(t0 + 1s));
  EXPECT_EQ(cb.state(), circuit_state::half_open);
  EXPECT_FALSE(cb.allow(t0 + 1s)) << "a second caller must not join the probe";
  cb.on_success();
  EXPECT_EQ(cb.state(), circuit_state::closed);
  EXPECT_TRUE(cb.allow(t0 + 1s));
}

TEST(circuit_breaker, a_failed_probe_opens_it_for_another_cool_down) {
  circuit_breaker cb{{1, 1s}};
  cb.on_failure(t0);
  ASSERT_TRUE(cb.allow(t0 + 2s));
  cb.on_failure(t0 + 2s);
  EXPECT_EQ(cb.state(), circuit_state::open);
  EXPECT_FALSE(cb.allow(t0 + 2500ms));
  EXPECT_TRUE(cb.allow(t0 + 3s));
}

TEST(backoff, grows_exponentially_within_jitter_and_caps) {
  const backoff_settings s{100ms, 1'000ms, 10, 60s};
  for (std::uint64_t random : {0ULL, 7ULL, 123'456'789ULL, ~0ULL}) {
    const auto d0 = backoff_delay(s, 0, random);
    const auto d3 = backoff_delay(s, 3, random);
    const auto d9 = backoff_delay(s, 9, random);
    EXPECT_GE(d0, 50ms);
    EXPECT_LE(d0, 100ms);
    EXPECT_GE(d3, 400ms);
    EXPECT_LE(d3, 800ms);
    EXPECT_GE(d9, 500ms);
    EXPECT_LE(d9, 1'000ms);
  }
}

TEST(backoff, jitter_spreads_restarts) {
  const backoff_settings s{100ms, 1'000ms, 10, 60s};
  std::set<std::int64_t> seen;
  for (std::uint64_t r = 0; r < 100; ++r) {
    seen.insert(backoff_delay(s, 2, r * 2'654'435'761ULL).count());
  }
  EXPECT_GT(seen.size(), 50U);
}

TEST(restart_budget, escalates_past_the_limit_and_recovers_after_the_window) {
  restart_budget budget{{10ms, 100ms, 3, 10s}};
  EXPECT_TRUE(budget.record(t0));
  EXPECT_TRUE(budget.record(t0 + 1s));
  EXPECT_TRUE(budget.record(t0 + 2s));
  EXPECT_EQ(budget.recent(), 3U);
  EXPECT_FALSE(budget.record(t0 + 3s));
  EXPECT_TRUE(budget.record(t0 + 10s)) << "the first restart has left the window";
}

TEST(lru_map, evicts_the_coldest_evictable_entry) {
  lru_map<int> m;
  m.insert("a", 1);
  m.insert("b", 2);
  m.insert("c", 3);
  ASSERT_NE(m.touch("a"), nullptr);                               // order now: a, c, b (b coldest)
  auto victim = m.pop_coldest([](int v) { return v != 2; }, 10);  // b is busy
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->first, "c");
  EXPECT_EQ(m.size(), 2U);
  EXPECT_EQ(m.touch("c"), nullptr);
  EXPECT_FALSE(m.pop_coldest([](int) { return false; }, 10).has_value());
  EXPECT_FALSE(m.pop_coldest([](int) { return true; }, 0).has_value()) << "scan limit";
  EXPECT_TRUE(m.erase("a"));
  EXPECT_FALSE(m.erase("a"));
}

}  // namespace
}  // namespace wallet::actors
