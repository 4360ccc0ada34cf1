// Token-bucket rate limiting (the wallet::auth::rate_limiter of auth.hpp): one bucket per key, in
// mutex-guarded shards so that concurrent requests for different keys rarely contend, each shard
// forgetting its least recently used bucket past its share of the key bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "wallet/auth/auth.hpp"
#include "wallet/auth/settings.hpp"

namespace wallet::auth {

// Shards of a limiter made by make_rate_limiter: enough that the HTTP server's threads seldom
// meet on one mutex.
inline constexpr std::size_t rate_limiter_shards = 16;

class token_bucket_limiter final : public rate_limiter {
 public:
  // min(shards, keys_max) shards, each holding at most keys_max / that many buckets, so that the
  // limiter never holds more than keys_max. Settings outside 1..bucket_*_max are a programming
  // error (asserted): the configuration bounds them.
  explicit token_bucket_limiter(const bucket_settings& settings,
                                std::size_t shards = rate_limiter_shards);
  ~token_bucket_limiter() override;
  token_bucket_limiter(const token_bucket_limiter&) = delete;
  token_bucket_limiter& operator=(const token_bucket_limiter&) = delete;
  token_bucket_limiter(token_bucket_limiter&&) = delete;
  token_bucket_limiter& operator=(token_bucket_limiter&&) = delete;

  // A key seen for the first time (or again after being forgotten) starts with a full bucket.
  [[nodiscard]] rate_decision take(std::string_view key,
                                   std::chrono::steady_clock::time_point now) override;

  // Buckets held now (at most keys_max).
  [[nodiscard]] std::size_t keys() const;

  struct buckets;  // defined in rate_limiter.cpp

 private:
  std::int64_t capacity_;
  std::int64_t refill_per_s_;
  std::unique_ptr<buckets> buckets_;
};

[[nodiscard]] std::unique_ptr<rate_limiter> make_rate_limiter(const bucket_settings& settings);

}  // namespace wallet::auth
