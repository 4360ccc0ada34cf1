// The settings table: well-formed, its defaults valid, and reachable by compile-time keys.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "wallet/config/config.hpp"
#include "wallet/config/text.hpp"

namespace wallet::config {
namespace {

TEST(Schema, DefaultsAreValid) {
  EXPECT_TRUE(validate(config{}).empty());
  for (const setting& s : settings) {
    EXPECT_EQ(check_bounds(s, config{}.at(*find_setting(s.name))), "") << s.name;
  }
}

TEST(Schema, NamesAreUniqueAndFound) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < settings.size(); ++i) {
    EXPECT_TRUE(names.insert(settings[i].name).second) << settings[i].name;
    EXPECT_EQ(find_setting(settings[i].name), i);
  }
  EXPECT_EQ(find_setting("store.batch_sise_max"), std::nullopt);
}

TEST(Schema, HoldsTheSettingsOfIssueSix) {
  for (const char* name : {"log.level",
                           "instance.index",
                           "instance.count",
                           "runtime.shards",
                           "runtime.wallets_resident_max",
                           "runtime.wallets_live_max",
                           "runtime.wallet_inflight_max",
                           "runtime.idempotency_retention_s",
                           "store.batch_size_max",
                           "store.flush_interval_us",
                           "store.queue_max",
                           "postgres.url",
                           "postgres.password_file",
                           "postgres.sslmode",
                           "nats.url",
                           "nats.credentials_file",
                           "http.listen_address",
                           "http.port",
                           "http.connections_max",
                           "metrics.port",
                           "shutdown.grace_period_ms"}) {
    EXPECT_TRUE(find_setting(name)) << name;
  }
}

TEST(Schema, KeysResolveAtCompileTime) {
  constexpr integer_key batch = "store.batch_size_max";
  constexpr text_key level = "log.level";
  constexpr duration_key grace = "shutdown.grace_period_ms";
  static_assert(settings[batch.index].name == "store.batch_size_max");
  static_assert(settings[level.index].type == kind::choice);
  static_assert(grace.microseconds_per_unit == 1'000);
  static_assert(duration_key("store.flush_interval_us").microseconds_per_unit == 1);
  static_assert(duration_key("runtime.idempotency_retention_s").microseconds_per_unit == 1'000'000);
  // A misspelt name or one of the wrong kind does not compile: see key_compile_check.cpp.
  EXPECT_EQ(config{}.integer(batch), 512);
}

TEST(Config, SetReplacesValueAndOrigin) {
  config cfg;
  cfg.set(*find_setting("http.port"), value{std::int64_t{81}}, origin{source::flag, "--http.port"});
  EXPECT_EQ(cfg.integer("http.port"), 81);
  EXPECT_EQ(describe(cfg.origin_of("http.port")), "flag --http.port");
  EXPECT_NE(cfg, config{});
}

TEST(Config, ValidateChecksBoundsThenRelations) {
  config cfg;
  cfg.set(*find_setting("http.port"), value{std::int64_t{0}}, origin{});
  cfg.set(*find_setting("metrics.port"), value{std::int64_t{0}}, origin{});
  // Both out of bounds; the relation between them is not reported on top.
  EXPECT_EQ(validate(cfg),
            (std::vector<std::string>{"http.port: 0 is below the minimum 1 (from default)",
                                      "metrics.port: 0 is below the minimum 1 (from default)"}));
}

TEST(Config, DescribesOrigins) {
  EXPECT_EQ(describe(origin{}), "default");
  EXPECT_EQ(describe(origin{source::file, "/etc/w.json"}), "file /etc/w.json");
  EXPECT_EQ(describe(origin{source::environment, "WALLETD_HTTP__PORT"}),
            "environment WALLETD_HTTP__PORT");
  EXPECT_EQ(describe(origin{source::flag, "--http.port"}), "flag --http.port");
}

TEST(Config, SetWithTheWrongTypeIsAProgrammerError) {
  config cfg;
  EXPECT_DEATH(cfg.set(*find_setting("http.port"), value{std::string("80")}, origin{}),
               "value of the wrong type");
}

}  // namespace
}  // namespace wallet::config
