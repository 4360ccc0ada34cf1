// verify_token against keys made and tokens signed in the test: every way a bearer token can be
// refused, and what a valid one grants.
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <boost/json.hpp>

#include "wallet/auth/base64url.hpp"
#include "wallet/auth/jwt.hpp"
#include "wallet/auth/testing.hpp"

namespace wallet::auth {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using testing::signing_key;

const signing_key& rsa_key() {
  static const signing_key key = signing_key::rsa();
  return key;
}
const signing_key& ec_key() {
  static const signing_key key = signing_key::ec_p256();
  return key;
}
const signing_key& other_rsa_key() {
  static const signing_key key = signing_key::rsa();
  return key;
}

constexpr std::int64_t now_s = 1'900'000'000;
constexpr std::chrono::system_clock::time_point now{seconds{now_s}};

jwt_settings settings() {
  jwt_settings s;
  s.issuer = "https://issuer.test/realms/wallet";
  s.audience = "wallet-api";
  s.leeway = seconds{60};
  return s;
}

json::object claims() {
  return {{"iss", "https://issuer.test/realms/wallet"},
          {"aud", "wallet-api"},
          {"sub", "owner-1"},
          {"iat", now_s - 10},
          {"exp", now_s + 300},
          {"roles", json::array{"read", "write"}}};
}

class token_check : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = parse_jwks(
        testing::jwks_document({rsa_key().public_jwk("rsa-1"), ec_key().public_jwk("ec-1")}));
    ASSERT_TRUE(parsed) << parsed.error();
    set_ = std::make_shared<key_set>(std::move(parsed).value().set);
  }

  engine::result<principal, rejection> verify(const std::string& token,
                                              const jwt_settings& s = settings()) {
    return verify_header("Bearer " + token, s);
  }
  engine::result<principal, rejection> verify_header(const std::string& header,
                                                     const jwt_settings& s = settings()) {
    const key_lookup lookup =
        [this](std::string_view kid,
               key_type type) -> engine::result<std::shared_ptr<const public_key>, auth_errc> {
      const public_key* k = set_->find(kid, type);
      if (k == nullptr) return auth_errc::unknown_key;
      return std::shared_ptr<const public_key>(set_, k);
    };
    return verify_token(header, s, lookup, now);
  }
  auth_errc refused(const std::string& token, const jwt_settings& s = settings()) {
    auto r = verify(token, s);
    EXPECT_FALSE(r) << "accepted";
    return r ? auth_errc::missing : r.error().code;
  }

  std::shared_ptr<key_set> set_;
};

std::uint8_t bits(std::initializer_list<role> roles) {
  unsigned out = 0;
  for (const role r : roles) out |= static_cast<unsigned>(r);
  return static_cast<std::uint8_t>(out);
}

TEST_F(token_check, AcceptsAValidRs256Token) {
  const auto r = verify(testing::sign_token(rsa_key(), "rsa-1", claims()));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r.value().subject, "owner-1");
  EXPECT_EQ(r.value().roles, bits({role::read, role::write}));
  EXPECT_TRUE(r.value().has(role::write));
  EXPECT_FALSE(r.value().has(role::admin));
}

TEST_F(token_check, AcceptsAValidEs256Token) {
  const auto r = verify(testing::sign_token(ec_key(), "ec-1", claims()));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r.value().subject, "owner-1");
}

TEST_F(token_check, TheBearerSchemeIsCaseInsensitiveAndSpacesAroundAreIgnored) {
  const std::string token = testing::sign_token(rsa_key(), "rsa-1", claims());
  EXPECT_TRUE(verify_header("bearer " + token));
  EXPECT_TRUE(verify_header("  BEARER   " + token + "  "));
}

TEST_F(token_check, NoHeaderIsMissing) {
  EXPECT_EQ(verify_header("").error().code, auth_errc::missing);
  EXPECT_EQ(verify_header("   ").error().code, auth_errc::missing);
}

TEST_F(token_check, AnotherSchemeIsMalformed) {
  const std::string token = testing::sign_token(rsa_key(), "rsa-1", claims());
  EXPECT_EQ(verify_header("Basic dXNlcjpwYXNz").error().code, auth_errc::malformed);
  EXPECT_EQ(verify_header(token).error().code, auth_errc::malformed);  // no scheme at all
  EXPECT_EQ(verify_header("Bearer").error().code, auth_errc::malformed);
  EXPECT_EQ(verify_header("Bearer   ").error().code, auth_errc::malformed);
  EXPECT_EQ(verify_header("Bearertoken").error().code, auth_errc::malformed);
}

TEST_F(token_check, NotThreePartsIsMalformed) {
  const std::string token = testing::sign_token(rsa_key(), "rsa-1", claims());
  EXPECT_EQ(refused(token.substr(0, token.rfind('.'))), auth_errc::malformed);
  EXPECT_EQ(refused(token + ".x"), auth_errc::malformed);
  EXPECT_EQ(refused(token.substr(0, token.rfind('.') + 1)), auth_errc::malformed);  // no sig
}

TEST_F(token_check, ATooLongTokenIsMalformed) {
  json::object c = claims();
  c["padding"] = std::string(token_bytes_max, 'x');
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
}

TEST_F(token_check, BadBase64IsMalformed) {
  const std::string token = testing::sign_token(rsa_key(), "rsa-1", claims());
  const std::size_t dot = token.find('.');
  EXPECT_EQ(refused(token.substr(0, dot) + "=" + token.substr(dot)), auth_errc::malformed);
  std::string plus = token;
  plus[1] = '+';  // standard base64, not base64url
  EXPECT_EQ(refused(plus), auth_errc::malformed);
  EXPECT_EQ(refused(token + "*"), auth_errc::malformed);  // in the signature
}

TEST_F(token_check, BadJsonIsMalformedEvenWhenSigned) {
  const std::string good_header = R"({"alg":"RS256","kid":"rsa-1"})";
  const std::string good_payload = json::serialize(claims());
  EXPECT_EQ(refused(testing::sign_compact(rsa_key(), "{not json", good_payload)),
            auth_errc::malformed);
  EXPECT_EQ(refused(testing::sign_compact(rsa_key(), good_header, "{\"sub\":")),
            auth_errc::malformed);
  EXPECT_EQ(refused(testing::sign_compact(rsa_key(), good_header, "[1,2]")), auth_errc::malformed);
  EXPECT_EQ(refused(testing::sign_compact(rsa_key(), R"({"kid":"rsa-1"})", good_payload)),
            auth_errc::malformed);  // no alg
}

TEST_F(token_check, AlgNoneIsRefused) {
  const std::string payload = json::serialize(claims());
  const std::string unsigned_token =
      base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(payload) + ".";
  EXPECT_EQ(refused(unsigned_token), auth_errc::malformed);  // the empty signature part
  EXPECT_EQ(refused(unsigned_token + "AAAA"), auth_errc::unsupported_algorithm);
  EXPECT_EQ(refused(testing::sign_compact(rsa_key(), R"({"alg":"None","kid":"rsa-1"})", payload)),
            auth_errc::unsupported_algorithm);
}

// The classic key-confusion attack: HS256 keyed with the issuer's public key, which is no secret.
TEST_F(token_check, Hs256IsRefusedEvenKeyedWithThePublicKey) {
  const std::string header = base64url_encode(R"({"alg":"HS256","kid":"rsa-1"})");
  const std::string input = header + "." + base64url_encode(json::serialize(claims()));
  const std::string secret = json::serialize(rsa_key().public_jwk("rsa-1"));
  const std::vector<unsigned char> data(input.begin(), input.end());
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_size = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      data.data(), data.size(), mac.data(), mac.size(), &mac_size),
            nullptr);
  const std::string mac_bytes(mac.begin(), mac.begin() + static_cast<std::ptrdiff_t>(mac_size));
  const std::string token = input + "." + base64url_encode(mac_bytes);
  EXPECT_EQ(refused(token), auth_errc::unsupported_algorithm);
  for (const char* alg : {"HS384", "HS512", "RS512", "PS256", "ES384", "EdDSA"}) {
    const std::string h = std::string(R"({"alg":")") + alg + R"(","kid":"rsa-1"})";
    EXPECT_EQ(refused(testing::sign_compact(rsa_key(), h, json::serialize(claims()))),
              auth_errc::unsupported_algorithm)
        << alg;
  }
}

TEST_F(token_check, AnAlgThatDoesNotFitTheKeyIsABadSignature) {
  const std::string payload = json::serialize(claims());
  // Signed correctly by the EC key, but naming the RSA key: must not verify.
  EXPECT_EQ(refused(testing::sign_compact(ec_key(), R"({"alg":"ES256","kid":"rsa-1"})", payload)),
            auth_errc::bad_signature);
  EXPECT_EQ(refused(testing::sign_compact(rsa_key(), R"({"alg":"RS256","kid":"ec-1"})", payload)),
            auth_errc::bad_signature);
}

TEST_F(token_check, AnUnknownKidIsUnknownKey) {
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-2", claims())), auth_errc::unknown_key);
}

TEST_F(token_check, WithoutAKidTheOnlyKeyOfTheTypeIsUsed) {
  EXPECT_TRUE(verify(testing::sign_token(rsa_key(), "", claims())));
  EXPECT_TRUE(verify(testing::sign_token(ec_key(), "", claims())));
  // Two RSA keys: which one is meant cannot be known.
  auto parsed = parse_jwks(
      testing::jwks_document({rsa_key().public_jwk("rsa-1"), other_rsa_key().public_jwk("rsa-2")}));
  ASSERT_TRUE(parsed);
  set_ = std::make_shared<key_set>(std::move(parsed).value().set);
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "", claims())), auth_errc::unknown_key);
}

TEST_F(token_check, ATamperedPayloadIsABadSignature) {
  for (const signing_key* key : {&rsa_key(), &ec_key()}) {
    const std::string kid = key == &rsa_key() ? "rsa-1" : "ec-1";
    const std::string token = testing::sign_token(*key, kid, claims());
    json::object forged = claims();
    forged["roles"] = json::array{"admin"};
    const std::size_t first = token.find('.');
    const std::size_t second = token.rfind('.');
    const std::string tampered = token.substr(0, first + 1) +
                                 base64url_encode(json::serialize(forged)) + token.substr(second);
    EXPECT_EQ(refused(tampered), auth_errc::bad_signature) << kid;
  }
}

TEST_F(token_check, ASignatureByAnotherKeyIsABadSignature) {
  EXPECT_EQ(refused(testing::sign_token(other_rsa_key(), "rsa-1", claims())),
            auth_errc::bad_signature);
}

TEST_F(token_check, AnEs256SignatureOfTheWrongLengthIsABadSignature) {
  const std::string token = testing::sign_token(ec_key(), "ec-1", claims());
  const std::size_t second = token.rfind('.');
  auto raw = base64url_decode(token.substr(second + 1));
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->size(), 64U);
  EXPECT_EQ(refused(token.substr(0, second + 1) + base64url_encode(raw->substr(1))),
            auth_errc::bad_signature);
  EXPECT_EQ(refused(token.substr(0, second + 1) + base64url_encode(*raw + '\0')),
            auth_errc::bad_signature);
}

TEST_F(token_check, ExpiryHonoursTheLeeway) {
  json::object c = claims();
  c["exp"] = now_s - 61;
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::expired);
  c["exp"] = now_s - 60;  // exp + leeway <= now
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::expired);
  c["exp"] = now_s - 59;  // within the leeway
  EXPECT_TRUE(verify(testing::sign_token(rsa_key(), "rsa-1", c)));
  c["exp"] = static_cast<double>(now_s) - 59.5;  // a fractional NumericDate
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::expired);
  jwt_settings strict = settings();
  strict.leeway = seconds{0};
  c["exp"] = now_s + 1;
  EXPECT_TRUE(verify(testing::sign_token(rsa_key(), "rsa-1", c), strict));
  c["exp"] = now_s;
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c), strict), auth_errc::expired);
}

TEST_F(token_check, ExpIsRequiredAndMustBeANumber) {
  json::object c = claims();
  c.erase("exp");
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
  c["exp"] = std::to_string(now_s + 300);
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
}

TEST_F(token_check, NotBeforeHonoursTheLeeway) {
  json::object c = claims();
  c["nbf"] = now_s + 61;
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::not_yet_valid);
  c["nbf"] = now_s + 60;  // nbf - leeway == now: valid
  EXPECT_TRUE(verify(testing::sign_token(rsa_key(), "rsa-1", c)));
  // A fractional NumericDate is rounded up (later), never down into validity.
  c["nbf"] = static_cast<double>(now_s) + 60.5;
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::not_yet_valid);
  c["nbf"] = static_cast<double>(now_s) + 59.5;
  EXPECT_TRUE(verify(testing::sign_token(rsa_key(), "rsa-1", c)));
  c["nbf"] = "soon";
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
}

TEST_F(token_check, AnIssuedAtInTheFutureIsNotYetValid) {
  json::object c = claims();
  c["iat"] = now_s + 120;
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::not_yet_valid);
  c["iat"] = static_cast<double>(now_s) + 60.25;  // rounded up, like nbf
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::not_yet_valid);
  c.erase("iat");  // optional
  EXPECT_TRUE(verify(testing::sign_token(rsa_key(), "rsa-1", c)));
}

TEST_F(token_check, TheIssuerMustMatchExactly) {
  json::object c = claims();
  c["iss"] = "https://issuer.test/realms/wallet/";
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::wrong_issuer);
  c["iss"] = "https://evil.test/realms/wallet";
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::wrong_issuer);
  c.erase("iss");
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::wrong_issuer);
}

TEST_F(token_check, TheAudienceMustNameUs) {
  json::object c = claims();
  c["aud"] = "another-api";
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::wrong_audience);
  c["aud"] = json::array{"another-api", "account"};
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::wrong_audience);
  c["aud"] = json::array{};
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::wrong_audience);
  c.erase("aud");
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::wrong_audience);
  c["aud"] = json::array{"account", "wallet-api"};
  EXPECT_TRUE(verify(testing::sign_token(rsa_key(), "rsa-1", c)));
}

TEST_F(token_check, TheSubjectIsRequired) {
  json::object c = claims();
  c.erase("sub");
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
  c["sub"] = "";
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
  c["sub"] = 42;
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
  c["sub"] = std::string(subject_bytes_max + 1, 's');
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
}

TEST_F(token_check, MissingOrUnknownRolesGrantNothing) {
  json::object c = claims();
  c.erase("roles");
  auto r = verify(testing::sign_token(rsa_key(), "rsa-1", c));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().roles, 0);
  c["roles"] = json::array{"superuser", "READ", "wallet:admin"};
  r = verify(testing::sign_token(rsa_key(), "rsa-1", c));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().roles, 0);
}

TEST_F(token_check, RolesOfTheWrongShapeAreMalformed) {
  json::object c = claims();
  c["roles"] = "admin";
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
  c["roles"] = json::array{"read", 1};
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
  c["roles"] = json::array{};
  c["scope"] = json::array{"wallet:read"};
  EXPECT_EQ(refused(testing::sign_token(rsa_key(), "rsa-1", c)), auth_errc::malformed);
}

TEST_F(token_check, ScopesGrantRolesToo) {
  json::object c = claims();
  c["roles"] = json::array{"service"};
  c["scope"] = "openid profile wallet:read  wallet:admin wallet:unknown read";
  const auto r = verify(testing::sign_token(rsa_key(), "rsa-1", c));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().roles, bits({role::service, role::read, role::admin}));
}

TEST_F(token_check, TheRolesClaimIsConfigurableAndMayBeAPath) {
  json::object c = claims();
  c.erase("roles");
  c["realm_access"] = json::object{{"roles", json::array{"admin", "offline_access"}}};
  c["https://wallet.example/roles"] = json::array{"write"};
  jwt_settings s = settings();
  s.roles_claim = "realm_access.roles";
  auto r = verify(testing::sign_token(rsa_key(), "rsa-1", c), s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().roles, bits({role::admin}));
  s.roles_claim = "https://wallet.example/roles";  // a name with dots, present as is
  r = verify(testing::sign_token(rsa_key(), "rsa-1", c), s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().roles, bits({role::write}));
  s.roles_claim = "realm_access.missing";
  r = verify(testing::sign_token(rsa_key(), "rsa-1", c), s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().roles, 0);
}

TEST_F(token_check, ACriticalHeaderExtensionIsRefused) {
  EXPECT_EQ(
      refused(testing::sign_compact(rsa_key(), R"({"alg":"RS256","kid":"rsa-1","crit":["exp"]})",
                                    json::serialize(claims()))),
      auth_errc::malformed);
}

TEST_F(token_check, ClaimsAreCheckedOnlyAfterTheSignature) {
  json::object c = claims();
  c["iss"] = "https://evil.test";
  c["exp"] = now_s - 3'600;
  // Both wrong, and signed by a stranger: the signature is what is reported.
  EXPECT_EQ(refused(testing::sign_token(other_rsa_key(), "rsa-1", c)), auth_errc::bad_signature);
}

TEST(AuthErrc, EveryCodeHasAStableWord) {
  EXPECT_EQ(to_string(auth_errc::missing), "missing");
  EXPECT_EQ(to_string(auth_errc::malformed), "malformed");
  EXPECT_EQ(to_string(auth_errc::unsupported_algorithm), "unsupported_algorithm");
  EXPECT_EQ(to_string(auth_errc::unknown_key), "unknown_key");
  EXPECT_EQ(to_string(auth_errc::bad_signature), "bad_signature");
  EXPECT_EQ(to_string(auth_errc::expired), "expired");
  EXPECT_EQ(to_string(auth_errc::not_yet_valid), "not_yet_valid");
  EXPECT_EQ(to_string(auth_errc::wrong_issuer), "wrong_issuer");
  EXPECT_EQ(to_string(auth_errc::wrong_audience), "wrong_audience");
  EXPECT_EQ(to_string(auth_errc::keys_unavailable), "keys_unavailable");
}

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    const auto decoded = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(decoded) << i;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(i * 37 + 200));
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode("any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw");
}

TEST(Base64url, DecodesStrictly) {
  EXPECT_EQ(base64url_decode("YW55"), std::optional<std::string>("any"));
  EXPECT_EQ(base64url_decode(""), std::optional<std::string>(""));
  EXPECT_FALSE(base64url_decode("YW55IA=="));  // padding
  EXPECT_FALSE(base64url_decode("+/8"));       // standard alphabet
  EXPECT_FALSE(base64url_decode("YW5 5"));
  EXPECT_FALSE(base64url_decode("YW55I"));  // 5 characters: 1 modulo 4
  EXPECT_TRUE(base64url_decode("YQ"));
  EXPECT_FALSE(base64url_decode("YR"));  // the same byte with non-zero trailing bits
  EXPECT_FALSE(base64url_decode(std::string("YW\0x", 4)));
}

}  // namespace
}  // namespace wallet::auth
