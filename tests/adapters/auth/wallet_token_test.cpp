// wallet-token end to end: its keys, JWK Set and tokens are what walletd's authenticator accepts
// (or refuses, when asked for a bad token), so the HTTP tests can rely on it.
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "wallet/auth/authenticator.hpp"

namespace wallet::auth {
namespace {

struct run_result {
  int status = -1;
  std::string out;
};

// Runs wallet-token with `args` (shell words), stdout captured.
run_result run(const std::string& args) {
  const std::string command = std::string(WALLET_TOKEN) + " " + args + " 2>/dev/null";
  // NOLINTNEXTLINE(cert-env33-c): runs the tool under test
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  run_result r;
  if (!pipe) return r;
  std::array<char, 4'096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
    r.out.append(buffer.data(), n);
  }
  const int status = pclose(pipe.release());
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r;
}

class wallet_token_tool : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wallet-token-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::unique_ptr<authenticator> authenticator_for(const std::string& jwks_text) {
    std::ofstream(path("jwks.json")) << jwks_text;
    jwt_settings s;
    s.issuer = "https://issuer.test";
    s.audience = "wallet-api";
    s.jwks_file = path("jwks.json");
    auto a = make_authenticator(s, logging::logger("auth", logging::level::error, log_));
    EXPECT_TRUE(a) << a.error();
    return a ? std::move(a).value() : nullptr;
  }

  std::filesystem::path dir_;
  std::shared_ptr<std::string> log_ = std::make_shared<std::string>();
};

constexpr const char* base = " --iss=https://issuer.test --aud=wallet-api --sub=owner-9";

TEST_F(wallet_token_tool, MintsKeysAJwksAndTokensWalletdAccepts) {
  ASSERT_EQ(run("keygen rsa " + path("rsa.pem")).status, 0);
  ASSERT_EQ(run("keygen ec " + path("ec.pem")).status, 0);
  EXPECT_EQ(std::filesystem::status(path("rsa.pem")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const run_result jwks = run("jwks " + path("rsa.pem") + " r1 " + path("ec.pem") + " e1");
  ASSERT_EQ(jwks.status, 0);
  const auto a = authenticator_for(jwks.out);
  ASSERT_NE(a, nullptr);
  const auto now = std::chrono::system_clock::now();

  const run_result rs = run("sign " + path("rsa.pem") + base + " --kid=r1 --roles=read,admin");
  ASSERT_EQ(rs.status, 0);
  auto p = a->authenticate("Bearer " + rs.out, now);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p.value().subject, "owner-9");
  EXPECT_TRUE(p.value().has(role::admin));
  EXPECT_FALSE(p.value().has(role::write));

  const run_result es =
      run("sign " + path("ec.pem") + base + " --kid=e1 '--scope=wallet:write wallet:service'");
  ASSERT_EQ(es.status, 0);
  p = a->authenticate("Bearer " + es.out, now);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_TRUE(p.value().has(role::write));
  EXPECT_TRUE(p.value().has(role::service));
}

TEST_F(wallet_token_tool, MintsTheBadTokensOfTheAuthorizationMatrix) {
  ASSERT_EQ(run("keygen ec " + path("ec.pem")).status, 0);
  ASSERT_EQ(run("keygen ec " + path("stranger.pem")).status, 0);
  const auto a = authenticator_for(run("jwks " + path("ec.pem") + " e1").out);
  ASSERT_NE(a, nullptr);
  const auto now = std::chrono::system_clock::now();
  const auto code = [&](const std::string& key, const std::string& options) {
    const run_result t = run("sign " + path(key) + options);
    EXPECT_EQ(t.status, 0) << options;
    auto p = a->authenticate("Bearer " + t.out, now);
    return p ? std::string("accepted") : std::string(to_string(p.error()));
  };
  EXPECT_EQ(code("ec.pem", base), "accepted");
  EXPECT_EQ(code("ec.pem", std::string(base) + " --ttl-s=-120"), "expired");
  EXPECT_EQ(code("ec.pem", std::string(base) + " --nbf-s=3600"), "not_yet_valid");
  EXPECT_EQ(code("ec.pem", " --iss=https://evil.test --aud=wallet-api --sub=x"), "wrong_issuer");
  EXPECT_EQ(code("ec.pem", " --iss=https://issuer.test --aud=other --aud=more --sub=x"),
            "wrong_audience");
  EXPECT_EQ(code("stranger.pem", base), "bad_signature");
  EXPECT_EQ(code("ec.pem", std::string(base) + " --kid=e9"), "unknown_key");
  EXPECT_EQ(code("ec.pem", std::string(base) + " '--claims={\"exp\":null}'"), "malformed");
  EXPECT_EQ(code("ec.pem", std::string(base) + " '--header={\"alg\":\"HS256\"}'"),
            "unsupported_algorithm");
  const std::int64_t then = 1'000'000'000;
  EXPECT_EQ(code("ec.pem", std::string(base) + " --now=" + std::to_string(then)), "expired");
}

TEST_F(wallet_token_tool, WritesACertificateAndRefusesBadUsage) {
  ASSERT_EQ(run("keygen ec " + path("ec.pem")).status, 0);
  const run_result cert = run("cert " + path("ec.pem"));
  EXPECT_EQ(cert.status, 0);
  EXPECT_EQ(cert.out.rfind("-----BEGIN CERTIFICATE-----", 0), 0U);
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("frobnicate").status, 2);
  EXPECT_EQ(run("keygen dsa " + path("x.pem")).status, 2);
  EXPECT_EQ(run("sign " + path("ec.pem") + " --iss=x").status, 2);  // no aud, no sub
  EXPECT_EQ(run("sign " + path("ec.pem") + base + " --ttl-s=soon").status, 2);
  EXPECT_EQ(run("sign " + path("ec.pem") + base + " --colour=blue").status, 2);
  EXPECT_EQ(run("sign " + path("absent.pem") + base).status, 1);
  EXPECT_EQ(run("--help").status, 0);
}

}  // namespace
}  // namespace wallet::auth
