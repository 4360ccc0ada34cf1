// Test support for authentication: signing keys made at test time, tokens signed with them, the
// matching JWK Sets and self-signed TLS certificates. Only for tests and `wallet-token`: walletd
// itself never signs anything.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>
#include <boost/json/object.hpp>

#include "wallet/auth/jwks.hpp"
#include "wallet/engine/result.hpp"

namespace wallet::auth::testing {

struct key_error {
  std::string what;
};

// A private key of the kind RS256 (RSA) or ES256 (EC P-256) signs with.
class signing_key {
 public:
  [[nodiscard]] static signing_key rsa(int bits = 2'048);
  [[nodiscard]] static signing_key ec_p256();
  // A PEM private key (PKCS#8 or traditional) of one of those two kinds.
  [[nodiscard]] static engine::result<signing_key, key_error> from_pem(std::string_view pem);

  [[nodiscard]] std::string private_pem() const;
  [[nodiscard]] jws_alg alg() const noexcept { return alg_; }
  [[nodiscard]] EVP_PKEY* get() const noexcept { return pkey_.get(); }

  // The public half as a JWK: kty, kid, use "sig", alg, and n/e or crv/x/y.
  [[nodiscard]] boost::json::object public_jwk(std::string_view kid) const;

  // The JWS signature of `input` with the key's algorithm (r || s for ES256).
  [[nodiscard]] std::string sign(std::string_view input) const;

 private:
  signing_key(std::shared_ptr<EVP_PKEY> pkey, jws_alg alg) : pkey_(std::move(pkey)), alg_(alg) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  jws_alg alg_;
};

// {"keys": [...]} as text.
[[nodiscard]] std::string jwks_document(const std::vector<boost::json::object>& keys);

// header.payload.signature from the two JSON texts as given (so a test can sign anything).
[[nodiscard]] std::string sign_compact(const signing_key& key, std::string_view header_json,
                                       std::string_view payload_json);

// A token with header {"alg": <the key's>, "typ": "JWT", "kid": kid} (no kid when empty).
[[nodiscard]] std::string sign_token(const signing_key& key, std::string_view kid,
                                     const boost::json::object& claims);

// A self-signed certificate (PEM) for `key` naming `subject_alt_names` (OpenSSL's form), valid
// from an hour ago for a day: a TLS server identity a client can trust by loading it as its CA
// file.
[[nodiscard]] std::string self_signed_certificate(
    const signing_key& key, const std::string& subject_alt_names = "DNS:localhost,IP:127.0.0.1");

}  // namespace wallet::auth::testing
