// The policy and flags files: what parses into which values, every refusal named by its path, the
// example files in config/examples, and the reloader (change detection, refusals keep the old
// value, a missing file).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "wallet/compliance/files.hpp"
#include "wallet/compliance/reloader.hpp"

namespace wallet::compliance {
namespace {

using engine::kyc;
using engine::kyc_limits;

const engine::currency eur = *engine::currency::from_code("EUR");
const engine::currency usd = *engine::currency::from_code("USD");
const engine::currency jpy = *engine::currency::from_code("JPY");

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A policy with each level's "*" entry given and `extra` spliced into level none.
std::string policy_text(const std::string& none_extra = "") {
  return R"({"levels": {
    "none":  {)" +
         none_extra + R"("*": {"balance_max": 100000, "withdrawal_max": 20000,
                    "daily_outgoing_max": 50000}},
    "basic": {"*": {"balance_max": "unlimited", "withdrawal_max": 500000,
                    "daily_outgoing_max": 2000000}},
    "full":  {"*": {"unlimited": true}}}})";
}

std::string policy_error(const std::string& text) {
  const auto p = parse_policy(text);
  EXPECT_FALSE(p.ok()) << "accepted: " << text;
  return p.ok() ? std::string{} : p.error();
}

TEST(policy_file, every_level_and_currency_is_read_exactly) {
  const auto p = parse_policy(policy_text(
      R"("EUR": {"balance_max": 250000, "withdrawal_max": 0, "daily_outgoing_max": "unlimited"},)"));
  ASSERT_TRUE(p.ok()) << p.error();
  const engine::policy& policy = p.value();
  EXPECT_EQ(policy.limits(kyc::none, eur), (kyc_limits{250'000, 0, std::nullopt}));
  EXPECT_EQ(policy.limits(kyc::none, usd), (kyc_limits{100'000, 20'000, 50'000}));
  EXPECT_EQ(policy.limits(kyc::basic, jpy), (kyc_limits{std::nullopt, 500'000, 2'000'000}));
  EXPECT_TRUE(policy.limits(kyc::full, eur).unlimited());
  EXPECT_FALSE(policy.is_unlimited());
}

TEST(policy_file, the_largest_int64_is_a_limit_and_anything_larger_is_refused) {
  const auto p = parse_policy(policy_text(
      R"("EUR": {"balance_max": 9223372036854775807, "withdrawal_max": 1,
                 "daily_outgoing_max": 1},)"));
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p.value().limits(kyc::none, eur).balance_max, 9'223'372'036'854'775'807);
  EXPECT_NE(policy_error(policy_text(R"("EUR": {"balance_max": 9223372036854775808,
      "withdrawal_max": 1, "daily_outgoing_max": 1},)"))
                .find("levels.none.EUR.balance_max: must be a non-negative integer"),
            std::string::npos);
}

TEST(policy_file, refusals_name_the_path_and_the_problem) {
  const auto expect = [](const std::string& text, const std::string& message) {
    const std::string error = policy_error(text);
    EXPECT_NE(error.find(message), std::string::npos) << "got: " << error;
  };
  expect("[]", "the policy must be a JSON object");
  expect("{", "the policy is not JSON");
  expect("{}", "levels: missing");
  expect(R"({"levels": {}, "version": 1})", "version: unknown key");
  expect(R"({"levels": {"none": {"*": {"unlimited": true}}, "basic": {"*": {"unlimited": true}}}})",
         "levels.full: missing (every level must be given)");
  expect(policy_text().substr(0, policy_text().size() - 2) + R"(, "gold": {}}})",
         "levels.gold: not a KYC level");
  expect(R"({"levels": {"none": {"EUR": {"unlimited": true}}, "basic": {"*": {"unlimited": true}},
            "full": {"*": {"unlimited": true}}}})",
         "levels.none.*: missing");
  expect(policy_text(R"("XAU": {"unlimited": true},)"),
         "levels.none.XAU: not an active ISO 4217 currency code");
  expect(policy_text(R"("EUR": {"balance_max": 1, "withdrawal_max": 1},)"),
         "levels.none.EUR.daily_outgoing_max: missing");
  expect(
      policy_text(R"("EUR": {"balance_max": -1, "withdrawal_max": 1, "daily_outgoing_max": 1},)"),
      "levels.none.EUR.balance_max: must be a non-negative integer");
  expect(
      policy_text(R"("EUR": {"balance_max": 1.5, "withdrawal_max": 1, "daily_outgoing_max": 1},)"),
      "levels.none.EUR.balance_max: must be a non-negative integer");
  expect(
      policy_text(R"("EUR": {"balance_max": "10", "withdrawal_max": 1, "daily_outgoing_max": 1},)"),
      "levels.none.EUR.balance_max: must be a non-negative integer");
  expect(policy_text(R"("EUR": {"balance_max": 1, "withdrawal_max": 1, "daily_outgoing_max": 1,
                               "monthly_max": 5},)"),
         "levels.none.EUR.monthly_max: unknown key");
  expect(policy_text(R"("EUR": {"unlimited": false},)"), "{\"unlimited\": true} stands alone");
  expect(policy_text(R"("EUR": {"unlimited": true, "balance_max": 1},)"), "stands alone");
  expect(policy_text(R"("EUR": 5,)"), "levels.none.EUR: must be an object");
  expect(std::string(file_bytes_max + 1, ' '), "larger than");
}

TEST(flags_file, keys_are_optional_and_take_their_defaults) {
  const auto empty = parse_flags("{}");
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_EQ(empty.value(), engine::feature_flags{});
  const auto f = parse_flags(R"({"accept_new_wallets": false, "accept_transfers": true,
      "aml_screening": true, "currency.*": false, "currency.EUR": true, "currency.USD": false})");
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_FALSE(f.value().accept_new_wallets);
  EXPECT_TRUE(f.value().accept_transfers);
  EXPECT_TRUE(f.value().aml_screening);
  EXPECT_TRUE(f.value().currency_enabled(eur));
  EXPECT_FALSE(f.value().currency_enabled(usd));
  EXPECT_FALSE(f.value().currency_enabled(jpy)) << "currency.* off: an allow list";
  EXPECT_EQ(describe(f.value()),
            "accept_new_wallets=false accept_transfers=true aml_screening=true currency.*=false "
            "currency.EUR=true currency.USD=false");
}

TEST(flags_file, encoded_flags_parse_back_to_the_same_values) {
  engine::feature_flags f;
  f.accept_new_wallets = false;
  f.aml_screening = true;
  f.currencies_by_default = false;
  f.currencies[eur.numeric()] = true;
  f.currencies[jpy.numeric()] = false;
  const std::string text = encode_flags(f);
  const auto back = parse_flags(text);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back.value(), f);
  EXPECT_NE(text.find(R"("currency.JPY":false)"), std::string::npos) << text;
  EXPECT_EQ(parse_flags(encode_flags(engine::feature_flags{})).value(), engine::feature_flags{});
}

TEST(flags_file, refusals_name_the_flag) {
  const auto expect = [](const std::string& text, const std::string& message) {
    const auto f = parse_flags(text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_NE(f.error().find(message), std::string::npos) << "got: " << f.error();
  };
  expect(R"({"accept_transfer": false})", "accept_transfer: unknown flag");
  expect(R"({"accept_transfers": "no"})", "accept_transfers: must be true or false");
  expect(R"({"accept_transfers": 0})", "accept_transfers: must be true or false");
  expect(R"({"currency.XYZ": true})", "currency.XYZ: not an active ISO 4217 currency code");
  expect(R"({"currency.eur": true})", "currency.eur: not an active ISO 4217 currency code");
  expect(R"([true])", "the flags must be a JSON object");
}

TEST(example_files, parse_and_say_what_docs_compliance_md_says) {
  const auto policy = parse_policy(read_file(WALLET_SOURCE_DIR "/config/examples/policy.json"));
  ASSERT_TRUE(policy.ok()) << policy.error();
  // Unverified owners: small amounts in EUR, nothing in other currencies; full: no limit.
  EXPECT_EQ(policy.value().limits(kyc::none, eur), (kyc_limits{100'000, 25'000, 50'000}));
  EXPECT_EQ(policy.value().limits(kyc::none, usd), (kyc_limits{0, 0, 0}));
  EXPECT_TRUE(policy.value().limits(kyc::full, usd).unlimited());
  const auto flags = parse_flags(read_file(WALLET_SOURCE_DIR "/config/examples/flags.json"));
  ASSERT_TRUE(flags.ok()) << flags.error();
  EXPECT_TRUE(flags.value().accept_new_wallets);
  EXPECT_TRUE(flags.value().accept_transfers);
  EXPECT_FALSE(flags.value().aml_screening);
}

TEST(example_files, are_the_ones_docs_compliance_md_shows) {
  const std::string doc = read_file(WALLET_SOURCE_DIR "/docs/compliance.md");
  std::optional<engine::policy> policy;
  std::optional<engine::feature_flags> flags;
  for (std::size_t at = doc.find("```json\n"); at != std::string::npos;
       at = doc.find("```json\n", at + 1)) {
    const std::size_t end = doc.find("```", at + 8);
    ASSERT_NE(end, std::string::npos);
    const std::string block = doc.substr(at + 8, end - at - 8);
    if (block.find("\"levels\"") != std::string::npos) {
      const auto p = parse_policy(block);
      ASSERT_TRUE(p.ok()) << p.error() << "\n" << block;
      policy = p.value();
    } else if (block.find("\"accept_new_wallets\"") != std::string::npos) {
      const auto f = parse_flags(block);
      ASSERT_TRUE(f.ok()) << f.error() << "\n" << block;
      flags = f.value();
    }
  }
  ASSERT_TRUE(policy.has_value()) << "no policy example in docs/compliance.md";
  ASSERT_TRUE(flags.has_value()) << "no flags example in docs/compliance.md";
  EXPECT_EQ(*policy,
            parse_policy(read_file(WALLET_SOURCE_DIR "/config/examples/policy.json")).value());
  EXPECT_EQ(*flags,
            parse_flags(read_file(WALLET_SOURCE_DIR "/config/examples/flags.json")).value());
}

// ---- The reloader.
// -------------------------------------------------------------------------------

class reloader_test : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::path(::testing::TempDir()) /
             ("flags-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json"))
                .string();
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  // Writes through a temporary file and a rename, as an operator's tooling should.
  void write(const std::string& text) {
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
    std::filesystem::rename(tmp, path_);
  }

  file_reloader make() {
    return file_reloader{path_, [this](std::string_view text) -> std::optional<std::string> {
                           auto f = parse_flags(text);
                           if (!f) return f.error();
                           current_ = f.value();
                           ++applied_;
                           return std::nullopt;
                         }};
  }

  std::string path_;
  engine::feature_flags current_;
  int applied_ = 0;
};

TEST_F(reloader_test, loads_once_and_again_only_when_the_file_changes) {
  write(R"({"accept_transfers": false})");
  file_reloader r = make();
  EXPECT_EQ(r.poll().what, file_reloader::result::loaded);
  EXPECT_FALSE(current_.accept_transfers);
  EXPECT_EQ(r.poll().what, file_reloader::result::unchanged);
  EXPECT_EQ(applied_, 1);
  write(R"({"accept_transfers": true})");
  EXPECT_EQ(r.poll().what, file_reloader::result::loaded);
  EXPECT_TRUE(current_.accept_transfers);
  EXPECT_EQ(applied_, 2);
}

TEST_F(reloader_test, a_change_in_place_with_the_same_size_is_seen_by_its_mtime) {
  write(R"({"accept_transfers": true })");
  file_reloader r = make();
  ASSERT_EQ(r.poll().what, file_reloader::result::loaded);
  // Same length, same inode: only the modification time tells.
  std::this_thread::sleep_for(std::chrono::milliseconds{20});
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << R"({"accept_transfers": false})";
  EXPECT_EQ(r.poll().what, file_reloader::result::loaded);
  EXPECT_FALSE(current_.accept_transfers);
}

TEST_F(reloader_test, a_bad_file_is_refused_once_and_the_previous_value_stays) {
  write(R"({"accept_new_wallets": false})");
  file_reloader r = make();
  ASSERT_EQ(r.poll().what, file_reloader::result::loaded);
  write(R"({"accept_new_wallets": fals)");
  const auto refused = r.poll();
  EXPECT_EQ(refused.what, file_reloader::result::refused);
  EXPECT_NE(refused.detail.find("not JSON"), std::string::npos) << refused.detail;
  EXPECT_FALSE(current_.accept_new_wallets) << "the previous value stays";
  EXPECT_EQ(r.poll().what, file_reloader::result::unchanged) << "reported once, not every poll";
  write(R"({"accept_new_wallets": true})");
  EXPECT_EQ(r.poll().what, file_reloader::result::loaded);
  EXPECT_TRUE(current_.accept_new_wallets);
}

TEST_F(reloader_test, a_missing_file_is_refused_and_loaded_when_it_appears) {
  file_reloader r = make();
  const auto missing = r.poll();
  EXPECT_EQ(missing.what, file_reloader::result::refused);
  EXPECT_NE(missing.detail.find("cannot look at"), std::string::npos) << missing.detail;
  EXPECT_EQ(r.poll().what, file_reloader::result::unchanged);
  write("{}");
  EXPECT_EQ(r.poll().what, file_reloader::result::loaded);
  std::filesystem::remove(path_);
  EXPECT_EQ(r.poll().what, file_reloader::result::refused);
  EXPECT_EQ(applied_, 1);
}

TEST_F(reloader_test, a_file_too_large_is_refused_unread) {
  write(std::string(file_bytes_max + 1, ' '));
  file_reloader r = make();
  const auto refused = r.poll();
  EXPECT_EQ(refused.what, file_reloader::result::refused);
  EXPECT_NE(refused.detail.find("larger than"), std::string::npos) << refused.detail;
  EXPECT_EQ(applied_, 0);
}

}  // namespace
}  // namespace wallet::compliance
