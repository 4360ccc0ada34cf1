// JWK Set parsing: each usable key becomes an EVP_PKEY built from its parameters
// (EVP_PKEY_fromdata), so the rest of the adapter verifies through EVP alone.
#include "wallet/auth/jwks.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <openssl/core_names.h>
#include <boost/json.hpp>

#include "openssl.hpp"
#include "wallet/auth/base64url.hpp"

namespace wallet::auth {
namespace {

namespace json = boost::json;

// P-256 coordinates are 32 bytes; a public point is 0x04 || x || y (SEC 1, uncompressed).
constexpr std::size_t p256_coordinate_bytes = 32;
constexpr unsigned char uncompressed_point = 0x04;

using key_result = engine::result<public_key, std::string>;

std::optional<std::string_view> string_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

struct member_error {
  std::string what;
};

// A base64url member holding at least one byte.
engine::result<std::string, member_error> bytes_member(const json::object& o,
                                                       std::string_view name) {
  const auto text = string_member(o, name);
  if (!text) return member_error{"\"" + std::string(name) + "\" is missing or not a string"};
  auto bytes = base64url_decode(*text);
  if (!bytes || bytes->empty()) {
    return member_error{"\"" + std::string(name) + "\" is not non-empty base64url"};
  }
  return std::move(*bytes);
}

ossl::bn_ptr to_bignum(const std::string& big_endian) {
  return ossl::bn_ptr(
      BN_bin2bn(ossl::bytes(big_endian), static_cast<int>(big_endian.size()), nullptr));
}

engine::result<ossl::pkey_ptr, std::string> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  const ossl::params_ptr params(OSSL_PARAM_BLD_to_param(bld));
  const ossl::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::last_error("the key parameters are refused");
  }
  return ossl::pkey_ptr(pkey);
}

engine::result<ossl::pkey_ptr, std::string> rsa_key(const json::object& jwk) {
  auto n = bytes_member(jwk, "n");
  if (!n) return n.error().what;
  auto e = bytes_member(jwk, "e");
  if (!e) return e.error().what;
  const ossl::bn_ptr n_bn = to_bignum(n.value());
  const ossl::bn_ptr e_bn = to_bignum(e.value());
  if (!n_bn || !e_bn) return ossl::last_error("out of memory");
  // A public exponent is odd and at least 3; anything else is a corrupt or hostile key. A huge
  // one makes every verification slow (the cost grows with its size): issuers use 65537.
  if (BN_is_odd(e_bn.get()) == 0 || BN_is_one(e_bn.get()) == 1) {
    return std::string("\"e\" is not an odd exponent above 1");
  }
  if (BN_num_bits(e_bn.get()) > rsa_exponent_bits_max) {
    return "\"e\" is longer than " + std::to_string(rsa_exponent_bits_max) + " bits";
  }
  const ossl::param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return ossl::last_error("out of memory");
  }
  auto pkey = from_params("RSA", bld.get());
  if (!pkey) return pkey.error();
  // OpenSSL's public-key check (SP 800-56B): an odd modulus, composite and not a prime power,
  // with no small factor. A key failing it cannot be an issuer's real key.
  const ossl::pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.value().get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return std::string("not a valid RSA public key: ")
        .append(ossl::last_error("the public key check failed"));
  }
  return std::move(pkey).value();
}

engine::result<ossl::pkey_ptr, std::string> ec_key(const json::object& jwk) {
  auto x = bytes_member(jwk, "x");
  if (!x) return x.error().what;
  auto y = bytes_member(jwk, "y");
  if (!y) return y.error().what;
  if (x.value().size() != p256_coordinate_bytes || y.value().size() != p256_coordinate_bytes) {
    return std::string(R"("x" and "y" must be 32 bytes each)");
  }
  std::string point(1, static_cast<char>(uncompressed_point));
  point.append(x.value()).append(y.value());
  const ossl::param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return ossl::last_error("out of memory");
  }
  auto pkey = from_params("EC", bld.get());
  if (!pkey) return std::string("not a point of P-256: ").append(pkey.error());
  // A point off the curve would make verification meaningless: check it explicitly.
  const ossl::pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.value().get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return std::string("not a point of P-256: ").append(ossl::last_error("check failed"));
  }
  return std::move(pkey).value();
}

std::string describe(std::size_t index, std::string_view kid) {
  std::string s = "key ";
  s.append(std::to_string(index));
  if (!kid.empty()) s.append(" (kid \"").append(kid).append("\")");
  return s;
}

// One JWK: a key, or nothing with the reason it was skipped, or an error for the whole set.
struct key_outcome {
  std::optional<public_key> key;
  std::string skipped;
};

engine::result<key_outcome, std::string> parse_key(const json::value& v, std::size_t index) {
  if (!v.is_object()) return describe(index, "") + ": not a JSON object";
  const json::object& jwk = v.get_object();
  const json::value* kid_value = jwk.if_contains("kid");
  if (kid_value != nullptr && !kid_value->is_string()) {
    return describe(index, "") + ": \"kid\" is not a string";
  }
  const std::string kid = kid_value != nullptr ? std::string(kid_value->get_string()) : "";
  const std::string who = describe(index, kid);
  const auto kty = string_member(jwk, "kty");
  if (!kty) return who + ": \"kty\" is missing or not a string";
  // What the key is for: "use" absent or "sig", "key_ops" absent or listing "verify". A member
  // of the wrong JSON type says nothing reliable about the key, so the key is not used either.
  if (const json::value* use = jwk.if_contains("use")) {
    if (!use->is_string()) return key_outcome{std::nullopt, who + ": \"use\" is not a string"};
    if (use->get_string() != "sig") return key_outcome{std::nullopt, who + ": use is not sig"};
  }
  if (const json::value* ops = jwk.if_contains("key_ops")) {
    const json::array* list = ops->if_array();
    if (list == nullptr || !std::all_of(list->begin(), list->end(),
                                        [](const json::value& op) { return op.is_string(); })) {
      return key_outcome{std::nullopt, who + ": \"key_ops\" is not an array of strings"};
    }
    if (std::none_of(list->begin(), list->end(),
                     [](const json::value& op) { return op.get_string() == "verify"; })) {
      return key_outcome{std::nullopt, who + ": key_ops does not list verify"};
    }
  }
  key_type type = key_type::rsa;
  if (*kty == "RSA") {
    type = key_type::rsa;
  } else if (*kty == "EC") {
    const auto crv = string_member(jwk, "crv");
    if (!crv) return who + ": \"crv\" is missing or not a string";
    if (*crv != "P-256") {
      return key_outcome{std::nullopt, who + ": curve " + std::string(*crv) + " is not used"};
    }
    type = key_type::ec_p256;
  } else {
    return key_outcome{std::nullopt, who + ": key type " + std::string(*kty) + " is not used"};
  }
  // A key bound to another algorithm (RS512, PS256, ...) must not verify RS256 or ES256 tokens.
  if (const json::value* alg_value = jwk.if_contains("alg")) {
    if (!alg_value->is_string()) {
      return key_outcome{std::nullopt, who + ": \"alg\" is not a string"};
    }
    const std::string_view alg = alg_value->get_string();
    const auto parsed = parse_alg(alg);
    if (!parsed || key_type_of(*parsed) != type) {
      return key_outcome{std::nullopt, who + ": alg " + std::string(alg) + " is not used"};
    }
  }
  auto pkey = type == key_type::rsa ? rsa_key(jwk) : ec_key(jwk);
  if (!pkey) return who + ": " + pkey.error();
  if (type == key_type::rsa) {
    const int bits = EVP_PKEY_get_bits(pkey.value().get());
    if (bits < rsa_bits_min || bits > rsa_bits_max) {
      return key_outcome{
          std::nullopt, who + ": RSA key of " + std::to_string(bits) + " bits, outside 2048..8192"};
    }
  }
  std::shared_ptr<EVP_PKEY> shared(std::move(pkey).value().release(), ossl::pkey_free{});
  return key_outcome{public_key{kid, type, std::move(shared)}, {}};
}

}  // namespace

std::string_view name(jws_alg a) noexcept { return a == jws_alg::rs256 ? "RS256" : "ES256"; }

std::optional<jws_alg> parse_alg(std::string_view text) noexcept {
  if (text == "RS256") return jws_alg::rs256;
  if (text == "ES256") return jws_alg::es256;
  return std::nullopt;
}

key_type key_type_of(jws_alg a) noexcept {
  return a == jws_alg::rs256 ? key_type::rsa : key_type::ec_p256;
}

const public_key* key_set::find(std::string_view kid, key_type type) const noexcept {
  if (!kid.empty()) return find(kid);
  const public_key* only = nullptr;
  for (const public_key& k : keys) {
    if (k.type != type) continue;
    if (only != nullptr) return nullptr;  // ambiguous without a kid
    only = &k;
  }
  return only;
}

const public_key* key_set::find(std::string_view kid) const noexcept {
  const auto it = std::find_if(keys.begin(), keys.end(),
                               [&](const public_key& k) { return !k.kid.empty() && k.kid == kid; });
  return it == keys.end() ? nullptr : &*it;
}

engine::result<parsed_jwks, std::string> parse_jwks(std::string_view text) {
  if (text.size() > jwks_bytes_max) {
    return "the key set is larger than " + std::to_string(jwks_bytes_max) + " bytes";
  }
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) return "the key set is not JSON: " + ec.message();
  const json::array* keys = doc.is_object() && doc.get_object().contains("keys")
                                ? doc.get_object().at("keys").if_array()
                                : nullptr;
  if (keys == nullptr) return std::string("the key set has no \"keys\" array");
  if (keys->size() > jwks_keys_max) {
    return "the key set lists more than " + std::to_string(jwks_keys_max) + " keys";
  }
  parsed_jwks out;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    auto parsed = parse_key((*keys)[i], i);
    if (!parsed) return parsed.error();
    key_outcome outcome = std::move(parsed).value();
    if (!outcome.key) {
      out.skipped.push_back(std::move(outcome.skipped));
      continue;
    }
    public_key& key = *outcome.key;
    if (!key.kid.empty() && out.set.find(key.kid) != nullptr) {
      return describe(i, key.kid) + ": the kid is used by an earlier key";
    }
    out.set.keys.push_back(std::move(key));
  }
  if (out.set.keys.empty()) return std::string("the key set holds no usable RSA or P-256 key");
  return out;
}

}  // namespace wallet::auth
