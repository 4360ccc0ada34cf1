// load(): precedence of file < environment < flags, and one precise error per bad input.
#include "wallet/config/load.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace wallet::config {
namespace {

using files = std::map<std::string, std::string>;

// Every input injected: no setenv, no files on disk.
loaded load_with(std::vector<std::string> args, environment env = {}, files fs = {}) {
  inputs in;
  in.args = std::move(args);
  in.env = std::move(env);
  in.read = [fs = std::move(fs)](const std::string& path) -> file_text {
    const auto it = fs.find(path);
    if (it == fs.end()) return {std::nullopt, "No such file or directory"};
    return {it->second, {}};
  };
  return load(in);
}

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

// Exactly one error, equal to `expected`.
void expect_error(const loaded& l, const std::string& expected) {
  ASSERT_EQ(l.errors.size(), 1U) << joined(l.errors);
  EXPECT_EQ(l.errors[0], expected);
}

TEST(Load, NoSourceGivesTheDefaults) {
  const loaded l = load_with({});
  ASSERT_TRUE(l.ok()) << joined(l.errors);
  EXPECT_EQ(l.what, action::run);
  EXPECT_EQ(l.values, config{});
  EXPECT_EQ(l.file, "");
  EXPECT_EQ(l.values.integer("store.batch_size_max"), 512);
  EXPECT_EQ(l.values.text("log.level"), "info");
  EXPECT_EQ(l.values.origin_of("store.batch_size_max").from, source::default_value);
}

TEST(Load, FlagOverridesEnvironmentOverridesFileOverridesDefault) {
  const files fs{{"/etc/walletd.json",
                  R"({"store": {"batch_size_max": 100, "queue_max": 1000},
                      "http": {"port": 8081}})"}};
  const environment env{{"WALLETD_STORE__BATCH_SIZE_MAX", "200"},
                        {"WALLETD_STORE__QUEUE_MAX", "2000"}};
  const loaded l = load_with({"--config=/etc/walletd.json", "--store.batch_size_max=300"}, env, fs);
  ASSERT_TRUE(l.ok()) << joined(l.errors);
  EXPECT_EQ(l.file, "/etc/walletd.json");
  EXPECT_EQ(l.values.integer("store.batch_size_max"), 300);  // flag over env over file
  EXPECT_EQ(l.values.origin_of("store.batch_size_max").from, source::flag);
  EXPECT_EQ(l.values.origin_of("store.batch_size_max").where, "--store.batch_size_max");
  EXPECT_EQ(l.values.integer("store.queue_max"), 2000);  // env over file
  EXPECT_EQ(l.values.origin_of("store.queue_max").from, source::environment);
  EXPECT_EQ(l.values.origin_of("store.queue_max").where, "WALLETD_STORE__QUEUE_MAX");
  EXPECT_EQ(l.values.integer("http.port"), 8081);  // file over default
  EXPECT_EQ(l.values.origin_of("http.port").from, source::file);
  EXPECT_EQ(l.values.origin_of("http.port").where, "/etc/walletd.json");
  EXPECT_EQ(l.values.integer("metrics.port"), 9464);  // default
  EXPECT_EQ(l.values.origin_of("metrics.port").from, source::default_value);
}

TEST(Load, EachSourceAloneIsApplied) {
  EXPECT_EQ(load_with({}, {}, {{"f", R"({"log": {"level": "debug"}})"}}).values.text("log.level"),
            "info");  // a file is only read when named
  EXPECT_EQ(load_with({"--config", "f"}, {}, {{"f", R"({"log": {"level": "debug"}})"}})
                .values.text("log.level"),
            "debug");
  EXPECT_EQ(load_with({}, {{"WALLETD_LOG__LEVEL", "warn"}}).values.text("log.level"), "warn");
  EXPECT_EQ(load_with({"--log.level=error"}).values.text("log.level"), "error");
  EXPECT_EQ(load_with({"--log.level", "trace"}).values.text("log.level"), "trace");
}

TEST(Load, ConfigFlagOverridesConfigEnvironmentVariable) {
  const files fs{{"a.json", R"({"http": {"port": 1001}})"},
                 {"b.json", R"({"http": {"port": 1002}})"}};
  const environment env{{"WALLETD_CONFIG", "a.json"}};
  EXPECT_EQ(load_with({}, env, fs).values.integer("http.port"), 1001);
  EXPECT_EQ(load_with({"--config=b.json"}, env, fs).values.integer("http.port"), 1002);
  EXPECT_EQ(load_with({"--config=b.json"}, env, fs).file, "b.json");
}

TEST(Load, OtherEnvironmentVariablesAreIgnored) {
  const loaded l = load_with({}, {{"PATH", "/bin"}, {"HOME", "/root"}, {"WALLET_X", "1"}});
  EXPECT_TRUE(l.ok()) << joined(l.errors);
}

TEST(Load, EnvironmentFromEnvironKeepsOnlyWalletdVariables) {
  const char* envp[] = {"PATH=/bin",  "WALLETD_HTTP__PORT=81", "WALLETD_CONFIG=/x=y.json",
                        "WALLETDX=1", "WALLETD_NOVALUE",       nullptr};
  const environment env = environment_from(envp);
  EXPECT_EQ(env, (environment{{"WALLETD_CONFIG", "/x=y.json"}, {"WALLETD_HTTP__PORT", "81"}}));
  EXPECT_TRUE(environment_from(nullptr).empty());
}

// Unknown names, in each source.

TEST(LoadErrors, UnknownFlag) {
  expect_error(load_with({"--store.batch_sise_max=1"}),
               "--store.batch_sise_max: unknown flag; did you mean --store.batch_size_max?");
  expect_error(load_with({"--frobnicate"}), "--frobnicate: unknown flag");
}

TEST(LoadErrors, UnknownEnvironmentVariable) {
  expect_error(load_with({}, {{"WALLETD_HTTP_PORT", "81"}}),
               "WALLETD_HTTP_PORT: unknown environment variable (settings are "
               "WALLETD_SECTION__NAME); did you mean WALLETD_HTTP__PORT?");
}

TEST(LoadErrors, UnknownKeyInFile) {
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"store": {"batch_sise_max": 1}})"}}),
               "store.batch_sise_max: unknown setting; did you mean store.batch_size_max? (from "
               "file f)");
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"stor": {}})"}}),
               "stor: unknown setting (from file f)");
}

TEST(LoadErrors, PositionalArgument) {
  expect_error(load_with({"run"}),
               "unexpected argument \"run\": settings are flags of the form --NAME=VALUE (see "
               "--help)");
}

// Bad values, with the source each came from.

TEST(LoadErrors, BadIntegerInEachSource) {
  expect_error(load_with({"--http.port=80a"}),
               "http.port: \"80a\" is not a decimal integer (from flag --http.port)");
  expect_error(load_with({}, {{"WALLETD_HTTP__PORT", "8.0"}}),
               "http.port: \"8.0\" is not a decimal integer (from environment WALLETD_HTTP__PORT)");
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"http": {"port": "80"}})"}}),
               "http.port: expected an integer, got a string (from file f)");
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"http": {"port": 80.5}})"}}),
               "http.port: expected an integer, got the number 80.5 (from file f)");
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"http": {"port": 8e1}})"}}),
               "http.port: expected an integer without fraction or exponent, got the number 80 "
               "(from file f)");
}

TEST(LoadErrors, IntegerOverflowInEachSource) {
  expect_error(load_with({"--http.port=99999999999999999999"}),
               "http.port: \"99999999999999999999\" does not fit in a 64-bit integer (from flag "
               "--http.port)");
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"http": {"port": 9223372036854775808}})"}}),
               "http.port: the number 9223372036854775808 does not fit in a 64-bit integer (from "
               "file f)");
  expect_error(
      load_with({"--config=f"}, {}, {{"f", R"({"http": {"port": 99999999999999999999}})"}}),
      "http.port: the number 1e+20 does not fit in a 64-bit integer (from file f)");
}

TEST(LoadErrors, OutOfRangeInEachSource) {
  expect_error(load_with({"--store.batch_size_max=0"}),
               "store.batch_size_max: 0 is below the minimum 1 (from flag --store.batch_size_max)");
  expect_error(load_with({}, {{"WALLETD_HTTP__PORT", "65536"}}),
               "http.port: 65536 is above the maximum 65535 (from environment WALLETD_HTTP__PORT)");
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"runtime": {"shards": -1}})"}}),
               "runtime.shards: -1 is below the minimum 1 (from file f)");
}

TEST(LoadErrors, BadChoice) {
  expect_error(load_with({"--log.level=verbose"}),
               "log.level: \"verbose\" is not one of trace, debug, info, warn, error (from flag "
               "--log.level)");
  expect_error(load_with({}, {{"WALLETD_POSTGRES__SSLMODE", "Require"}}),
               "postgres.sslmode: \"Require\" is not one of disable, allow, prefer, require, "
               "verify-ca, verify-full (from environment WALLETD_POSTGRES__SSLMODE)");
}

TEST(LoadErrors, BadUrlIsReportedRedacted) {
  expect_error(load_with({"--postgres.url=mysql://root:hunter2@db/wallet"}),
               "postgres.url: \"mysql://root:***@db/wallet\" does not start with postgresql:// or "
               "postgres:// (from flag --postgres.url)");
  expect_error(load_with({"--nats.url="}),
               "nats.url: the value is empty; it must be at least 1 byte(s) long (from flag "
               "--nats.url)");
}

TEST(LoadErrors, BadString) {
  expect_error(load_with({"--http.listen_address="}),
               "http.listen_address: the value is empty; it must be at least 1 byte(s) long (from "
               "flag --http.listen_address)");
  expect_error(load_with({}, {{"WALLETD_POSTGRES__PASSWORD_FILE", "/run/a\nb"}}),
               "postgres.password_file: the value holds a control character at byte 6 (from "
               "environment WALLETD_POSTGRES__PASSWORD_FILE)");
  expect_error(load_with({std::string("--nats.credentials_file=").append(5000, 'x')}),
               "nats.credentials_file: the value is 5000 bytes long, more than the maximum of 4096 "
               "(from flag --nats.credentials_file)");
}

TEST(LoadErrors, WrongJsonTypes) {
  const loaded l = load_with(
      {"--config=f"}, {},
      {{"f",
        R"({"log": {"level": 3}, "http": 5, "nats": {"url": null}, "metrics": {"port": [1]}})"}});
  EXPECT_EQ(l.errors, (std::vector<std::string>{
                          "log.level: expected a string, got the number 3 (from file f)",
                          "http: expected an object (a section of settings), got the number 5 "
                          "(from file f)",
                          "nats.url: expected a string, got null (from file f)",
                          "metrics.port: expected an integer, got an array (from file f)",
                      }));
}

TEST(LoadErrors, DottedKeyInFile) {
  expect_error(load_with({"--config=f"}, {}, {{"f", R"({"store.queue_max": 1})"}}),
               "store.queue_max: a key may not contain '.'; nest sections instead, as in "
               "{\"store\": {\"batch_size_max\": 512}} (from file f)");
}

// Relations.

TEST(LoadErrors, BadRelationNamesBothValuesAndTheirSources) {
  expect_error(load_with({"--store.batch_size_max=1024"}, {{"WALLETD_STORE__QUEUE_MAX", "512"}}),
               "store.batch_size_max (1024, flag --store.batch_size_max) must be <= "
               "store.queue_max (512, environment WALLETD_STORE__QUEUE_MAX): a full batch must "
               "fit in the store's queue");
  expect_error(load_with({"--instance.index=2", "--instance.count=2"}),
               "instance.index (2, flag --instance.index) must be < instance.count (2, flag "
               "--instance.count): instances are numbered 0 to instance.count - 1");
  expect_error(load_with({"--runtime.idempotency_retention_s=3600"}),
               "nats.command_max_age_s (86400, default) must be <= "
               "runtime.idempotency_retention_s (3600, flag --runtime.idempotency_retention_s): a "
               "command the stream still holds could otherwise be redelivered after its key was "
               "forgotten and applied twice");
  expect_error(load_with({"--metrics.port=8080"}),
               "http.port (8080, default) must be != metrics.port (8080, flag --metrics.port): the "
               "HTTP API and the metrics endpoint each need their own port");
  expect_error(load_with({"--shutdown.grace_period_ms=1000", "--store.flush_interval_us=1000000"}),
               "store.flush_interval_us (1000000, flag --store.flush_interval_us) must be < "
               "shutdown.grace_period_ms (1000, flag --shutdown.grace_period_ms) * 1000: a "
               "shutdown must leave time for at least one flush");
  expect_error(load_with({"--instance.count=17", "--instance.index=16"}),
               "instance.count (17, flag --instance.count) must be <= runtime.shards (16, "
               "default): every instance owns at least one shard");
}

TEST(LoadErrors, RelationsWaitForValidValues) {
  // queue_max is invalid, so batch_size_max <= queue_max is not judged on a stale value.
  const loaded l = load_with({"--store.batch_size_max=1024", "--store.queue_max=x"});
  ASSERT_EQ(l.errors.size(), 1U) << joined(l.errors);
  EXPECT_NE(l.errors[0].find("store.queue_max: \"x\""), std::string::npos);
}

TEST(LoadErrors, EveryProblemIsReportedAtOnce) {
  const loaded l = load_with({"--http.port=0", "--log.level=loud", "--nope=1"},
                             {{"WALLETD_NOPE", "1"}, {"WALLETD_STORE__QUEUE_MAX", "many"}},
                             {{"f", R"({"metrics": {"port": 0}})"}});
  EXPECT_EQ(l.errors.size(), 5U) << joined(l.errors);  // the file is not named: not read
}

// The file itself.

TEST(LoadErrors, MalformedJsonGivesLineAndColumn) {
  expect_error(load_with({"--config=f"}, {}, {{"f", "{\n  \"store\": {\"queue_max\": 5,}\n}\n"}}),
               "f:2:28: invalid JSON: syntax error");
  expect_error(load_with({"--config=f"}, {}, {{"f", "{} {}"}}), "f:1:4: text after the JSON value");
  expect_error(load_with({"--config=f"}, {}, {{"f", ""}}), "f:1:1: invalid JSON: incomplete JSON");
}

TEST(LoadErrors, DuplicateKeyInFile) {
  expect_error(
      load_with({"--config=f"}, {}, {{"f", R"({"store": {"queue_max": 5, "queue_max": 6}})"}}),
      "f:1:38: key \"queue_max\" appears twice in the same object");
}

TEST(Load, CommentsAreAllowedInTheFile) {
  const loaded l =
      load_with({"--config=f"}, {}, {{"f", "// walletd\n{\"http\": {/* API */ \"port\": 81}}\n"}});
  ASSERT_TRUE(l.ok()) << joined(l.errors);
  EXPECT_EQ(l.values.integer("http.port"), 81);
}

TEST(LoadErrors, FileIsNotAnObject) {
  expect_error(load_with({"--config=f"}, {}, {{"f", "[]"}}),
               "f: the file must hold a JSON object, not an array");
}

TEST(LoadErrors, MissingFile) {
  expect_error(load_with({"--config=/nope.json"}),
               "configuration file /nope.json (from flag --config): cannot be read: No such file "
               "or directory");
  expect_error(load_with({}, {{"WALLETD_CONFIG", "/nope.json"}}),
               "configuration file /nope.json (from environment WALLETD_CONFIG): cannot be read: "
               "No such file or directory");
}

TEST(LoadErrors, EmptyConfigPath) {
  expect_error(load_with({"--config="}), "--config: the path is empty");
  expect_error(load_with({}, {{"WALLETD_CONFIG", ""}}), "WALLETD_CONFIG: the path is empty");
}

TEST(LoadErrors, ReaderExceptionBecomesAnError) {
  inputs in;
  in.args = {"--config=f"};
  in.read = [](const std::string&) -> file_text { throw std::runtime_error("disk on fire"); };
  loaded l;
  EXPECT_NO_THROW(l = load(in));
  expect_error(l, "configuration file f (from flag --config): cannot be read: disk on fire");
}

// The command line's shape.

TEST(LoadErrors, FlagGivenTwice) {
  expect_error(load_with({"--http.port=81", "--http.port", "82"}), "--http.port: given twice");
  expect_error(load_with({"--config=a", "--config=b"}, {}, {{"a", "{}"}, {"b", "{}"}}),
               "--config: given twice");
}

TEST(LoadErrors, FlagWithoutValue) {
  expect_error(load_with({"--http.port"}), "--http.port: needs a value, as in --http.port=VALUE");
  expect_error(load_with({"--http.port", "--print-config"}),
               "--http.port: needs a value, as in --http.port=VALUE");
  expect_error(load_with({"--version=1"}), "--version: takes no value");
}

TEST(Load, Actions) {
  EXPECT_EQ(load_with({"--help"}).what, action::help);
  EXPECT_EQ(load_with({"-h"}).what, action::help);
  EXPECT_EQ(load_with({"--version"}).what, action::version);
  EXPECT_EQ(load_with({"--print-config"}).what, action::print_config);
  EXPECT_EQ(load_with({"--print-config", "--version"}).what, action::version);
  EXPECT_EQ(load_with({"--version", "--help", "--print-config"}).what, action::help);
}

TEST(Load, HelpAndVersionReadNoFile) {
  const loaded l = load_with({"--help", "--config=/nope.json"});
  EXPECT_EQ(l.what, action::help);
  EXPECT_TRUE(l.ok()) << joined(l.errors);
}

TEST(Load, PrintConfigStillValidates) {
  const loaded l = load_with({"--print-config", "--http.port=0"});
  EXPECT_EQ(l.what, action::print_config);
  EXPECT_FALSE(l.ok());
}

TEST(Load, TypedAccessors) {
  const loaded l =
      load_with({"--store.flush_interval_us=250", "--shutdown.grace_period_ms=2000",
                 "--runtime.idempotency_retention_s=3600", "--nats.command_max_age_s=3600"});
  ASSERT_TRUE(l.ok()) << joined(l.errors);
  using std::chrono::microseconds;
  EXPECT_EQ(l.values.duration("store.flush_interval_us"), microseconds(250));
  EXPECT_EQ(l.values.duration("shutdown.grace_period_ms"), std::chrono::seconds(2));
  EXPECT_EQ(l.values.duration("runtime.idempotency_retention_s"), std::chrono::hours(1));
  EXPECT_EQ(l.values.text("postgres.url"), "postgresql://wallet@127.0.0.1:55432/wallet");
}

TEST(ReadFile, ReadsAndRefuses) {
  const std::string dir = testing::TempDir();
  const std::string path = dir + "/walletd_read_file_test.json";
  std::ofstream(path) << "{\"http\": {\"port\": 81}}";
  const file_text ok = read_file(path);
  ASSERT_TRUE(ok.text) << ok.error;
  EXPECT_EQ(*ok.text, "{\"http\": {\"port\": 81}}");

  const file_text missing = read_file(dir + "/walletd_no_such_file.json");
  EXPECT_FALSE(missing.text);
  EXPECT_EQ(missing.error, "No such file or directory");

  const file_text directory = read_file(dir);
  EXPECT_FALSE(directory.text);
  EXPECT_EQ(directory.error, "Is a directory");

  std::ofstream(path) << std::string(file_size_max + 1, ' ');
  const file_text large = read_file(path);
  EXPECT_FALSE(large.text);
  EXPECT_EQ(large.error, "larger than 1048576 bytes");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace wallet::config
