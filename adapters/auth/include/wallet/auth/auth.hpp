// The contract between the HTTP adapter and authentication: who is calling (a principal with
// roles), why a caller is refused, and the per-key rate limiter. Implementations live in
// adapters/auth.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "wallet/engine/result.hpp"

namespace wallet::auth {

// Roles a token grants, OR-ed into principal::roles. `service` acts on any owner's wallets (a
// back end), like `admin`, but cannot freeze, unfreeze or close.
enum class role : std::uint8_t { read = 1, write = 2, admin = 4, service = 8 };

struct principal {
  std::string subject;     // the token's `sub`: the owner id this caller acts as
  std::uint8_t roles = 0;  // role bits

  [[nodiscard]] bool has(role r) const noexcept {
    return (roles & static_cast<std::uint8_t>(r)) != 0;
  }
};

// Why a request is not authenticated. Every value maps to 401 except keys_unavailable (503).
enum class auth_errc : std::uint8_t {
  missing,                // no Authorization header
  malformed,              // not "Bearer <header>.<payload>.<signature>", or not JSON inside
  unsupported_algorithm,  // alg other than RS256 / ES256 (never "none")
  unknown_key,            // kid not in the key set
  bad_signature,
  expired,        // exp + leeway <= now
  not_yet_valid,  // nbf - leeway > now
  wrong_issuer,
  wrong_audience,
  keys_unavailable,  // the key set could not be loaded or fetched
};

// A stable lower_snake_case word for logs, metrics and problem types.
[[nodiscard]] std::string_view to_string(auth_errc e) noexcept;

// Thread-safe: called concurrently from the HTTP server's threads.
class authenticator {
 public:
  authenticator() = default;
  authenticator(const authenticator&) = delete;
  authenticator& operator=(const authenticator&) = delete;
  authenticator(authenticator&&) = delete;
  authenticator& operator=(authenticator&&) = delete;
  virtual ~authenticator() = default;

  // `authorization` is the Authorization header's value ("Bearer <jwt>"), empty when absent.
  [[nodiscard]] virtual engine::result<principal, auth_errc> authenticate(
      std::string_view authorization, std::chrono::system_clock::time_point now) = 0;
};

// What a rate limiter answers for one request; the HTTP adapter turns it into 429 + headers
// (Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset).
struct rate_decision {
  bool allowed = true;
  std::int64_t limit = 0;               // bucket capacity
  std::int64_t remaining = 0;           // whole tokens left after this request
  std::chrono::seconds retry_after{0};  // when refused: until one token is back (at least 1 s)
  std::chrono::seconds reset{0};        // until the bucket is full again
};

// Token buckets keyed by principal subject or client address; thread-safe; holds a bounded
// number of keys (the least recently used bucket is forgotten past the bound).
class rate_limiter {
 public:
  rate_limiter() = default;
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;
  rate_limiter(rate_limiter&&) = delete;
  rate_limiter& operator=(rate_limiter&&) = delete;
  virtual ~rate_limiter() = default;

  [[nodiscard]] virtual rate_decision take(std::string_view key,
                                           std::chrono::steady_clock::time_point now) = 0;
};

}  // namespace wallet::auth
