// Wallet pickers: each distribution converges to the probabilities it claims, and the claims are
// the textbook ones (Zipf: P(k) / P(1) = k^-s; hot: the share over k wallets).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampler.hpp"

namespace wallet::loadtest {
namespace {

constexpr int samples = 1'000'000;

std::vector<double> frequencies(const wallet_picker& p, std::uint64_t seed) {
  rng r(seed);
  std::vector<double> f(p.wallets() + 1, 0.0);
  for (int i = 0; i < samples; ++i) {
    const std::uint32_t w = p.pick(r);
    EXPECT_GE(w, 1U);
    EXPECT_LE(w, p.wallets());
    f[w] += 1.0 / samples;
  }
  return f;
}

// Within five standard deviations of a binomial proportion.
void expect_share(double seen, double p) {
  EXPECT_NEAR(seen, p, 5 * std::sqrt(p * (1 - p) / samples) + 1e-9);
}

TEST(sampler, parses_the_three_kinds) {
  EXPECT_EQ(parse_pick("uniform")->how, pick_settings::kind::uniform);
  const auto z = parse_pick("zipf:1.2");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->how, pick_settings::kind::zipf);
  EXPECT_DOUBLE_EQ(z->zipf_s, 1.2);
  const auto h = parse_pick("hot:10:0.8");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->hot_k, 10U);
  EXPECT_DOUBLE_EQ(h->hot_share, 0.8);
  EXPECT_EQ(to_string(*h), "hot:10:0.8");
  for (const char* bad : {"", "zipf", "zipf:", "zipf:-1", "zipf:x", "hot:10", "hot:0:0.5",
                          "hot:10:1.5", "hot:a:0.5", "gauss"}) {
    EXPECT_FALSE(parse_pick(bad)) << bad;
  }
}

TEST(sampler, uniform_covers_every_wallet_evenly) {
  const wallet_picker p(pick_settings{}, 100);
  const auto f = frequencies(p, 1);
  for (std::uint32_t n = 1; n <= 100; ++n) expect_share(f[n], 0.01);
}

TEST(sampler, zipf_follows_the_power_law) {
  const wallet_picker p(*parse_pick("zipf:1.0"), 1'000);
  // P(k) = k^-1 / H(1000); H(1000) = 7.4854708606
  EXPECT_NEAR(p.probability(1), 1 / 7.4854708606, 1e-9);
  EXPECT_NEAR(p.probability(2) / p.probability(1), 0.5, 1e-12);
  EXPECT_NEAR(p.probability(10) / p.probability(1), 0.1, 1e-12);
  const auto f = frequencies(p, 2);
  for (std::uint32_t n : {1U, 2U, 3U, 10U, 100U, 1'000U}) expect_share(f[n], p.probability(n));
}

TEST(sampler, zipf_exponent_steepens_the_head) {
  const wallet_picker p(*parse_pick("zipf:2"), 10'000);
  EXPECT_NEAR(p.probability(2) / p.probability(1), 0.25, 1e-12);
  const auto f = frequencies(p, 3);
  expect_share(f[1], p.probability(1));  // about 0.61
  expect_share(f[2], p.probability(2));
}

TEST(sampler, hot_set_takes_its_share) {
  const wallet_picker p(*parse_pick("hot:10:0.8"), 10'000);
  const auto f = frequencies(p, 4);
  double hot = 0;
  for (std::uint32_t n = 1; n <= 10; ++n) {
    hot += f[n];
    expect_share(f[n], 0.08);
  }
  expect_share(hot, 0.8);
  EXPECT_NEAR(p.probability(11), 0.2 / 9'990, 1e-15);
}

TEST(sampler, probabilities_sum_to_one) {
  for (const char* how : {"uniform", "zipf:0.8", "zipf:1.0", "hot:5:0.3"}) {
    const wallet_picker p(*parse_pick(how), 500);
    double sum = 0;
    for (std::uint32_t n = 1; n <= 500; ++n) sum += p.probability(n);
    EXPECT_NEAR(sum, 1.0, 1e-9) << how;
  }
}

TEST(sampler, pick_other_never_returns_the_excluded_wallet) {
  const wallet_picker p(*parse_pick("zipf:3"), 2);  // rank 1 takes about 89 %
  rng r(5);
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_EQ(p.pick_other(r, 1), 2U);
    EXPECT_EQ(p.pick_other(r, 2), 1U);
  }
}

TEST(sampler, seeds_are_reproducible_and_distinct) {
  EXPECT_EQ(seed_of(1, 2), seed_of(1, 2));
  EXPECT_NE(seed_of(1, 2), seed_of(1, 3));
  EXPECT_NE(seed_of(1, 2), seed_of(2, 2));
}

}  // namespace
}  // namespace wallet::loadtest
