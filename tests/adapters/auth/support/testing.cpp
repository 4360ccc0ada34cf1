// Test-side signing with OpenSSL 3 (EVP), mirroring what an issuer does.
#include "wallet/auth/testing.hpp"

#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/json.hpp>

#include "wallet/auth/base64url.hpp"

namespace wallet::auth::testing {
namespace {

namespace json = boost::json;
constexpr int p256_coordinate_bytes = 32;

// Test support may throw: a failure here is a broken test environment, not a case under test.
[[noreturn]] void fail(const char* what) { throw std::runtime_error(what); }

struct bio_free {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;

// OpenSSL takes bytes as unsigned char; a string's chars are the same bytes.
const unsigned char* bytes(std::string_view s) {
  return static_cast<const unsigned char*>(static_cast<const void*>(s.data()));
}
unsigned char* bytes(std::string& s) {
  return static_cast<unsigned char*>(static_cast<void*>(s.data()));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(cppcoreguidelines-pro-type-cstyle-cast)
  return {data, static_cast<std::size_t>(size)};
}

std::string bignum_bytes(EVP_PKEY* pkey, const char* param, int pad_to) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) fail("EVP_PKEY_get_bn_param");
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  const int written = BN_bn2binpad(bn, bytes(out), size);
  BN_free(bn);
  if (written != size) fail("BN_bn2binpad");
  return out;
}

std::shared_ptr<EVP_PKEY> owned(EVP_PKEY* p) {
  if (p == nullptr) fail("no key");
  return {p, EVP_PKEY_free};
}

// DER ECDSA-Sig-Value to r || s, each padded to 32 bytes.
std::string der_to_raw(const std::string& der) {
  const unsigned char* p = bytes(der);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) fail("d2i_ECDSA_SIG");
  std::string raw(std::size_t{2} * p256_coordinate_bytes, '\0');
  unsigned char* out = bytes(raw);
  const bool ok =
      BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, p256_coordinate_bytes) == p256_coordinate_bytes &&
      BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + p256_coordinate_bytes, p256_coordinate_bytes) ==
          p256_coordinate_bytes;
  ECDSA_SIG_free(sig);
  if (!ok) fail("BN_bn2binpad");
  return raw;
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);  // NOLINT(cppcoreguidelines-pro-type-cstyle-cast)
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) fail("X509_add_ext");
  X509_EXTENSION_free(ext);
}

}  // namespace

signing_key signing_key::rsa(int bits) {
  return {owned(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits))),
          jws_alg::rs256};
}

signing_key signing_key::ec_p256() {
  return {owned(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")), jws_alg::es256};
}

engine::result<signing_key, key_error> signing_key::from_pem(std::string_view pem) {
  const bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (pkey == nullptr) return key_error{"not a PEM private key"};
  auto shared = owned(pkey);
  if (EVP_PKEY_is_a(pkey, "RSA") == 1) return signing_key(shared, jws_alg::rs256);
  char group[32] = {};
  std::size_t length = 0;
  if (EVP_PKEY_is_a(pkey, "EC") == 1 &&
      EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &length) == 1 &&
      std::string_view(group, length) == "prime256v1") {
    return signing_key(shared, jws_alg::es256);
  }
  return key_error{"the key is neither RSA nor EC P-256"};
}

std::string signing_key::private_pem() const {
  const bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    fail("PEM_write_bio_PrivateKey");
  }
  return bio_text(bio.get());
}

json::object signing_key::public_jwk(std::string_view kid) const {
  json::object jwk;
  if (alg_ == jws_alg::rs256) {
    jwk["kty"] = "RSA";
    jwk["n"] = base64url_encode(bignum_bytes(pkey_.get(), OSSL_PKEY_PARAM_RSA_N, 0));
    jwk["e"] = base64url_encode(bignum_bytes(pkey_.get(), OSSL_PKEY_PARAM_RSA_E, 0));
  } else {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = base64url_encode(
        bignum_bytes(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_X, p256_coordinate_bytes));
    jwk["y"] = base64url_encode(
        bignum_bytes(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, p256_coordinate_bytes));
  }
  if (!kid.empty()) jwk["kid"] = kid;
  jwk["use"] = "sig";
  jwk["alg"] = name(alg_);
  return jwk;
}

std::string signing_key::sign(std::string_view input) const {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const unsigned char* data = bytes(input);
  std::size_t size = 0;
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, pkey_.get(), nullptr) !=
          1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, data, input.size()) != 1) {
    fail("EVP_DigestSign");
  }
  std::string sig(size, '\0');
  if (EVP_DigestSign(ctx.get(), bytes(sig), &size, data, input.size()) != 1) {
    fail("EVP_DigestSign");
  }
  sig.resize(size);
  return alg_ == jws_alg::es256 ? der_to_raw(sig) : sig;
}

std::string jwks_document(const std::vector<json::object>& keys) {
  json::array list;
  for (const json::object& k : keys) list.emplace_back(k);
  return json::serialize(json::object{{"keys", std::move(list)}});
}

std::string sign_compact(const signing_key& key, std::string_view header_json,
                         std::string_view payload_json) {
  std::string input = base64url_encode(header_json);
  input.append(".").append(base64url_encode(payload_json));
  const std::string signature = base64url_encode(key.sign(input));
  return input.append(".").append(signature);
}

std::string sign_token(const signing_key& key, std::string_view kid, const json::object& claims) {
  json::object header{{"alg", name(key.alg())}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  return sign_compact(key, json::serialize(header), json::serialize(claims));
}

std::string self_signed_certificate(const signing_key& key, const std::string& subject_alt_names) {
  std::unique_ptr<X509, void (*)(X509*)> cert(X509_new(), X509_free);
  constexpr long hour_s = 3'600;
  constexpr long day_s = 86'400;
  if (!cert || X509_set_version(cert.get(), 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -hour_s) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), day_s) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    fail("X509 fields");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const unsigned char* cn = bytes(std::string_view("localhost"));
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), subject) != 1) {
    fail("X509 names");
  }
  add_extension(cert.get(), NID_subject_alt_name, subject_alt_names.c_str());
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign");
  const bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) fail("PEM_write_bio_X509");
  return bio_text(bio.get());
}

}  // namespace wallet::auth::testing
