// Settings of the authentication adapter, filled by app/ from the configuration (the auth.* and
// rate_limit.* entries of config/include/wallet/config/schema.hpp document each one).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace wallet::auth {

// `off` exists for development only: every request is then the all-roles development principal.
enum class auth_mode : std::uint8_t { jwt, off };

struct jwt_settings {
  auth_mode mode = auth_mode::jwt;
  std::string issuer;    // `iss` must equal it exactly; required in jwt mode
  std::string audience;  // `aud` (a string or an array) must contain it; required in jwt mode

  // Exactly one of the two key sources. The file is re-read like the URL is re-fetched, so a
  // mounted secret or config map can rotate keys without a restart.
  std::string jwks_file;
  std::string jwks_url;      // https://...; http:// only for a loopback host (tests)
  std::string jwks_ca_file;  // PEM trust anchors for the URL; empty: the system's store
  std::chrono::seconds jwks_refresh{300};     // periodic re-fetch
  std::chrono::seconds jwks_refresh_min{30};  // at least this long between two fetches when a
                                              // token names an unknown key (or one failed)
  std::chrono::milliseconds jwks_fetch_timeout{5'000};

  std::chrono::seconds leeway{60};  // clock skew tolerated on exp, nbf and iat
  // Claim holding an array of role names (read, write, admin, service). When no top-level claim
  // has this name and it contains '.', it is taken as a path into nested objects
  // ("realm_access.roles").
  std::string roles_claim = "roles";
  // Tokens remembered after a successful check (by their SHA-256), so that a client reusing its
  // token costs a lookup instead of a signature verification; 0: none. The times are checked at
  // every request, and the cache is ignored once the key set changes.
  std::size_t token_cache_max = 10'000;
};

// One family of token buckets: each key may spend `capacity` requests at once and gets
// `refill_per_s` back every second, up to the capacity again.
struct bucket_settings {
  std::int64_t capacity = 200;
  std::int64_t refill_per_s = 100;
  std::size_t keys_max = 100'000;  // buckets remembered; the least recently used is forgotten
};

// Bounds the limiter accepts (the configuration enforces the same), so that its fixed-point
// arithmetic cannot overflow.
inline constexpr std::int64_t bucket_capacity_max = 1'000'000;
inline constexpr std::int64_t bucket_refill_per_s_max = 1'000'000;
inline constexpr std::size_t bucket_keys_max = 100'000'000;

struct rate_limit_settings {
  bucket_settings principal;                 // keyed by the token's subject
  bucket_settings address{20, 10, 100'000};  // keyed by client address (unauthenticated paths)
};

}  // namespace wallet::auth
