// JWK Set parsing, the key-set cache (refresh, rate-limited refetch on unknown kids, keeping the
// last good set) with a scripted fetch, and the two real fetches: a file, and a URL served by a
// local HTTP or HTTPS server.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "wallet/auth/base64url.hpp"
#include "wallet/auth/jwks.hpp"
#include "wallet/auth/jwks_cache.hpp"
#include "wallet/auth/jwks_server.hpp"
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

std::string parse_error(const std::string& text) {
  auto r = parse_jwks(text);
  return r ? std::string("(parsed)") : r.error();
}

std::string one_key(const json::object& jwk) { return testing::jwks_document({jwk}); }

TEST(Jwks, ParsesRsaAndP256Keys) {
  auto r =
      parse_jwks(testing::jwks_document({rsa_key().public_jwk("r1"), ec_key().public_jwk("e1")}));
  ASSERT_TRUE(r) << r.error();
  const key_set& set = r.value().set;
  ASSERT_EQ(set.keys.size(), 2U);
  ASSERT_NE(set.find("r1"), nullptr);
  EXPECT_EQ(set.find("r1")->type, key_type::rsa);
  ASSERT_NE(set.find("e1"), nullptr);
  EXPECT_EQ(set.find("e1")->type, key_type::ec_p256);
  EXPECT_EQ(set.find("nope"), nullptr);
  EXPECT_TRUE(r.value().skipped.empty());
}

TEST(Jwks, AlgAndUseAreOptional) {
  json::object jwk = rsa_key().public_jwk("r1");
  jwk.erase("alg");
  jwk.erase("use");
  EXPECT_TRUE(parse_jwks(one_key(jwk)));
}

TEST(Jwks, SkipsKeysMeantForOthers) {
  json::object enc = rsa_key().public_jwk("enc");
  enc["use"] = "enc";
  json::object rs512 = rsa_key().public_jwk("rs512");
  rs512["alg"] = "RS512";
  json::object mislabelled = ec_key().public_jwk("mislabelled");
  mislabelled["alg"] = "RS256";
  json::object p384 = ec_key().public_jwk("p384");
  p384["crv"] = "P-384";
  const json::object oct{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};
  const json::object okp{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}};
  const signing_key small = signing_key::rsa(1'024);
  auto r =
      parse_jwks(testing::jwks_document({enc, rs512, mislabelled, p384, oct, okp,
                                         small.public_jwk("small"), rsa_key().public_jwk("good")}));
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r.value().set.keys.size(), 1U);
  EXPECT_EQ(r.value().set.keys[0].kid, "good");
  EXPECT_EQ(r.value().skipped.size(), 7U);
}

TEST(Jwks, SkipsKeysWhosePurposeIsUnclear) {
  json::object use_number = rsa_key().public_jwk("use-number");
  use_number["use"] = 1;
  json::object alg_number = rsa_key().public_jwk("alg-number");
  alg_number["alg"] = 256;
  json::object ops_text = ec_key().public_jwk("ops-text");
  ops_text["key_ops"] = "verify";
  json::object ops_sign = ec_key().public_jwk("ops-sign");
  ops_sign["key_ops"] = json::array{"sign"};
  json::object ops_mixed = ec_key().public_jwk("ops-mixed");
  ops_mixed["key_ops"] = json::array{"verify", 1};
  json::object ops_verify = ec_key().public_jwk("ops-verify");
  ops_verify["key_ops"] = json::array{"sign", "verify"};
  auto r = parse_jwks(
      testing::jwks_document({use_number, alg_number, ops_text, ops_sign, ops_mixed, ops_verify}));
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r.value().set.keys.size(), 1U);
  EXPECT_EQ(r.value().set.keys[0].kid, "ops-verify");
  const std::vector<std::string>& skipped = r.value().skipped;
  ASSERT_EQ(skipped.size(), 5U);
  EXPECT_NE(skipped[0].find("\"use\" is not a string"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("\"alg\" is not a string"), std::string::npos) << skipped[1];
  EXPECT_NE(skipped[2].find("\"key_ops\" is not an array of strings"), std::string::npos);
  EXPECT_NE(skipped[3].find("key_ops does not list verify"), std::string::npos) << skipped[3];
  EXPECT_NE(skipped[4].find("\"key_ops\" is not an array of strings"), std::string::npos);
}

TEST(Jwks, RefusesDocumentsThatAreNotKeySets) {
  EXPECT_NE(parse_error("{"), "(parsed)");
  EXPECT_NE(parse_error("[]").find("\"keys\""), std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":{}})").find("\"keys\""), std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":[]})").find("no usable"), std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":[{"kty":"oct","k":"AA"}]})").find("no usable"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":[1]})").find("not a JSON object"), std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":[{"n":"AQAB"}]})").find("kty"), std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":[{"kty":"RSA","kid":7}]})").find("kid"), std::string::npos);
}

TEST(Jwks, RefusesMalformedRsaKeys) {
  json::object no_n = rsa_key().public_jwk("r");
  no_n.erase("n");
  EXPECT_NE(parse_error(one_key(no_n)).find("\"n\""), std::string::npos);
  json::object padded = rsa_key().public_jwk("r");
  padded["n"] = std::string(padded["n"].as_string()) + "=";
  EXPECT_NE(parse_error(one_key(padded)).find("base64url"), std::string::npos);
  json::object even = rsa_key().public_jwk("r");
  even["e"] = base64url_encode(std::string("\x01\x00\x00", 3));
  EXPECT_NE(parse_error(one_key(even)).find("exponent"), std::string::npos);
  json::object e_one = rsa_key().public_jwk("r");
  e_one["e"] = base64url_encode("\x01");
  EXPECT_NE(parse_error(one_key(e_one)).find("exponent"), std::string::npos);
  // 2^32 + 1: odd, but longer than rsa_exponent_bits_max.
  json::object e_huge = rsa_key().public_jwk("r");
  e_huge["e"] = base64url_encode(std::string("\x01\x00\x00\x00\x01", 5));
  EXPECT_NE(parse_error(one_key(e_huge)).find("longer than 32 bits"), std::string::npos);
}

TEST(Jwks, RefusesRsaModuliThatFailThePublicKeyCheck) {
  json::object even = rsa_key().public_jwk("r");
  std::string n = *base64url_decode(even["n"].as_string());
  n.back() = static_cast<char>(static_cast<unsigned char>(n.back()) & 0xfeU);
  even["n"] = base64url_encode(n);
  EXPECT_NE(parse_error(one_key(even)).find("not a valid RSA public key"), std::string::npos)
      << parse_error(one_key(even));
  // 2^2048 - 1: odd and of the right size, but divisible by 3.
  json::object small_factor = rsa_key().public_jwk("r");
  small_factor["n"] = base64url_encode(std::string(256, '\xff'));
  EXPECT_NE(parse_error(one_key(small_factor)).find("not a valid RSA public key"),
            std::string::npos)
      << parse_error(one_key(small_factor));
}

TEST(Jwks, RefusesMalformedEcKeys) {
  json::object short_x = ec_key().public_jwk("e");
  short_x["x"] = base64url_encode(std::string(31, '\x01'));
  EXPECT_NE(parse_error(one_key(short_x)).find("32 bytes"), std::string::npos);
  json::object no_crv = ec_key().public_jwk("e");
  no_crv.erase("crv");
  EXPECT_NE(parse_error(one_key(no_crv)).find("crv"), std::string::npos);
  // Flip a bit of y: the point leaves the curve.
  json::object off_curve = ec_key().public_jwk("e");
  std::string y = *base64url_decode(off_curve["y"].as_string());
  y[31] = static_cast<char>(y[31] ^ 1);
  off_curve["y"] = base64url_encode(y);
  EXPECT_NE(parse_error(one_key(off_curve)).find("not a point of P-256"), std::string::npos);
}

TEST(Jwks, RefusesARepeatedKid) {
  EXPECT_NE(parse_error(
                testing::jwks_document({rsa_key().public_jwk("same"), ec_key().public_jwk("same")}))
                .find("kid"),
            std::string::npos);
  // Keys without a kid are not repeats of each other.
  EXPECT_TRUE(
      parse_jwks(testing::jwks_document({rsa_key().public_jwk(""), ec_key().public_jwk("")})));
}

TEST(Jwks, RefusesOversizedSets) {
  std::vector<json::object> many(jwks_keys_max + 1, ec_key().public_jwk(""));
  EXPECT_NE(parse_error(testing::jwks_document(many)).find("more than"), std::string::npos);
  std::string huge = R"({"keys":[],"pad":")" + std::string(jwks_bytes_max, 'x') + "\"}";
  EXPECT_NE(parse_error(huge).find("larger than"), std::string::npos);
}

// A fetch the test scripts: the document it returns (or a failure), and how often it ran.
struct scripted_fetch {
  std::string document;
  bool fail = false;
  int calls = 0;

  jwks_fetch fn() {
    return [this]() -> engine::result<std::string, fetch_error> {
      ++calls;
      if (fail) return fetch_error{"scripted failure"};
      return document;
    };
  }
};

struct counting_probe final : auth_probe {
  int loaded = 0;
  int failed = 0;
  int throttled = 0;
  void keys_loaded(std::size_t /*keys*/) override { ++loaded; }
  void keys_refresh_failed() override { ++failed; }
  void keys_refresh_throttled() override { ++throttled; }
};

class key_cache : public ::testing::Test {
 protected:
  key_cache()
      : probe_(std::make_shared<counting_probe>()),
        cache_(fetch_.fn(), "scripted", seconds{300}, seconds{30},
               logging::logger("auth", logging::level::debug, log_), probe_) {}

  bool has(std::string_view kid, key_type type, jwks_cache::time_point at) {
    return static_cast<bool>(cache_.find(kid, type, at));
  }

  const jwks_cache::time_point t0_{seconds{1'900'000'000}};
  std::shared_ptr<std::string> log_ = std::make_shared<std::string>();
  scripted_fetch fetch_;
  std::shared_ptr<counting_probe> probe_;
  jwks_cache cache_;
};

TEST_F(key_cache, NothingIsAvailableBeforeAFetchSucceeds) {
  fetch_.fail = true;
  EXPECT_FALSE(cache_.refresh(t0_));
  EXPECT_EQ(cache_.current(), nullptr);
  const auto r = cache_.find("r1", key_type::rsa, t0_ + seconds{1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), auth_errc::keys_unavailable);
  EXPECT_EQ(probe_->failed, 1);
  EXPECT_NE(log_->find("JWKS could not be loaded"), std::string::npos);
}

TEST_F(key_cache, RefetchesOnceForAnUnknownKidThenThrottles) {
  fetch_.document = one_key(rsa_key().public_jwk("r1"));
  ASSERT_TRUE(cache_.refresh(t0_));
  EXPECT_TRUE(has("r1", key_type::rsa, t0_));
  EXPECT_EQ(fetch_.calls, 1);

  // The issuer rotates in a new key; a token with it arrives after refresh_min.
  fetch_.document = testing::jwks_document({rsa_key().public_jwk("r1"), ec_key().public_jwk("e2")});
  EXPECT_TRUE(has("e2", key_type::ec_p256, t0_ + seconds{31}));
  EXPECT_EQ(fetch_.calls, 2);

  // Made-up kids right after: no fetch until refresh_min has passed again.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(cache_.find("made-up-" + std::to_string(i), key_type::rsa, t0_ + seconds{40}).error(),
              auth_errc::unknown_key);
  }
  EXPECT_EQ(fetch_.calls, 2);
  EXPECT_EQ(probe_->throttled, 100);
  EXPECT_FALSE(has("made-up", key_type::rsa, t0_ + seconds{61}));
  EXPECT_EQ(fetch_.calls, 3);
}

TEST_F(key_cache, KeepsTheLastGoodSetWhenAFetchFails) {
  fetch_.document = one_key(rsa_key().public_jwk("r1"));
  ASSERT_TRUE(cache_.refresh(t0_));
  fetch_.fail = true;
  EXPECT_FALSE(cache_.refresh(t0_ + seconds{300}));
  EXPECT_TRUE(has("r1", key_type::rsa, t0_ + seconds{301}));
  fetch_.fail = false;
  fetch_.document = "{not json";
  EXPECT_FALSE(cache_.refresh(t0_ + seconds{600}));
  EXPECT_TRUE(has("r1", key_type::rsa, t0_ + seconds{601}));
  EXPECT_EQ(probe_->loaded, 1);
  EXPECT_EQ(probe_->failed, 2);
  EXPECT_NE(log_->find("the previous key set stays in use"), std::string::npos);
}

TEST_F(key_cache, RefreshesWhenDueAndRetriesSoonerAfterAFailure) {
  fetch_.document = one_key(rsa_key().public_jwk("r1"));
  EXPECT_TRUE(cache_.refresh_if_due(t0_));  // never fetched: due at once
  EXPECT_EQ(cache_.next_due(), t0_ + seconds{300});
  EXPECT_FALSE(cache_.refresh_if_due(t0_ + seconds{299}));
  EXPECT_EQ(fetch_.calls, 1);
  fetch_.document = one_key(rsa_key().public_jwk("r2"));
  EXPECT_TRUE(cache_.refresh_if_due(t0_ + seconds{300}));
  EXPECT_EQ(fetch_.calls, 2);
  EXPECT_NE(cache_.current()->find("r2"), nullptr);
  EXPECT_EQ(cache_.current()->find("r1"), nullptr);  // a removed key is gone

  fetch_.fail = true;
  EXPECT_FALSE(cache_.refresh_if_due(t0_ + seconds{600}));
  EXPECT_EQ(cache_.next_due(), t0_ + seconds{630});
  EXPECT_FALSE(cache_.refresh_if_due(t0_ + seconds{629}));
  EXPECT_EQ(fetch_.calls, 3);
  fetch_.fail = false;
  EXPECT_FALSE(cache_.refresh_if_due(t0_ + seconds{630}));  // the same document: nothing new
  EXPECT_EQ(fetch_.calls, 4);
  EXPECT_EQ(cache_.next_due(), t0_ + seconds{930});  // a success: the regular interval again
}

TEST_F(key_cache, TheGenerationChangesOnlyWithTheDocument) {
  fetch_.document = one_key(rsa_key().public_jwk("r1"));
  EXPECT_EQ(cache_.generation(), 0U);
  ASSERT_TRUE(cache_.refresh(t0_));
  EXPECT_EQ(cache_.generation(), 1U);
  EXPECT_FALSE(cache_.refresh(t0_ + seconds{300}));
  EXPECT_EQ(cache_.generation(), 1U);
  EXPECT_EQ(probe_->loaded, 2);  // both fetches succeeded
  fetch_.document = one_key(ec_key().public_jwk("e1"));
  EXPECT_TRUE(cache_.refresh(t0_ + seconds{600}));
  EXPECT_EQ(cache_.generation(), 2U);
  fetch_.fail = true;
  EXPECT_FALSE(cache_.refresh(t0_ + seconds{900}));
  EXPECT_EQ(cache_.generation(), 2U);
}

TEST_F(key_cache, AKeyOutlivesTheSetThatHeldIt) {
  fetch_.document = one_key(rsa_key().public_jwk("r1"));
  ASSERT_TRUE(cache_.refresh(t0_));
  auto key = cache_.find("r1", key_type::rsa, t0_);
  ASSERT_TRUE(key);
  fetch_.document = one_key(ec_key().public_jwk("e1"));
  ASSERT_TRUE(cache_.refresh(t0_ + seconds{1}));
  EXPECT_EQ(key.value()->kid, "r1");
  EXPECT_NE(key.value()->pkey, nullptr);
}

class temp_dir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wallet-auth-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

using file_source = temp_dir;

TEST_F(file_source, ReadsTheFile) {
  const std::string doc = one_key(rsa_key().public_jwk("r1"));
  const auto r = file_fetch(write("jwks.json", doc))();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value(), doc);
}

TEST_F(file_source, ReportsAMissingOrOversizedFile) {
  const auto missing = file_fetch((dir_ / "absent.json").string())();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
  const auto huge = file_fetch(write("huge.json", std::string(jwks_bytes_max + 1, ' ')))();
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("larger than"), std::string::npos);
}

constexpr std::chrono::milliseconds fetch_timeout{2'000};

TEST(UrlFetch, RefusesUnusableUrls) {
  const auto error = [](const std::string& url) {
    auto r = url_fetch(url, "", fetch_timeout);
    return r ? std::string("(accepted)") : r.error();
  };
  EXPECT_NE(error("ftp://issuer.test/jwks").find("https://"), std::string::npos);
  EXPECT_NE(error("not a url").find("absolute"), std::string::npos);
  EXPECT_NE(error("http://issuer.test/jwks").find("loopback"), std::string::npos);
  EXPECT_NE(error("http://10.0.0.1/jwks").find("loopback"), std::string::npos);
  EXPECT_NE(error("https://user:secret@issuer.test/jwks").find("user or password"),
            std::string::npos);
  EXPECT_NE(error("https:///jwks").find("host"), std::string::npos);
  EXPECT_EQ(error("http://127.0.0.1:1/jwks"), "(accepted)");
  EXPECT_EQ(error("http://localhost:1/jwks"), "(accepted)");
  EXPECT_EQ(error("http://[::1]:1/jwks"), "(accepted)");
  EXPECT_EQ(error("https://issuer.test/jwks"), "(accepted)");
  const auto bad_ca = url_fetch("https://issuer.test/jwks", "/nonexistent/ca.pem", fetch_timeout);
  ASSERT_FALSE(bad_ca);
  EXPECT_NE(bad_ca.error().find("auth.jwks_ca_file"), std::string::npos);
}

TEST(UrlFetch, GetsTheDocumentOverHttpOnLoopback) {
  testing::jwks_server server;
  const std::string doc = one_key(ec_key().public_jwk("e1"));
  server.respond(200, doc);
  auto fetch = url_fetch(server.url(), "", fetch_timeout);
  ASSERT_TRUE(fetch) << fetch.error();
  const auto r = fetch.value()();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value(), doc);
  EXPECT_EQ(server.requests(), 1U);
}

TEST(UrlFetch, AnythingButOkIsAFailure) {
  testing::jwks_server server;
  server.respond(503, "{}");
  auto fetch = url_fetch(server.url(), "", fetch_timeout);
  ASSERT_TRUE(fetch);
  const auto r = fetch.value()();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "HTTP status 503");
  server.respond(302, "");
  EXPECT_EQ(fetch.value()().error().message, "HTTP status 302");
}

TEST(UrlFetch, AHungServerTimesOut) {
  testing::jwks_server server;
  server.hang();
  auto fetch = url_fetch(server.url(), "", std::chrono::milliseconds{200});
  ASSERT_TRUE(fetch);
  const auto r = fetch.value()();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
}

TEST(UrlFetch, AClosedPortFails) {
  std::uint16_t port = 0;
  {
    testing::jwks_server server;
    port = server.port();
  }
  auto fetch =
      url_fetch("http://127.0.0.1:" + std::to_string(port) + "/jwks.json", "", fetch_timeout);
  ASSERT_TRUE(fetch);
  const auto r = fetch.value()();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("connect"), std::string::npos) << r.error().message;
}

class https_source : public temp_dir {
 protected:
  static const signing_key& server_key() {
    static const signing_key key = signing_key::ec_p256();
    return key;
  }
  static testing::tls_identity identity(const std::string& names = "DNS:localhost,IP:127.0.0.1") {
    return {testing::self_signed_certificate(server_key(), names), server_key().private_pem()};
  }
};

TEST_F(https_source, GetsTheDocumentFromATrustedServer) {
  const testing::tls_identity id = identity();
  testing::jwks_server server(id);
  const std::string doc = one_key(rsa_key().public_jwk("r1"));
  server.respond(200, doc);
  const std::string ca = write("ca.pem", id.certificate_pem);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto fetch = url_fetch(server.url(host), ca, fetch_timeout);
    ASSERT_TRUE(fetch) << fetch.error();
    const auto r = fetch.value()();
    ASSERT_TRUE(r) << host << ": " << r.error().message;
    EXPECT_EQ(r.value(), doc);
  }
}

TEST_F(https_source, RefusesAServerItDoesNotTrust) {
  testing::jwks_server server(identity());
  server.respond(200, one_key(rsa_key().public_jwk("r1")));
  // The system's trust store does not hold the test's self-signed certificate.
  auto fetch = url_fetch(server.url(), "", fetch_timeout);
  ASSERT_TRUE(fetch);
  const auto r = fetch.value()();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
}

TEST_F(https_source, RefusesACertificateForAnotherHost) {
  const testing::tls_identity id = identity("DNS:issuer.test");
  testing::jwks_server server(id);
  server.respond(200, one_key(rsa_key().public_jwk("r1")));
  auto fetch = url_fetch(server.url(), write("ca.pem", id.certificate_pem), fetch_timeout);
  ASSERT_TRUE(fetch);
  const auto r = fetch.value()();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace wallet::auth
