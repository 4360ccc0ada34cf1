// log_histogram: exact below 256, relative error under 0.8 % above, percentiles by rank.
#include <gtest/gtest.h>

#include <random>

#include "../../loadtest/log_histogram.hpp"

namespace wallet::loadtest {
namespace {

TEST(log_histogram, empty_reports_zero) {
  const log_histogram h;
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.percentile(0.5), 0U);
  EXPECT_EQ(h.max(), 0U);
}

TEST(log_histogram, small_values_are_exact) {
  log_histogram h;
  for (std::uint64_t v = 1; v <= 200; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 100U);
  EXPECT_EQ(h.percentile(0.99), 198U);
  EXPECT_EQ(h.percentile(1.0), 200U);
  EXPECT_EQ(h.max(), 200U);
  EXPECT_DOUBLE_EQ(h.mean(), 100.5);
}

TEST(log_histogram, percentile_is_the_value_at_that_rank) {
  log_histogram h;
  // 90 fast (1 ms) and 10 slow (1 s) answers: p90 is fast, p91 and above slow.
  for (int i = 0; i < 90; ++i) h.record(1'000'000);
  for (int i = 0; i < 10; ++i) h.record(1'000'000'000);
  const auto close = [](std::uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want * 0.008;
  };
  EXPECT_TRUE(close(h.percentile(0.5), 1e6));
  EXPECT_TRUE(close(h.percentile(0.9), 1e6));
  EXPECT_TRUE(close(h.percentile(0.91), 1e9));
  EXPECT_TRUE(close(h.percentile(0.999), 1e9));
  EXPECT_EQ(h.max(), 1'000'000'000U);
}

TEST(log_histogram, relative_error_stays_under_one_percent) {
  log_histogram h;
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 100'000; ++i) {
    // log-uniform from 1 us to 10 s, in ns
    const double e = std::uniform_real_distribution<double>(3, 10)(rng);
    values.push_back(static_cast<std::uint64_t>(std::pow(10.0, e)));
    h.record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    const double exact = static_cast<double>(values[rank - 1]);
    const double got = static_cast<double>(h.percentile(q));
    EXPECT_NEAR(got, exact, exact * 0.008) << "q=" << q;
    EXPECT_GE(got, exact) << "q=" << q;  // the bucket's highest value, never below the truth
  }
}

TEST(log_histogram, summarise_scales_to_milliseconds) {
  log_histogram h;
  h.record(2'000'000);  // 2 ms in ns
  const latency_summary s = summarise(h, 1e-6);
  EXPECT_EQ(s.count, 1U);
  EXPECT_NEAR(s.p50, 2.0, 2.0 * 0.008);
  EXPECT_DOUBLE_EQ(s.max, 2.0);
}

TEST(log_histogram, reset_forgets_everything) {
  log_histogram h;
  h.record(5);
  h.reset();
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.max(), 0U);
  EXPECT_EQ(h.percentile(0.99), 0U);
}

}  // namespace
}  // namespace wallet::loadtest
