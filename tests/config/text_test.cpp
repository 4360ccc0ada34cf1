// Strict parsing of values from text, redaction, environment names and typo hints.
#include "wallet/config/text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>

namespace wallet::config {
namespace {

// `"text" rest`, built by appending: GCC 12 at -O3 warns (-Wrestrict, a false positive) on
// "literal" + std::string chains.
std::string quoted(std::string_view text, std::string_view rest) {
  return std::string("\"").append(text).append("\"").append(rest);
}

std::int64_t integer_of(std::string_view text) {
  const parsed p = parse_integer(text);
  EXPECT_TRUE(p.ok) << text << ": " << p.error;
  return p.ok ? std::get<std::int64_t>(*p.ok) : -1;
}

TEST(ParseInteger, AcceptsPlainDecimals) {
  EXPECT_EQ(integer_of("0"), 0);
  EXPECT_EQ(integer_of("512"), 512);
  EXPECT_EQ(integer_of("-5"), -5);
  EXPECT_EQ(integer_of("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(integer_of("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
}

TEST(ParseInteger, RefusesEverythingElse) {
  for (const char* bad :
       {"", "-", "+5", " 5", "5 ", "1.0", "1e3", "0x10", "1_000", "1'000", "5x", "--5", "١٢"}) {
    const parsed p = parse_integer(bad);
    EXPECT_FALSE(p.ok) << bad;
    EXPECT_EQ(p.error, quoted(bad, " is not a decimal integer")) << bad;
  }
  EXPECT_EQ(parse_integer("0512").error, "\"0512\" has a leading zero (decimal integers only)");
  EXPECT_EQ(parse_integer("-07").error, "\"-07\" has a leading zero (decimal integers only)");
  for (const char* big : {"9223372036854775808", "-9223372036854775809", "99999999999999999999",
                          "18446744073709551616"}) {
    EXPECT_EQ(parse_integer(big).error, quoted(big, " does not fit in a 64-bit integer"));
  }
}

TEST(ParseBoolean, OnlyTrueAndFalse) {
  EXPECT_EQ(parse_boolean("true").ok, value{true});
  EXPECT_EQ(parse_boolean("false").ok, value{false});
  for (const char* bad : {"", "TRUE", "True", "1", "0", "yes", "on", "true "}) {
    EXPECT_EQ(parse_boolean(bad).error, quoted(bad, " is not a boolean (true or false)"));
  }
}

TEST(ParseValue, BooleanSettingsUseTheStrictForm) {
  constexpr setting flag = boolean_setting("test.enabled", true, "A test switch.");
  EXPECT_EQ(parse_value(flag, "false").ok, value{false});
  EXPECT_FALSE(parse_value(flag, "no").ok);
  EXPECT_EQ(render(flag, value{true}), "true");
}

TEST(ParseValue, ErrorsShowControlCharactersEscapedAndLongTextCut) {
  EXPECT_EQ(parse_integer("1\n2").error, "\"1\\x0a2\" is not a decimal integer");
  const std::string long_text(100, '7');
  EXPECT_EQ(parse_integer(long_text + "x").error,
            quoted(std::string(80, '7').append("..."), " is not a decimal integer"));
}

TEST(Render, SecretsAreNeverShown) {
  constexpr setting token = secret_setting("test.token", 256, "A test secret.");
  EXPECT_EQ(render(token, value{std::string("s3cr3t")}), "***");
  EXPECT_EQ(render(token, value{std::string()}), "");  // shows that it is unset, nothing more
  // Bound errors of a secret never quote it.
  const parsed p = parse_value(token, std::string(300, 's'));
  EXPECT_EQ(p.error, "the value is 300 bytes long, more than the maximum of 256");
}

TEST(Render, UrlPasswordsAreRedacted) {
  const setting& url = settings[*find_setting("postgres.url")];
  EXPECT_EQ(render(url, value{std::string("postgresql://wallet:hunter2@db:5432/wallet")}),
            "postgresql://wallet:***@db:5432/wallet");
}

TEST(RedactUrl, HidesUserinfoPasswords) {
  EXPECT_EQ(redact_url("postgresql://u:p@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_url("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(redact_url("postgresql://h:5432/db"), "postgresql://h:5432/db");
  EXPECT_EQ(redact_url("postgresql://u:@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
}

TEST(RedactUrl, HidesUnencodedPasswordsWhole) {
  // '@', '/', '?' and ':' in a password that was not percent-encoded.
  EXPECT_EQ(redact_url("postgresql://u:p@ss@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_url("postgresql://u:pa/ss@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_url("postgresql://u:pa?ss@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_url("postgresql://u:pa:ss@h/db"), "postgresql://u:***@h/db");
}

TEST(RedactUrl, HidesPasswordParameters) {
  EXPECT_EQ(redact_url("postgresql://h/db?password=secret&sslmode=require"),
            "postgresql://h/db?password=***&sslmode=require");
  EXPECT_EQ(redact_url("postgresql://h/db?PASSWORD=secret"), "postgresql://h/db?PASSWORD=***");
  EXPECT_EQ(redact_url("host=h password=secret dbname=x"), "host=h password=*** dbname=x");
  EXPECT_EQ(redact_url("postgresql://u:a@h/db?password=b&password=cc"),
            "postgresql://u:***@h/db?password=***&password=***");
}

TEST(RedactUrl, HidesEveryPasswordOfAList) {
  EXPECT_EQ(redact_url("nats://a:1@n1:4222,nats://b:2@n2:4222,nats://n3:4222"),
            "nats://a:***@n1:4222,nats://b:***@n2:4222,nats://n3:4222");
  EXPECT_EQ(redact_url("postgresql://u:p@h1:5432,h2:5432/db"),
            "postgresql://u:***@h1:5432,h2:5432/db");
}

TEST(RedactUrl, MayHideTooMuchButNeverTooLittle) {
  // An '@' in the query makes the port look like a password: hidden, harmlessly.
  EXPECT_EQ(redact_url("postgresql://h:5432/db?application_name=a@b"), "postgresql://h:***@b");
}

TEST(EnvironmentName, MapsDotsToDoubleUnderscores) {
  EXPECT_EQ(environment_name("store.batch_size_max"), "WALLETD_STORE__BATCH_SIZE_MAX");
  EXPECT_EQ(environment_name("http.port"), "WALLETD_HTTP__PORT");
}

TEST(EnvironmentName, IsOneToOneOverTheSchema) {
  std::set<std::string> names{std::string(environment_config_file)};
  for (const setting& s : settings) {
    EXPECT_TRUE(names.insert(environment_name(s.name)).second) << s.name;
  }
}

TEST(Nearest, SuggestsOnlyCloseNames) {
  const std::vector<std::string> names{"store.batch_size_max", "store.queue_max", "http.port"};
  EXPECT_EQ(nearest("store.batch_sise_max", names), "store.batch_size_max");
  EXPECT_EQ(nearest("store.queuemax", names), "store.queue_max");
  EXPECT_EQ(nearest("htp.port", names), "http.port");
  EXPECT_EQ(nearest("log.level", names), std::nullopt);
  EXPECT_EQ(nearest("x", names), std::nullopt);
}

}  // namespace
}  // namespace wallet::config
