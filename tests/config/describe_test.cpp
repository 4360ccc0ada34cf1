// The schema as people read it: docs/configuration.md, the example file, --help and
// --print-config may not drift from the table.
#include "wallet/config/describe.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "wallet/config/load.hpp"
#include "wallet/config/text.hpp"

namespace wallet::config {
namespace {

std::string read_text(const char* path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `text` as Markdown code. Appends only: GCC 12 at -O3 warns (-Wrestrict, a false positive) on
// "literal" + std::string.
std::string code(std::string_view text) { return std::string("`").append(text).append("`"); }

TEST(Docs, MentionEverySettingAndItsEnvironmentVariable) {
  const std::string docs = read_text(WALLET_CONFIGURATION_DOC);
  for (const setting& s : settings) {
    EXPECT_NE(docs.find(code(s.name)), std::string::npos)
        << "docs/configuration.md does not mention " << s.name;
    EXPECT_NE(docs.find(code(environment_name(s.name))), std::string::npos)
        << "docs/configuration.md does not mention " << environment_name(s.name);
  }
}

TEST(Docs, CarryTheReferenceGeneratedFromTheSchema) {
  const std::string docs = read_text(WALLET_CONFIGURATION_DOC);
  const std::size_t begin_marker = docs.find("<!-- settings-reference:begin");
  const std::size_t end = docs.find("<!-- settings-reference:end -->");
  ASSERT_NE(begin_marker, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  const std::size_t begin = docs.find('\n', begin_marker) + 1;
  ASSERT_LE(begin, end);
  EXPECT_EQ(docs.substr(begin, end - begin), markdown_reference())
      << "docs/configuration.md is out of date: replace the lines between the "
         "settings-reference markers with:\n"
      << markdown_reference();
}

TEST(Example, ListsEverySettingAtItsDefault) {
  config cfg;
  std::vector<std::string> errors;
  apply_file(read_text(WALLET_EXAMPLE_CONFIG), "walletd.json", cfg, errors);
  ASSERT_TRUE(errors.empty()) << errors.front();
  for (std::size_t i = 0; i < settings.size(); ++i) {
    EXPECT_EQ(cfg.origin_at(i).from, source::file) << settings[i].name << " is not in the example";
    EXPECT_EQ(cfg.at(i), config{}.at(i)) << settings[i].name << " is not at its default";
  }
}

TEST(Help, ListsEverySettingWithItsFlagAndEnvironmentVariable) {
  const std::string help = help_text();
  for (const setting& s : settings) {
    EXPECT_NE(help.find(std::string("--").append(s.name).append("=")), std::string::npos) << s.name;
    EXPECT_NE(help.find(environment_name(s.name)), std::string::npos) << s.name;
    EXPECT_NE(help.find(s.doc), std::string::npos) << s.name;
  }
  EXPECT_NE(help.find("--print-config"), std::string::npos);
  EXPECT_NE(help.find("WALLETD_CONFIG"), std::string::npos);
}

// A configuration with a value of every setting changed (where bounds allow), by flags.
config changed_config() {
  inputs in;
  in.args = {"--log.level=debug",
             "--instance.index=1",
             "--instance.count=2",
             "--runtime.shards=32",
             "--store.batch_size_max=1024",
             "--postgres.url=postgresql://app@db.internal:5432/wallet?sslmode=require",
             "--postgres.password_file=/run/secrets/pg \"x\"",
             "--nats.url=nats://n1:4222,nats://n2:4222",
             "--http.port=8081"};
  const loaded l = load(in);
  EXPECT_TRUE(l.ok());
  return l.values;
}

TEST(PrintConfig, ReadsBackAsAConfigurationFile) {
  const config printed = changed_config();
  config read_back;
  std::vector<std::string> errors;
  apply_file(to_json(printed, true), "printed.json", read_back, errors);
  ASSERT_TRUE(errors.empty()) << errors.front();
  for (std::size_t i = 0; i < settings.size(); ++i) {
    EXPECT_EQ(read_back.at(i), printed.at(i)) << settings[i].name;
  }
}

TEST(PrintConfig, CompactFormIsOneLine) {
  const std::string compact = to_json(config{}, false);
  EXPECT_EQ(compact.find('\n'), std::string::npos);
  EXPECT_TRUE(compact.starts_with(
      "{\"log\":{\"level\":\"info\",\"flush_interval_ms\":10,\"buffer_bytes_max\":1048576},"
      "\"instance\":{\"index\":0,"))
      << compact;
}

TEST(PrintConfig, RedactsUrlPasswords) {
  inputs in;
  in.args = {"--postgres.url=postgresql://wallet:hunter2@db/wallet",
             "--nats.url=nats://user:natspass@n1:4222"};
  const loaded l = load(in);
  ASSERT_TRUE(l.ok());
  for (const bool pretty : {false, true}) {
    const std::string json = to_json(l.values, pretty);
    EXPECT_EQ(json.find("hunter2"), std::string::npos) << json;
    EXPECT_EQ(json.find("natspass"), std::string::npos) << json;
    EXPECT_NE(json.find("postgresql://wallet:***@db/wallet"), std::string::npos) << json;
    EXPECT_NE(json.find("nats://user:***@n1:4222"), std::string::npos) << json;
  }
  // The value itself is intact for the code that connects.
  EXPECT_EQ(l.values.text("postgres.url"), "postgresql://wallet:hunter2@db/wallet");
}

}  // namespace
}  // namespace wallet::config
