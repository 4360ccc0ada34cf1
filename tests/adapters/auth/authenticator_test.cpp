// The authenticators walletd builds (make_authenticator): settings refused up front, a key file,
// the issuer's JWKS URL on a local server (refetch on a new kid, the last good set kept when the
// server fails, tokens refused until a first set arrives), and the development mode.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "wallet/auth/authenticator.hpp"
#include "wallet/auth/jwks_server.hpp"
#include "wallet/auth/testing.hpp"

namespace wallet::auth {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using std::chrono::system_clock;
using testing::signing_key;

const signing_key& rsa_key() {
  static const signing_key key = signing_key::rsa();
  return key;
}
const signing_key& ec_key() {
  static const signing_key key = signing_key::ec_p256();
  return key;
}

std::int64_t epoch_s(system_clock::time_point t) {
  return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

struct counting_probe final : auth_probe {
  std::atomic<int> accepted_count{0};
  std::atomic<int> rejected_count{0};
  std::atomic<int> loaded{0};
  std::atomic<int> failed{0};
  void accepted() override { ++accepted_count; }
  void rejected(auth_errc /*why*/) override { ++rejected_count; }
  void keys_loaded(std::size_t /*keys*/) override { ++loaded; }
  void keys_refresh_failed() override { ++failed; }
};

class authenticators : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wallet-authenticator-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
    settings_.issuer = "https://issuer.test";
    settings_.audience = "wallet-api";
    settings_.jwks_refresh_min = seconds{30};
    settings_.jwks_fetch_timeout = std::chrono::milliseconds{2'000};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  std::string token(const signing_key& key, const std::string& kid,
                    system_clock::time_point at) const {
    return "Bearer " + testing::sign_token(key, kid,
                                           {{"iss", settings_.issuer},
                                            {"aud", settings_.audience},
                                            {"sub", "owner-7"},
                                            {"iat", epoch_s(at)},
                                            {"exp", epoch_s(at) + 300},
                                            {"roles", json::array{"read"}}});
  }

  std::unique_ptr<authenticator> make() {
    auto r = make_authenticator(settings_, log(), probe_, clock());
    EXPECT_TRUE(r) << r.error();
    return r ? std::move(r).value() : nullptr;
  }
  std::string make_error() {
    auto r = make_authenticator(settings_, log(), probe_, clock());
    return r ? std::string("(made)") : r.error();
  }
  logging::logger log() const { return {"auth", logging::level::debug, log_}; }

  // The key set's schedule runs on this monotonic clock, which only elapse() moves: the tests
  // pass wall-clock times to authenticate() separately, as walletd does.
  monotonic_clock clock() const {
    return [elapsed = elapsed_] {
      return std::chrono::steady_clock::time_point{std::chrono::nanoseconds{elapsed->load()}};
    };
  }
  void elapse(seconds s) const {
    *elapsed_ += std::chrono::duration_cast<std::chrono::nanoseconds>(s).count();
  }

  std::filesystem::path dir_;
  jwt_settings settings_;
  std::shared_ptr<std::string> log_ = std::make_shared<std::string>();
  std::shared_ptr<counting_probe> probe_ = std::make_shared<counting_probe>();
  std::shared_ptr<std::atomic<std::int64_t>> elapsed_ =
      std::make_shared<std::atomic<std::int64_t>>(std::int64_t{1'000'000'000'000});
};

TEST_F(authenticators, RefusesIncompleteSettings) {
  settings_.jwks_file = write("jwks.json", testing::jwks_document({rsa_key().public_jwk("r")}));
  jwt_settings good = settings_;
  settings_.issuer.clear();
  EXPECT_NE(make_error().find("auth.issuer"), std::string::npos);
  settings_ = good;
  settings_.audience.clear();
  EXPECT_NE(make_error().find("auth.audience"), std::string::npos);
  settings_ = good;
  settings_.jwks_url = "https://issuer.test/jwks";
  EXPECT_NE(make_error().find("exactly one"), std::string::npos);
  settings_ = good;
  settings_.jwks_file.clear();
  EXPECT_NE(make_error().find("exactly one"), std::string::npos);
  settings_.jwks_url = "http://issuer.test/jwks";
  EXPECT_NE(make_error().find("loopback"), std::string::npos);
  settings_ = good;
  settings_.jwks_refresh = seconds{10};
  settings_.jwks_refresh_min = seconds{20};
  EXPECT_NE(make_error().find("auth.jwks_refresh_min_s"), std::string::npos);
  settings_ = good;
  EXPECT_EQ(make_error(), "(made)");
}

TEST_F(authenticators, RefusesAKeyFileWithoutUsableKeys) {
  settings_.jwks_file = (dir_ / "absent.json").string();
  EXPECT_NE(make_error().find("auth.jwks_file"), std::string::npos);
  settings_.jwks_file = write("bad.json", R"({"keys":[{"kty":"oct","k":"AA"}]})");
  EXPECT_NE(make_error().find("auth.jwks_file"), std::string::npos);
  EXPECT_NE(log_->find("holds no usable RSA or P-256 key"), std::string::npos);
}

TEST_F(authenticators, VerifiesTokensWithKeysFromAFile) {
  settings_.jwks_file = write(
      "jwks.json", testing::jwks_document({rsa_key().public_jwk("r1"), ec_key().public_jwk("e1")}));
  const auto a = make();
  ASSERT_NE(a, nullptr);
  const auto now = system_clock::now();
  for (const auto& [key, kid] : {std::pair{&rsa_key(), "r1"}, std::pair{&ec_key(), "e1"}}) {
    const auto r = a->authenticate(token(*key, kid, now), now);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r.value().subject, "owner-7");
    EXPECT_TRUE(r.value().has(role::read));
  }
  EXPECT_EQ(a->authenticate("", now).error(), auth_errc::missing);
  EXPECT_EQ(a->authenticate(token(rsa_key(), "r1", now), now + seconds{400}).error(),
            auth_errc::expired);
  EXPECT_EQ(probe_->accepted_count, 2);
  EXPECT_EQ(probe_->rejected_count, 2);
  // The refusal's detail is logged (debug), and never the token.
  EXPECT_NE(log_->find("\"code\":\"expired\""), std::string::npos);
  EXPECT_EQ(log_->find(testing::sign_token(rsa_key(), "r1", {}).substr(0, 20)), std::string::npos);
}

TEST_F(authenticators, FetchesTheKeySetFromTheIssuerAndAgainForANewKid) {
  testing::jwks_server issuer;
  issuer.respond(200, testing::jwks_document({rsa_key().public_jwk("r1")}));
  settings_.jwks_url = issuer.url();
  const auto a = make();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(issuer.requests(), 1U);
  auto now = system_clock::now();
  EXPECT_TRUE(a->authenticate(token(rsa_key(), "r1", now), now));

  // The issuer adds a key and starts signing with it.
  issuer.respond(200,
                 testing::jwks_document({rsa_key().public_jwk("r1"), ec_key().public_jwk("e2")}));
  now += seconds{31};
  elapse(seconds{31});
  const auto r = a->authenticate(token(ec_key(), "e2", now), now);
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(issuer.requests(), 2U);

  // Unknown kids right after do not reach the issuer.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a->authenticate(token(ec_key(), "forged-" + std::to_string(i), now), now).error(),
              auth_errc::unknown_key);
  }
  EXPECT_EQ(issuer.requests(), 2U);
  EXPECT_EQ(probe_->loaded, 2);
}

// Fetches are scheduled on the monotonic clock: a wall clock stepped back neither holds back the
// fetch for a rotated key, nor does one stepped forward lift the throttle on made-up kids.
TEST_F(authenticators, WallClockStepsMoveNoFetch) {
  testing::jwks_server issuer;
  issuer.respond(200, testing::jwks_document({rsa_key().public_jwk("r1")}));
  settings_.jwks_url = issuer.url();
  const auto a = make();
  ASSERT_NE(a, nullptr);
  const auto now = system_clock::now();
  ASSERT_TRUE(a->authenticate(token(rsa_key(), "r1", now), now));

  // The wall clock jumps a day ahead: still within refresh_min of the last fetch.
  const auto ahead = now + std::chrono::hours{24};
  EXPECT_EQ(a->authenticate(token(ec_key(), "e2", ahead), ahead).error(), auth_errc::unknown_key);
  EXPECT_EQ(issuer.requests(), 1U);

  // The issuer rotates in e2; refresh_min passes, while the wall clock was stepped back an hour.
  issuer.respond(200,
                 testing::jwks_document({rsa_key().public_jwk("r1"), ec_key().public_jwk("e2")}));
  elapse(seconds{31});
  const auto behind = now - std::chrono::hours{1};
  const auto r = a->authenticate(token(ec_key(), "e2", behind), behind);
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(issuer.requests(), 2U);
}

// The background refresher fetches when the monotonic clock says the set is due, not before.
TEST_F(authenticators, TheRefresherFollowsTheMonotonicClock) {
  testing::jwks_server issuer;
  issuer.respond(200, testing::jwks_document({rsa_key().public_jwk("r1")}));
  settings_.jwks_url = issuer.url();
  settings_.jwks_refresh = seconds{10};
  settings_.jwks_refresh_min = seconds{1};
  const auto a = make();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(issuer.requests(), 1U);
  std::this_thread::sleep_for(std::chrono::milliseconds{1'500});  // a refresher tick or more
  EXPECT_EQ(issuer.requests(), 1U) << "not due: the monotonic clock has not moved";
  elapse(seconds{10});
  for (int i = 0; i < 50 && issuer.requests() < 2U; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  EXPECT_EQ(issuer.requests(), 2U);
}

TEST_F(authenticators, KeepsTheLastGoodSetWhenTheIssuerFails) {
  testing::jwks_server issuer;
  issuer.respond(200, testing::jwks_document({rsa_key().public_jwk("r1")}));
  settings_.jwks_url = issuer.url();
  settings_.jwks_fetch_timeout = std::chrono::milliseconds{300};
  const auto a = make();
  ASSERT_NE(a, nullptr);
  auto now = system_clock::now();

  issuer.respond(500, "oops");
  now += seconds{31};
  elapse(seconds{31});
  EXPECT_EQ(a->authenticate(token(ec_key(), "e2", now), now).error(), auth_errc::unknown_key);
  EXPECT_EQ(issuer.requests(), 2U);
  EXPECT_TRUE(a->authenticate(token(rsa_key(), "r1", now), now));

  issuer.hang();
  now += seconds{31};
  elapse(seconds{31});
  EXPECT_EQ(a->authenticate(token(ec_key(), "e2", now), now).error(), auth_errc::unknown_key);
  EXPECT_EQ(issuer.requests(), 3U);
  EXPECT_TRUE(a->authenticate(token(rsa_key(), "r1", now), now));

  issuer.respond(200, "{\"keys\": 1}");
  now += seconds{31};
  elapse(seconds{31});
  EXPECT_EQ(a->authenticate(token(ec_key(), "e2", now), now).error(), auth_errc::unknown_key);
  EXPECT_TRUE(a->authenticate(token(rsa_key(), "r1", now), now));
  EXPECT_EQ(probe_->failed, 3);
  EXPECT_NE(log_->find("HTTP status 500"), std::string::npos);
  EXPECT_NE(log_->find("timed out"), std::string::npos);
}

TEST_F(authenticators, RefusesTokensUntilTheIssuerAnswers) {
  testing::jwks_server issuer;
  issuer.respond(503, "");
  settings_.jwks_url = issuer.url();
  const auto a = make();  // an unreachable issuer does not stop walletd from starting
  ASSERT_NE(a, nullptr);
  auto now = system_clock::now();
  EXPECT_EQ(a->authenticate(token(rsa_key(), "r1", now), now).error(), auth_errc::keys_unavailable);
  issuer.respond(200, testing::jwks_document({rsa_key().public_jwk("r1")}));
  now += seconds{31};
  elapse(seconds{31});
  EXPECT_TRUE(a->authenticate(token(rsa_key(), "r1", now), now));
}

TEST_F(authenticators, IsSafeToCallFromManyThreads) {
  settings_.jwks_file = write(
      "jwks.json", testing::jwks_document({rsa_key().public_jwk("r1"), ec_key().public_jwk("e1")}));
  const auto a = make();
  ASSERT_NE(a, nullptr);
  const auto now = system_clock::now();
  const std::string good = token(ec_key(), "e1", now);
  const std::string forged = token(rsa_key(), "e1", now);
  std::atomic<int> wrong{0};
  constexpr int thread_count = 4;
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!a->authenticate(good, now)) ++wrong;
        if (a->authenticate(forged, now)) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(probe_->accepted_count, 800);
  EXPECT_EQ(probe_->rejected_count, 800);
}

TEST_F(authenticators, RemembersAcceptedTokensButStillChecksTheirTimes) {
  settings_.jwks_file = write("jwks.json", testing::jwks_document({rsa_key().public_jwk("r1")}));
  const auto a = make();
  ASSERT_NE(a, nullptr);
  auto& jwt = dynamic_cast<jwt_authenticator&>(*a);
  const auto now = system_clock::now();
  const std::string t = token(rsa_key(), "r1", now);
  ASSERT_TRUE(a->authenticate(t, now));
  EXPECT_EQ(jwt.cached_tokens(), 1U);
  ASSERT_TRUE(a->authenticate(t, now + seconds{10}));
  EXPECT_EQ(jwt.cached_tokens(), 1U);
  EXPECT_EQ(a->authenticate(t, now + seconds{400}).error(), auth_errc::expired);
  EXPECT_EQ(a->authenticate(t, now - seconds{3'600}).error(), auth_errc::not_yet_valid);  // iat
  // The same claims under another signature are another token, checked on their own.
  std::string forged = t;
  char& c = forged[forged.size() - 10];  // inside the signature, clear of its last bits
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(a->authenticate(forged, now).error(), auth_errc::bad_signature);
  EXPECT_EQ(probe_->accepted_count, 2);
}

TEST_F(authenticators, ForgetsRememberedTokensWhenTheKeySetChanges) {
  settings_.jwks_file = write(
      "jwks.json", testing::jwks_document({rsa_key().public_jwk("r1"), ec_key().public_jwk("e1")}));
  const auto a = make();
  ASSERT_NE(a, nullptr);
  const auto now = system_clock::now();
  const std::string t = token(rsa_key(), "r1", now);
  ASSERT_TRUE(a->authenticate(t, now));
  // The issuer withdraws r1 (a leaked key): its tokens must stop working at the next refresh.
  write("jwks.json", testing::jwks_document({ec_key().public_jwk("e1")}));
  dynamic_cast<jwt_authenticator&>(*a).keys().refresh(clock()());
  EXPECT_EQ(a->authenticate(t, now).error(), auth_errc::unknown_key);
}

TEST_F(authenticators, TheTokenCacheIsBoundedAndCanBeOff) {
  settings_.jwks_file = write("jwks.json", testing::jwks_document({ec_key().public_jwk("e1")}));
  settings_.token_cache_max = 3;
  const auto bounded = make();
  ASSERT_NE(bounded, nullptr);
  settings_.token_cache_max = 0;
  const auto off = make();
  ASSERT_NE(off, nullptr);
  const auto now = system_clock::now();
  for (int i = 0; i < 10; ++i) {
    const std::string t = token(ec_key(), "e1", now + seconds{i});
    EXPECT_TRUE(bounded->authenticate(t, now));
    EXPECT_TRUE(off->authenticate(t, now));
  }
  EXPECT_LE(dynamic_cast<jwt_authenticator&>(*bounded).cached_tokens(), 3U);
  EXPECT_GE(dynamic_cast<jwt_authenticator&>(*bounded).cached_tokens(), 1U);
  EXPECT_EQ(dynamic_cast<jwt_authenticator&>(*off).cached_tokens(), 0U);
}

TEST_F(authenticators, TheDevelopmentModeAcceptsEveryoneAndSaysSoLoudly) {
  settings_.mode = auth_mode::off;
  const auto a = make();
  ASSERT_NE(a, nullptr);
  EXPECT_NE(log_->find("AUTHENTICATION IS OFF"), std::string::npos);
  EXPECT_NE(log_->find("\"level\":\"warn\""), std::string::npos);
  for (const char* header : {"", "Bearer nonsense"}) {
    const auto r = a->authenticate(header, system_clock::now());
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().subject, development_subject);
    for (const role x : {role::read, role::write, role::admin, role::service}) {
      EXPECT_TRUE(r.value().has(x));
    }
  }
}

}  // namespace
}  // namespace wallet::auth
