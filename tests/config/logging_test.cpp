// The JSON log lines of wallet_logging: escaping, shape, level filtering, and that each line is
// valid JSON whatever text it carries.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include "wallet/config/schema.hpp"
#include "wallet/logging/log.hpp"

namespace wallet::logging {
namespace {

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(json_string(std::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb0"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb0\"");
  EXPECT_EQ(json_string("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(json_string("\xc3"), "\"\\ufffd\"");                                   // truncated
  EXPECT_EQ(json_string("\xc0\xaf"), "\"\\ufffd\\ufffd\"");                        // overlong '/'
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");             // a surrogate
  EXPECT_EQ(json_string("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
}

TEST(FormatLine, HasTheDocumentedShape) {
  using namespace std::chrono;
  const system_clock::time_point ts =
      sys_days{year{2026} / 11 / 30} + hours{3} + minutes{25} + seconds{48} + microseconds{123456};
  EXPECT_EQ(format_line(ts, level::info, "walletd", "walletd starting",
                        {{"version", "0.1.0"},
                         {"pid", 42},
                         {"ready", false},
                         {"config", raw_json{R"({"http":{"port":8080}})"}}}),
            R"({"ts":"2026-11-30T03:25:48.123456Z","level":"info","logger":"walletd",)"
            R"("msg":"walletd starting","version":"0.1.0","pid":42,"ready":false,)"
            R"("config":{"http":{"port":8080}}})");
}

TEST(FormatLine, EscapesMessageKeysAndValues) {
  const std::string line = format_line(std::chrono::system_clock::time_point{}, level::warn, "w\"d",
                                       "a \"quoted\"\nline", {{"k\\", "v\x01"}});
  EXPECT_EQ(line, R"({"ts":"1970-01-01T00:00:00.000000Z","level":"warn","logger":"w\"d",)"
                  R"("msg":"a \"quoted\"\nline","k\\":"v\u0001"})");
  boost::json::error_code ec;
  boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
}

TEST(Logger, WritesOneValidJsonLinePerEventAtOrAboveItsLevel) {
  auto out = std::make_shared<std::string>();
  const logger log("walletd", level::info, out);
  log.debug("dropped");
  log.info("kept", {{"n", 1}});
  log.error("bad \xff byte", {{"why", "\"\n"}});
  EXPECT_FALSE(log.enabled(level::debug));
  EXPECT_TRUE(log.enabled(level::warn));

  std::istringstream lines(*out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    boost::json::error_code ec;
    const boost::json::value v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    EXPECT_EQ(v.at("logger"), "walletd");
    EXPECT_TRUE(v.at("ts").as_string().ends_with("Z"));
  }
  EXPECT_EQ(count, 2);
  EXPECT_NE(out->find(R"("level":"info","logger":"walletd","msg":"kept","n":1})"),
            std::string::npos)
      << *out;
  EXPECT_NE(out->find(R"("level":"error")"), std::string::npos) << *out;
  EXPECT_EQ(out->find("dropped"), std::string::npos);
}

TEST(Level, NamesRoundTrip) {
  for (const level l : {level::trace, level::debug, level::info, level::warn, level::error}) {
    EXPECT_EQ(parse_level(name(l)), l);
  }
  EXPECT_EQ(parse_level("warning"), std::nullopt);
}

TEST(Level, EveryLogLevelSettingWordIsALoggerLevel) {
  const auto& s = config::settings[*config::find_setting("log.level")];
  std::string_view words = s.allowed;
  while (!words.empty()) {
    const std::size_t bar = std::min(words.find('|'), words.size());
    EXPECT_TRUE(parse_level(words.substr(0, bar))) << words.substr(0, bar);
    words.remove_prefix(std::min(bar + 1, words.size()));
  }
}

}  // namespace
}  // namespace wallet::logging
