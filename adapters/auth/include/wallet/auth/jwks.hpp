// Public keys of a JSON Web Key Set (RFC 7517) as OpenSSL keys: RSA (n, e) and EC P-256 (x, y),
// the key types of RS256 and ES256. Keys of other types or uses are skipped, not errors: an
// issuer's set may carry keys meant for others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "wallet/engine/result.hpp"

namespace wallet::auth {

// Bounds on what a key set may hold: a document past them is refused as a whole.
inline constexpr std::size_t jwks_bytes_max = 1'048'576;
inline constexpr std::size_t jwks_keys_max = 64;
// RSA keys shorter than this are skipped (RFC 7518 §3.3 requires 2048 bits for RS256).
inline constexpr int rsa_bits_min = 2'048;
// RSA keys longer than this are skipped: verifying with them costs more than any issuer needs.
inline constexpr int rsa_bits_max = 8'192;
// RSA public exponents longer than this are refused (65537 has 17 bits).
inline constexpr int rsa_exponent_bits_max = 32;

// The signature algorithms accepted; a token naming any other is refused.
enum class jws_alg : std::uint8_t { rs256, es256 };
[[nodiscard]] std::string_view name(jws_alg a) noexcept;
[[nodiscard]] std::optional<jws_alg> parse_alg(std::string_view text) noexcept;

enum class key_type : std::uint8_t { rsa, ec_p256 };
// The one key type that can verify `a`.
[[nodiscard]] key_type key_type_of(jws_alg a) noexcept;

struct public_key {
  std::string kid;  // empty when the JWK has none
  key_type type = key_type::rsa;
  std::shared_ptr<EVP_PKEY> pkey;  // immutable once built; OpenSSL allows concurrent verifies
};

struct key_set {
  std::vector<public_key> keys;

  // The key called `kid`; with an empty `kid` (a token without one), the only key of `type`.
  [[nodiscard]] const public_key* find(std::string_view kid, key_type type) const noexcept;
  // Any key called `kid`, whatever its type.
  [[nodiscard]] const public_key* find(std::string_view kid) const noexcept;
};

struct parsed_jwks {
  key_set set;
  std::vector<std::string> skipped;  // one line per key left out, saying why
};

// A JWK Set document. An error (one line) when it is not a JSON object with a "keys" array, is
// larger than jwks_bytes_max, lists more than jwks_keys_max keys, holds a malformed key of a
// supported type, repeats a kid, or yields no usable key.
[[nodiscard]] engine::result<parsed_jwks, std::string> parse_jwks(std::string_view text);

}  // namespace wallet::auth
