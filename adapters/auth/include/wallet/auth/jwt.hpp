// Verification of one bearer token (a JWS in compact form, RFC 7515/7519) against a key lookup
// and the issuer's settings: the pure part of the authenticator, free of fetching and caching.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wallet/auth/auth.hpp"
#include "wallet/auth/jwks.hpp"
#include "wallet/auth/settings.hpp"
#include "wallet/engine/result.hpp"

namespace wallet::auth {

// Longest token accepted (the whole compact JWS). Real access tokens are a few hundred bytes to
// a few kilobytes; the bound keeps decoding and JSON parsing of hostile input small.
inline constexpr std::size_t token_bytes_max = 8'192;
// Longest `sub` accepted.
inline constexpr std::size_t subject_bytes_max = 256;

// Why a token was refused: the code the caller answers with, and a detail for the log line
// (never the token, never its subject).
struct rejection {
  auth_errc code = auth_errc::malformed;
  std::string detail;
};

// The key a token names: by `kid` (any type: verify_token checks the type against alg), or with
// an empty `kid` the only key of `type`. Errors: unknown_key, keys_unavailable.
using key_lookup = std::function<engine::result<std::shared_ptr<const public_key>, auth_errc>(
    std::string_view kid, key_type type)>;

// A token's validity period: exp (required), nbf and iat (optional), in seconds since the epoch.
struct token_times {
  std::int64_t exp = 0;
  std::optional<std::int64_t> nbf;
  std::optional<std::int64_t> iat;
};

// What a valid token says: who is calling, and until when the token holds.
struct verified_token {
  principal who;
  token_times times;
};

// The token of an Authorization header value "Bearer <token>" (the scheme is case-insensitive).
// Errors: missing (empty), malformed (another scheme, no token, or longer than token_bytes_max).
[[nodiscard]] engine::result<std::string_view, rejection> bearer_token(
    std::string_view authorization);

// Refused when exp + leeway <= now (expired), nbf - leeway > now or iat - leeway > now
// (not_yet_valid); the leeway absorbs clock skew between the issuer and this host.
[[nodiscard]] std::optional<rejection> check_times(const token_times& times,
                                                   std::chrono::seconds leeway,
                                                   std::chrono::system_clock::time_point now);

// Checks a compact JWS token as verify_token does, after the header's form.
[[nodiscard]] engine::result<verified_token, rejection> verify_jws(
    std::string_view token, const jwt_settings& settings, const key_lookup& keys,
    std::chrono::system_clock::time_point now);

// Checks an Authorization header value ("Bearer <jwt>") in this order: form, header (alg RS256 or
// ES256, no "crit"), key, signature, then the claims: iss, aud, exp, nbf, iat, sub, roles. The
// claims are read only from a token whose signature holds.
//
// Roles: the names read, write, admin and service in the array claim `settings.roles_claim`,
// OR-ed with the scopes wallet:read, wallet:write, wallet:admin and wallet:service of the
// space-separated "scope" claim. Other names are ignored (a token may carry roles for other
// services); a token with none of ours is valid and has no roles (the HTTP adapter answers 403).
// A roles claim that is not an array of strings, or a scope that is not a string, is malformed.
[[nodiscard]] engine::result<principal, rejection> verify_token(
    std::string_view authorization, const jwt_settings& settings, const key_lookup& keys,
    std::chrono::system_clock::time_point now);

}  // namespace wallet::auth
