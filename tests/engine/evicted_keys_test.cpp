// The evicted-key filter (ADR 0017): no false negatives, few false positives, slices of time that
// expire whole, fixed memory.
#include <gtest/gtest.h>

#include <string>

#include "wallet/engine/evicted_keys.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/limits.hpp"

namespace wallet::engine {
namespace {

using namespace std::chrono_literals;

const timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 12 / 1}};
constexpr duration retention = std::chrono::hours{16};  // a slice spans an hour
constexpr duration slice_span = retention / evicted_filter_slices_per_retention;

std::string key(int i) { return "key-" + std::to_string(i); }

TEST(evicted_keys, holds_every_key_added_and_few_others) {
  evicted_keys f;
  EXPECT_TRUE(f.empty());
  EXPECT_FALSE(f.may_contain("anything"));
  for (int i = 0; i < 50'000; ++i) f.add(key(i), t0, retention);
  for (int i = 0; i < 50'000; ++i) ASSERT_TRUE(f.may_contain(key(i))) << i;
  int false_positives = 0;
  for (int i = 50'000; i < 150'000; ++i) false_positives += f.may_contain(key(i)) ? 1 : 0;
  // 50,000 keys in one slice sized for 65,536: well under 1% (about 0.1% expected).
  EXPECT_LT(false_positives, 1'000);
  EXPECT_EQ(f.keys(), 50'000U);
  EXPECT_EQ(f.slices(), 1U);
}

TEST(evicted_keys, a_slice_closes_after_its_span_or_its_keys_and_expires_whole) {
  evicted_keys f;
  f.add("a", t0, retention);
  f.add("b", t0 + slice_span - 1us, retention);
  EXPECT_EQ(f.slices(), 1U);
  f.add("c", t0 + slice_span, retention);  // a new slice: the first one spans its time
  EXPECT_EQ(f.slices(), 2U);
  // The first slice goes when its newest key ("b") has expired, not before.
  f.expire(t0 + slice_span - 2us + retention, retention);
  EXPECT_EQ(f.slices(), 2U);
  EXPECT_TRUE(f.may_contain("a"));
  f.expire(t0 + slice_span - 1us + retention, retention);
  EXPECT_EQ(f.slices(), 1U);
  EXPECT_FALSE(f.may_contain("a"));
  EXPECT_FALSE(f.may_contain("b"));
  EXPECT_TRUE(f.may_contain("c"));
  f.expire(t0 + slice_span + retention, retention);
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(f.bytes(), 0U);
}

TEST(evicted_keys, a_full_slice_opens_the_next_and_memory_stays_bounded) {
  evicted_keys f;
  const int keys =
      static_cast<int>(evicted_filter_keys_per_slice * (evicted_filter_slices_max + 2));
  for (int i = 0; i < keys; ++i) f.add(key(i), t0, retention);  // all at once: count bound only
  EXPECT_EQ(f.slices(), evicted_filter_slices_max);
  EXPECT_EQ(f.bytes(), evicted_filter_slices_max * evicted_filter_keys_per_slice *
                           evicted_filter_bits_per_key / 8);
  EXPECT_EQ(f.keys(), static_cast<std::size_t>(keys));
  for (int i = 0; i < keys; i += 997) ASSERT_TRUE(f.may_contain(key(i))) << i;
}

TEST(idempotency_window, evicts_oldest_first_into_the_filter_and_frees_it_once_expired) {
  const idempotency_bounds bounds{retention, 3};
  idempotency_window w;
  for (int i = 0; i < 5; ++i) {
    w.remember(key(i), idempotency_record{1, outcome{}, t0 + 1s * i}, bounds);
  }
  EXPECT_EQ(w.size(), 3U);
  EXPECT_EQ(w.find(key(0)), nullptr);
  EXPECT_EQ(w.find(key(1)), nullptr);
  for (int i = 2; i < 5; ++i) EXPECT_NE(w.find(key(i)), nullptr) << i;
  ASSERT_NE(w.evicted(), nullptr);
  EXPECT_EQ(w.evicted()->keys(), 2U);
  EXPECT_TRUE(w.maybe_evicted(key(0)));
  EXPECT_TRUE(w.maybe_evicted(key(1)));

  // A copy keeps the filter; equality compares it.
  const idempotency_window copy{w};
  EXPECT_EQ(copy, w);
  EXPECT_TRUE(copy.maybe_evicted(key(1)));

  // key(1), the newest evicted, expires at t0 + 1 s + retention: the filter goes with it.
  w.expire(t0 + 1s + retention - 1us, retention);
  EXPECT_NE(w.evicted(), nullptr);
  w.expire(t0 + 1s + retention, retention);
  EXPECT_EQ(w.evicted(), nullptr);
  EXPECT_FALSE(w.maybe_evicted(key(0)));
  EXPECT_EQ(w.size(), 3U);
  EXPECT_NE(copy, w);
}

TEST(idempotency_window, a_loaded_filter_is_adopted_before_the_resident_keys) {
  const idempotency_bounds bounds{retention, 2};
  evicted_keys older;
  older.add("old", t0, retention);
  idempotency_window w;
  w.adopt_evicted(std::move(older));
  w.remember("new-1", idempotency_record{1, outcome{}, t0 + 1s}, bounds);
  w.remember("new-2", idempotency_record{1, outcome{}, t0 + 2s}, bounds);
  w.remember("new-3", idempotency_record{1, outcome{}, t0 + 3s}, bounds);
  EXPECT_TRUE(w.maybe_evicted("old"));
  EXPECT_TRUE(w.maybe_evicted("new-1"));
  EXPECT_EQ(w.evicted()->keys(), 2U);
  idempotency_window none;
  none.adopt_evicted(evicted_keys{});
  EXPECT_EQ(none.evicted(), nullptr);  // nothing allocated for an empty filter
}

}  // namespace
}  // namespace wallet::engine
