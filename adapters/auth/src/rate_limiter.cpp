// Token buckets in integer units: a token is token_units units and a bucket gains refill_per_s
// units per nanosecond, so refilling is exact and never loses a fraction between two requests.
#include "wallet/auth/rate_limiter.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "sharded_lru.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::auth {
namespace {

constexpr std::int64_t token_units = 1'000'000'000;  // units per token = nanoseconds per second
constexpr std::int64_t units_per_second = 1'000'000'000;

// The largest level times the largest rate stays far inside int64 in every step below.
static_assert(bucket_capacity_max * token_units + bucket_refill_per_s_max <=
              std::numeric_limits<std::int64_t>::max() / 2);

struct bucket {
  std::int64_t level = 0;  // units
  std::chrono::steady_clock::time_point updated;
};

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

std::chrono::seconds seconds_until(std::int64_t units_missing, std::int64_t refill_per_s) {
  // Nanoseconds to gain the units, then whole seconds, rounded up.
  return std::chrono::seconds{ceil_div(ceil_div(units_missing, refill_per_s), units_per_second)};
}

}  // namespace

struct token_bucket_limiter::buckets {
  detail::sharded_lru<bucket> lru;
};

token_bucket_limiter::token_bucket_limiter(const bucket_settings& settings, std::size_t shards)
    : capacity_(settings.capacity), refill_per_s_(settings.refill_per_s) {
  WALLET_ASSERT(capacity_ >= 1 && capacity_ <= bucket_capacity_max);
  WALLET_ASSERT(refill_per_s_ >= 1 && refill_per_s_ <= bucket_refill_per_s_max);
  WALLET_ASSERT(settings.keys_max >= 1 && settings.keys_max <= bucket_keys_max);
  buckets_ = std::make_unique<buckets>(buckets{{settings.keys_max, shards}});
}

token_bucket_limiter::~token_bucket_limiter() = default;

rate_decision token_bucket_limiter::take(std::string_view key,
                                         std::chrono::steady_clock::time_point now) {
  const std::int64_t full = capacity_ * token_units;
  return buckets_->lru.with(
      key,
      [&] {
        return bucket{full, now};
      },
      [&](bucket& b) {
        if (now > b.updated) {
          const std::int64_t elapsed =
              std::chrono::duration_cast<std::chrono::nanoseconds>(now - b.updated).count();
          // Compare before multiplying: a bucket idle for days would overflow elapsed * rate.
          b.level = elapsed >= ceil_div(full - b.level, refill_per_s_)
                        ? full
                        : std::min(full, b.level + elapsed * refill_per_s_);
          b.updated = now;
        }
        rate_decision d;
        d.limit = capacity_;
        d.allowed = b.level >= token_units;
        if (d.allowed) {
          b.level -= token_units;
        } else {
          d.retry_after = std::max(std::chrono::seconds{1},
                                   seconds_until(token_units - b.level, refill_per_s_));
        }
        d.remaining = b.level / token_units;
        d.reset = seconds_until(full - b.level, refill_per_s_);
        return d;
      });
}

std::size_t token_bucket_limiter::keys() const { return buckets_->lru.size(); }

std::unique_ptr<rate_limiter> make_rate_limiter(const bucket_settings& settings) {
  return std::make_unique<token_bucket_limiter>(settings);
}

}  // namespace wallet::auth
