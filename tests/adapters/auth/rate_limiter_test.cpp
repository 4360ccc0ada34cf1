// The token-bucket limiter with an injected clock: bursts, refusals with Retry-After, refill,
// independent keys, the key bound (least recently used forgotten) and concurrent takers; the
// keyed hash that places its keys (SipHash-2-4's reference vectors, a key of each process's own).
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "wallet/auth/keyed_hash.hpp"
#include "wallet/auth/rate_limiter.hpp"

namespace wallet::auth {
namespace {

using namespace std::chrono_literals;
constexpr std::chrono::steady_clock::time_point t0{std::chrono::hours{1'000}};

TEST(RateLimiter, AllowsABurstUpToCapacityThenRefuses) {
  token_bucket_limiter limiter(bucket_settings{5, 1, 100});
  for (std::int64_t i = 0; i < 5; ++i) {
    const rate_decision d = limiter.take("alice", t0);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 5);
    EXPECT_EQ(d.remaining, 4 - i);
    EXPECT_EQ(d.retry_after, 0s);
  }
  const rate_decision refused = limiter.take("alice", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 5);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, 1s);
  EXPECT_EQ(refused.reset, 5s);
}

TEST(RateLimiter, RefillsOverTime) {
  token_bucket_limiter limiter(bucket_settings{2, 1, 100});
  ASSERT_TRUE(limiter.take("k", t0).allowed);
  ASSERT_TRUE(limiter.take("k", t0).allowed);
  ASSERT_FALSE(limiter.take("k", t0 + 500ms).allowed);
  const rate_decision at_half = limiter.take("k", t0 + 600ms);
  EXPECT_FALSE(at_half.allowed);
  EXPECT_EQ(at_half.retry_after, 1s);  // 0.4 s, rounded up
  EXPECT_EQ(at_half.reset, 2s);        // 1.4 s
  const rate_decision at_one = limiter.take("k", t0 + 1s);
  EXPECT_TRUE(at_one.allowed);
  EXPECT_EQ(at_one.remaining, 0);
  EXPECT_FALSE(limiter.take("k", t0 + 1s).allowed);
  // A long idle fills the bucket to its capacity, not beyond.
  EXPECT_TRUE(limiter.take("k", t0 + 24h).allowed);
  EXPECT_TRUE(limiter.take("k", t0 + 24h).allowed);
  EXPECT_FALSE(limiter.take("k", t0 + 24h).allowed);
}

TEST(RateLimiter, RefillsFractionsExactly) {
  // 3 tokens a second: a token every 333.33 ms; many small steps must not lose the fractions.
  // Room for 10, so that nothing is cut off at the capacity: only the refill counts.
  token_bucket_limiter limiter(bucket_settings{10, 3, 100});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.take("k", t0).allowed);
  int allowed = 0;
  for (int ms = 1; ms <= 3'000; ++ms) {
    if (limiter.take("k", t0 + std::chrono::milliseconds{ms}).allowed) ++allowed;
  }
  EXPECT_EQ(allowed, 9);
}

TEST(RateLimiter, RetryAfterIsAtLeastOneSecond) {
  token_bucket_limiter limiter(bucket_settings{1, 1'000, 100});
  ASSERT_TRUE(limiter.take("k", t0).allowed);
  const rate_decision d = limiter.take("k", t0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 1s);
  EXPECT_TRUE(limiter.take("k", t0 + 1ms).allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
  token_bucket_limiter limiter(bucket_settings{3, 1, 100});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.take("alice", t0).allowed);
  EXPECT_FALSE(limiter.take("alice", t0).allowed);
  const rate_decision bob = limiter.take("bob", t0);
  EXPECT_TRUE(bob.allowed);
  EXPECT_EQ(bob.remaining, 2);
  EXPECT_FALSE(limiter.take("alice", t0).allowed);
  EXPECT_EQ(limiter.keys(), 2U);
}

TEST(RateLimiter, ForgetsTheLeastRecentlyUsedKeyPastTheBound) {
  token_bucket_limiter limiter(bucket_settings{2, 1, 3}, 1);
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(limiter.take(key, t0).allowed);
  ASSERT_TRUE(limiter.take("a", t0).allowed);  // a is empty now, and the most recent
  EXPECT_TRUE(limiter.take("d", t0).allowed);  // evicts b, the least recently used
  EXPECT_EQ(limiter.keys(), 3U);
  EXPECT_FALSE(limiter.take("a", t0).allowed);    // remembered: still empty
  const rate_decision b = limiter.take("b", t0);  // forgotten: a full bucket again
  EXPECT_TRUE(b.allowed);
  EXPECT_EQ(b.remaining, 1);
  EXPECT_EQ(limiter.keys(), 3U);
}

TEST(RateLimiter, NeverHoldsMoreKeysThanTheBound) {
  for (const std::size_t bound : {1UL, 7UL, 16UL, 1'000UL}) {
    token_bucket_limiter limiter(bucket_settings{10, 1, bound});
    for (int i = 0; i < 5'000; ++i) {
      static_cast<void>(limiter.take("client-" + std::to_string(i), t0));
    }
    EXPECT_LE(limiter.keys(), bound) << bound;
    EXPECT_GE(limiter.keys(), bound / 2) << bound;  // the shards' shares are used
  }
}

TEST(RateLimiter, ConcurrentTakersNeverGetMoreThanTheCapacity) {
  // Enough room for every key: "shared" must never be forgotten (and come back full) here.
  token_bucket_limiter limiter(bucket_settings{1'000, 1, 10'000});
  std::atomic<int> allowed{0};
  constexpr int thread_count = 4;
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1'000; ++i) {
        if (limiter.take("shared", t0).allowed) ++allowed;
        static_cast<void>(limiter.take("own-" + std::to_string(i % 50), t0));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed, 1'000);
}

TEST(RateLimiter, TheFactoryMakesAShardedLimiter) {
  const auto limiter = make_rate_limiter(bucket_settings{1, 1, 10});
  EXPECT_TRUE(limiter->take("x", t0).allowed);
  EXPECT_FALSE(limiter->take("x", t0).allowed);
}

// The reference implementation's test vectors: key 00 01 .. 0f, messages 00 01 .. (n-1).
TEST(KeyedHash, IsSipHash24) {
  constexpr detail::hash_key key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  std::string message;
  for (char c = 0; c < 15; ++c) message.push_back(c);
  EXPECT_EQ(detail::siphash24(key, ""), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(detail::siphash24(key, std::string_view(message).substr(0, 8)), 0x93f5f5799a932462ULL);
  EXPECT_EQ(detail::siphash24(key, message), 0xa129ca6149be45e5ULL);
  static_assert(detail::siphash24(key, "") == 0x726fdb47dd0e0e31ULL);
}

TEST(KeyedHash, EachProcessDrawsItsOwnKey) {
  const detail::hash_key mine = detail::process_hash_key();
  EXPECT_TRUE(mine.k0 != 0 || mine.k1 != 0);
  EXPECT_EQ(detail::process_hash_key().k0, mine.k0) << "one key for the whole process";
  // A fresh process (gtest re-executes this binary for a "threadsafe" death test) writes its key
  // where this one reads it: the parent's pid names the file.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto file = [](long pid) {
    return ::testing::TempDir() + "wallet-keyed-hash-" + std::to_string(pid);
  };
  EXPECT_EXIT(
      {
        const detail::hash_key child = detail::process_hash_key();
        std::ofstream(file(static_cast<long>(::getppid()))) << child.k0 << " " << child.k1;
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
  std::ifstream in(file(static_cast<long>(::getpid())));
  ASSERT_TRUE(in >> k0 >> k1) << "the child wrote no key";
  std::remove(file(static_cast<long>(::getpid())).c_str());
  EXPECT_TRUE(k0 != mine.k0 || k1 != mine.k1) << "two processes drew the same key";
}

}  // namespace
}  // namespace wallet::auth
