// Bearer token verification: compact JWS parsing, RS256 / ES256 signatures through EVP, and the
// registered claims. Each step answers the first problem it finds with a precise code.
#include "wallet/auth/jwt.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include <boost/json.hpp>

#include "openssl.hpp"
#include "wallet/auth/base64url.hpp"

namespace wallet::auth {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;

// ES256 signatures are r || s, each a 32-byte big-endian integer (RFC 7518 §3.4).
constexpr std::size_t es256_half_bytes = 32;

rejection reject(auth_errc code, std::string detail) { return rejection{code, std::move(detail)}; }

// The three parts of a compact JWS, still encoded, and the signing input they start with.
struct compact_jws {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // header '.' payload
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

// "Bearer <token>": the scheme is case-insensitive (RFC 7235 §2.1), one or more spaces follow it.
engine::result<std::string_view, rejection> token_of(std::string_view authorization) {
  const std::string_view value = trim(authorization);
  if (value.empty()) return reject(auth_errc::missing, "no Authorization header");
  constexpr std::string_view scheme = "Bearer";
  if (iequals(value, scheme)) return reject(auth_errc::malformed, "the Bearer token is empty");
  if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme) ||
      !is_space(value[scheme.size()])) {
    return reject(auth_errc::malformed, "the Authorization scheme is not Bearer");
  }
  const std::string_view token = trim(value.substr(scheme.size()));
  if (token.size() > token_bytes_max) {
    return reject(auth_errc::malformed,
                  "the token is longer than " + std::to_string(token_bytes_max) + " bytes");
  }
  return token;
}

engine::result<compact_jws, rejection> split(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return reject(auth_errc::malformed, "the token is not three '.'-separated parts");
  }
  compact_jws jws{token.substr(0, first), token.substr(first + 1, second - first - 1),
                  token.substr(second + 1), token.substr(0, second)};
  if (jws.header.empty() || jws.payload.empty() || jws.signature.empty()) {
    return reject(auth_errc::malformed, "a part of the token is empty");
  }
  return jws;
}

// A base64url part holding a JSON object.
engine::result<json::object, rejection> json_part(std::string_view encoded, const char* what) {
  const auto text = base64url_decode(encoded);
  if (!text) return reject(auth_errc::malformed, std::string("the ") + what + " is not base64url");
  boost::system::error_code ec;
  // Boost.JSON keeps the last of duplicate names, which RFC 7515 §4 allows a consumer to do.
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) {
    return reject(auth_errc::malformed, std::string("the ") + what + " is not a JSON object");
  }
  return std::move(v.get_object());
}

struct jose_header {
  jws_alg alg = jws_alg::rs256;
  std::string kid;
};

engine::result<jose_header, rejection> read_header(const json::object& h) {
  const json::value* alg = h.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return reject(auth_errc::malformed, "the header has no \"alg\" string");
  }
  const auto parsed = parse_alg(alg->get_string());
  if (!parsed) {
    return reject(auth_errc::unsupported_algorithm,
                  "alg " + std::string(std::string_view(alg->get_string()).substr(0, 16)) +
                      " is not accepted");
  }
  // An extension the sender marks critical must be understood (RFC 7515 §4.1.11); none is.
  if (h.contains("crit")) return reject(auth_errc::malformed, "the header lists \"crit\"");
  jose_header out{*parsed, {}};
  if (const json::value* kid = h.if_contains("kid")) {
    if (!kid->is_string()) return reject(auth_errc::malformed, "\"kid\" is not a string");
    out.kid = kid->get_string();
  }
  return out;
}

// EVP_DigestVerify wants an ECDSA signature as DER, JWS carries r || s.
std::optional<std::string> es256_to_der(std::string_view raw) {
  if (raw.size() != 2 * es256_half_bytes) return std::nullopt;
  const unsigned char* bytes = ossl::bytes(raw);
  ossl::bn_ptr r(BN_bin2bn(bytes, static_cast<int>(es256_half_bytes), nullptr));
  ossl::bn_ptr s(BN_bin2bn(bytes + es256_half_bytes, static_cast<int>(es256_half_bytes), nullptr));
  const ossl::ecdsa_sig_ptr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  static_cast<void>(r.release());  // owned by sig now
  static_cast<void>(s.release());
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(size), '\0');
  unsigned char* out = ossl::bytes(der);
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return std::nullopt;
  return der;
}

bool signature_holds(const public_key& key, std::string_view signing_input,
                     std::string_view signature) {
  std::string der;
  if (key.type == key_type::ec_p256) {
    auto converted = es256_to_der(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  const ossl::md_ctx_ptr ctx(EVP_MD_CTX_new());
  const bool holds = ctx &&
                     EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                             key.pkey.get(), nullptr) == 1 &&
                     EVP_DigestVerify(ctx.get(), ossl::bytes(signature), signature.size(),
                                      ossl::bytes(signing_input), signing_input.size()) == 1;
  // A refused signature leaves errors on this thread's queue; they must not pile up.
  ERR_clear_error();
  return holds;
}

// Which way a fractional NumericDate is rounded to whole seconds: always towards refusing, so
// that exp moves earlier (down) and nbf and iat later (up).
enum class rounding : std::uint8_t { down, up };

// A NumericDate (seconds since the epoch, RFC 7519 §2), whole seconds, saturated to int64.
std::optional<std::int64_t> numeric_date(const json::value& v, rounding r) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return std::numeric_limits<std::int64_t>::max();
  if (!v.is_double()) return std::nullopt;
  const double d = r == rounding::down ? std::floor(v.get_double()) : std::ceil(v.get_double());
  constexpr double edge = 9.2e18;  // inside int64 on both sides
  if (d >= edge) return std::numeric_limits<std::int64_t>::max();
  if (d <= -edge) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(d);
}

// Optional date claim: nothing when absent, an error when present but not a number.
engine::result<std::optional<std::int64_t>, rejection> date_claim(const json::object& claims,
                                                                  std::string_view name,
                                                                  rounding r) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<std::int64_t>{};
  const auto date = numeric_date(*v, r);
  if (!date) {
    return reject(auth_errc::malformed, "\"" + std::string(name) + "\" is not a NumericDate");
  }
  return std::optional<std::int64_t>{date};
}

std::optional<rejection> check_issuer_audience(const json::object& claims, const jwt_settings& s) {
  const json::value* iss = claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->get_string() != s.issuer) {
    return reject(auth_errc::wrong_issuer, "iss is not the configured issuer");
  }
  const json::value* aud = claims.if_contains("aud");
  bool ours = false;
  if (aud != nullptr && aud->is_string()) {
    ours = aud->get_string() == s.audience;
  } else if (aud != nullptr && aud->is_array()) {
    const json::array& list = aud->get_array();
    ours = std::any_of(list.begin(), list.end(), [&](const json::value& a) {
      return a.is_string() && a.get_string() == s.audience;
    });
  }
  if (!ours) return reject(auth_errc::wrong_audience, "aud does not name the configured audience");
  return std::nullopt;
}

// exp is required (a token that never expires is refused); nbf and iat are optional.
engine::result<token_times, rejection> times_of(const json::object& claims) {
  const auto exp = date_claim(claims, "exp", rounding::down);
  const auto nbf = date_claim(claims, "nbf", rounding::up);
  const auto iat = date_claim(claims, "iat", rounding::up);
  for (const auto* claim : {&exp, &nbf, &iat}) {
    if (!*claim) return claim->error();
  }
  if (!exp.value()) return reject(auth_errc::malformed, "the token has no \"exp\"");
  return token_times{*exp.value(), nbf.value(), iat.value()};
}

std::uint8_t role_bit(std::string_view name) {
  if (name == "read") return static_cast<std::uint8_t>(role::read);
  if (name == "write") return static_cast<std::uint8_t>(role::write);
  if (name == "admin") return static_cast<std::uint8_t>(role::admin);
  if (name == "service") return static_cast<std::uint8_t>(role::service);
  return 0;
}

// The claim `name`, or when there is none and the name holds '.', the path it spells.
const json::value* find_claim(const json::object& claims, std::string_view name) {
  if (const json::value* v = claims.if_contains(name)) return v;
  const json::object* at = &claims;
  const json::value* v = nullptr;
  while (at != nullptr && name.find('.') != std::string_view::npos) {
    const std::size_t dot = name.find('.');
    v = at->if_contains(name.substr(0, dot));
    at = v != nullptr ? v->if_object() : nullptr;
    name.remove_prefix(dot + 1);
    if (at != nullptr && name.find('.') == std::string_view::npos) return at->if_contains(name);
  }
  return nullptr;
}

engine::result<std::uint8_t, rejection> roles_from(const json::object& claims,
                                                   std::string_view roles_claim) {
  std::uint8_t roles = 0;
  if (const json::value* v = find_claim(claims, roles_claim)) {
    if (!v->is_array()) return reject(auth_errc::malformed, "the roles claim is not an array");
    for (const json::value& r : v->get_array()) {
      if (!r.is_string()) return reject(auth_errc::malformed, "a role is not a string");
      roles |= role_bit(r.get_string());
    }
  }
  if (const json::value* v = claims.if_contains("scope")) {
    if (!v->is_string()) return reject(auth_errc::malformed, "\"scope\" is not a string");
    std::string_view scopes = v->get_string();
    constexpr std::string_view prefix = "wallet:";
    while (!scopes.empty()) {
      const std::size_t end = std::min(scopes.find(' '), scopes.size());
      const std::string_view scope = scopes.substr(0, end);
      if (scope.starts_with(prefix)) roles |= role_bit(scope.substr(prefix.size()));
      scopes.remove_prefix(std::min(end + 1, scopes.size()));
    }
  }
  return roles;
}

engine::result<principal, rejection> principal_of(const json::object& claims,
                                                  const jwt_settings& s) {
  const json::value* sub = claims.if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->get_string().empty()) {
    return reject(auth_errc::malformed, "the token has no \"sub\" string");
  }
  if (sub->get_string().size() > subject_bytes_max) {
    return reject(auth_errc::malformed,
                  "\"sub\" is longer than " + std::to_string(subject_bytes_max) + " bytes");
  }
  auto roles = roles_from(claims, s.roles_claim);
  if (!roles) return roles.error();
  return principal{std::string(sub->get_string()), roles.value()};
}

engine::result<std::shared_ptr<const public_key>, rejection> key_for(const jose_header& h,
                                                                     const key_lookup& keys) {
  auto key = keys(h.kid, key_type_of(h.alg));
  if (!key) {
    return reject(key.error(), key.error() == auth_errc::unknown_key ? "no key with the token's kid"
                                                                     : "no key set is available");
  }
  // RS256 with an EC key or ES256 with an RSA key: such a signature cannot be the key's.
  if (key.value()->type != key_type_of(h.alg)) {
    return reject(auth_errc::bad_signature,
                  "the key's type does not fit alg " + std::string(name(h.alg)));
  }
  return std::move(key).value();
}

std::int64_t seconds_since_epoch(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

engine::result<std::string_view, rejection> bearer_token(std::string_view authorization) {
  return token_of(authorization);
}

std::optional<rejection> check_times(const token_times& t, std::chrono::seconds leeway,
                                     system_clock::time_point now) {
  const std::int64_t at = seconds_since_epoch(now);
  const std::int64_t skew = leeway.count();
  // Written so that no sum can overflow: exp + leeway <= now, nbf - leeway > now.
  if (t.exp <= at - skew) return reject(auth_errc::expired, "exp has passed");
  if (t.nbf && *t.nbf > at + skew) return reject(auth_errc::not_yet_valid, "nbf is still ahead");
  if (t.iat && *t.iat > at + skew) return reject(auth_errc::not_yet_valid, "iat is in the future");
  return std::nullopt;
}

engine::result<verified_token, rejection> verify_jws(std::string_view token,
                                                     const jwt_settings& settings,
                                                     const key_lookup& keys,
                                                     system_clock::time_point now) {
  const auto jws = split(token);
  if (!jws) return jws.error();
  const auto header_json = json_part(jws.value().header, "header");
  if (!header_json) return header_json.error();
  const auto header = read_header(header_json.value());
  if (!header) return header.error();
  const auto signature = base64url_decode(jws.value().signature);
  if (!signature) return reject(auth_errc::malformed, "the signature is not base64url");
  const auto key = key_for(header.value(), keys);
  if (!key) return key.error();
  if (!signature_holds(*key.value(), jws.value().signing_input, *signature)) {
    return reject(auth_errc::bad_signature, "the signature does not verify");
  }
  const auto claims = json_part(jws.value().payload, "payload");
  if (!claims) return claims.error();
  if (auto refused = check_issuer_audience(claims.value(), settings)) return std::move(*refused);
  auto times = times_of(claims.value());
  if (!times) return times.error();
  if (auto refused = check_times(times.value(), settings.leeway, now)) return std::move(*refused);
  auto who = principal_of(claims.value(), settings);
  if (!who) return who.error();
  return verified_token{std::move(who).value(), times.value()};
}

engine::result<principal, rejection> verify_token(std::string_view authorization,
                                                  const jwt_settings& settings,
                                                  const key_lookup& keys,
                                                  system_clock::time_point now) {
  const auto token = token_of(authorization);
  if (!token) return token.error();
  auto verified = verify_jws(token.value(), settings, keys, now);
  if (!verified) return verified.error();
  return std::move(verified).value().who;
}

}  // namespace wallet::auth
