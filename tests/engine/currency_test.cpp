// Tests for currency.hpp: lookups by code, the codes refused, the "no currency" placeholder, and
// the shape of the table itself (sorted, unique, well-formed, round-trips through from_code).
#include "wallet/engine/currency.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace wallet::engine {
namespace {

struct known_case {
  std::string_view code;
  std::uint16_t numeric;
  std::uint8_t exponent;
};

TEST(currency_test, finds_known_currencies_with_numeric_code_and_exponent) {
  const known_case cases[] = {
      {"EUR", 978, 2}, {"USD", 840, 2}, {"GBP", 826, 2}, {"CHF", 756, 2}, {"JPY", 392, 0},
      {"KRW", 410, 0}, {"ISK", 352, 0}, {"CLP", 152, 0}, {"XOF", 952, 0}, {"VND", 704, 0},
      {"UGX", 800, 0}, {"KWD", 414, 3}, {"BHD", 48, 3},  {"JOD", 400, 3}, {"OMR", 512, 3},
      {"TND", 788, 3}, {"IQD", 368, 3}, {"LYD", 434, 3}, {"CLF", 990, 4}, {"UYW", 927, 4},
      {"ALL", 8, 2},   {"DZD", 12, 2},  {"AED", 784, 2}, {"ZWG", 924, 2}, {"XCG", 532, 2},
      {"SLE", 925, 2}, {"VES", 928, 2}, {"VED", 926, 2}, {"MRU", 929, 2}, {"STN", 930, 2},
      {"UYI", 940, 0}, {"USN", 997, 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.code));
    const auto found = currency::from_code(c.code);
    ASSERT_TRUE(found.has_value());
    EXPECT_FALSE(found->is_none());
    EXPECT_EQ(found->code(), c.code);
    EXPECT_EQ(found->numeric(), c.numeric);
    EXPECT_EQ(found->exponent(), c.exponent);
    EXPECT_EQ(found->info().code, c.code);
  }
}

TEST(currency_test, finds_the_first_and_last_entries_of_the_table) {
  const auto all = active_currencies();
  ASSERT_FALSE(all.empty());
  EXPECT_TRUE(currency::from_code(all.front().code).has_value());
  EXPECT_TRUE(currency::from_code(all.back().code).has_value());
  EXPECT_EQ(all.front().code, "AED");
  EXPECT_EQ(all.back().code, "ZWG");
}

TEST(currency_test, refuses_codes_that_are_not_three_uppercase_letters) {
  using namespace std::string_view_literals;
  const std::string_view cases[] = {
      "",    "E",   "EU",  "EURO", "EUR ", " EUR",    "eur",    "Eur",        "eUR",
      "EuR", "EU1", "E R", "EU-",  "123",  "EUR\0"sv, "EU\0"sv, "\xC3\x89UR", "usd",
  };
  for (const std::string_view code : cases) {
    SCOPED_TRACE("\"" + std::string(code) + "\"");
    EXPECT_FALSE(currency::from_code(code).has_value());
  }
}

TEST(currency_test, refuses_unknown_codes) {
  const std::string_view cases[] = {"ABC", "AAA", "ZZZ", "QQQ", "EUX", "USE", "AEA", "ZXX"};
  for (const std::string_view code : cases) {
    SCOPED_TRACE(std::string(code));
    EXPECT_FALSE(currency::from_code(code).has_value());
  }
}

TEST(currency_test, refuses_codes_without_a_minor_unit) {
  // Metals, bond-market units, SDR, Sucre, ADB unit of account, testing and "no currency".
  const std::string_view cases[] = {"XAU", "XAG", "XPD", "XPT", "XDR", "XSU", "XUA",
                                    "XBA", "XBB", "XBC", "XBD", "XTS", "XXX"};
  for (const std::string_view code : cases) {
    SCOPED_TRACE(std::string(code));
    EXPECT_FALSE(currency::from_code(code).has_value());
  }
}

TEST(currency_test, refuses_withdrawn_codes) {
  const std::string_view cases[] = {"HRK", "ANG", "CUC", "ZWL", "SLL", "BGN", "VEF", "MRO",
                                    "STD", "BYR", "LTL", "LVL", "EEK", "DEM", "FRF", "ZWD"};
  for (const std::string_view code : cases) {
    SCOPED_TRACE(std::string(code));
    EXPECT_FALSE(currency::from_code(code).has_value());
  }
}

TEST(currency_test, reads_only_the_three_characters_it_is_given) {
  // A view into a longer buffer: the lookup must not read past the view's end.
  const std::string_view buffer = "EURO";
  const auto eur = currency::from_code(buffer.substr(0, 3));
  ASSERT_TRUE(eur.has_value());
  EXPECT_EQ(eur->code(), "EUR");
  EXPECT_FALSE(currency::from_code(buffer.substr(1, 3)).has_value());  // "URO"
}

TEST(currency_test, default_is_the_no_currency_placeholder) {
  const currency none;
  EXPECT_TRUE(none.is_none());
  EXPECT_EQ(none.code(), "XXX");
  EXPECT_EQ(none.numeric(), 999);
  EXPECT_EQ(none.exponent(), 0);
  EXPECT_EQ(none, currency{});
}

TEST(currency_test, compares_by_identity) {
  const auto eur = currency::from_code("EUR");
  const auto eur_again = currency::from_code("EUR");
  const auto usd = currency::from_code("USD");
  ASSERT_TRUE(eur && eur_again && usd);
  EXPECT_EQ(*eur, *eur_again);
  EXPECT_NE(*eur, *usd);
  EXPECT_NE(*eur, currency{});
}

// ---- the table ----------------------------------------------------------------------------------

TEST(currency_table_test, codes_are_three_uppercase_ascii_letters) {
  for (const auto& entry : active_currencies()) {
    SCOPED_TRACE(std::string(entry.code));
    ASSERT_EQ(entry.code.size(), 3U);
    EXPECT_TRUE(std::all_of(entry.code.begin(), entry.code.end(),
                            [](char c) { return c >= 'A' && c <= 'Z'; }));
  }
}

TEST(currency_table_test, is_sorted_by_code_with_unique_codes) {
  const auto all = active_currencies();
  EXPECT_TRUE(std::is_sorted(
      all.begin(), all.end(),
      [](const currency_info& a, const currency_info& b) { return a.code < b.code; }));
  std::set<std::string_view> codes;
  for (const auto& entry : all) {
    EXPECT_TRUE(codes.insert(entry.code).second) << "duplicate code " << entry.code;
  }
}

TEST(currency_table_test, numeric_codes_are_unique_and_in_range) {
  std::set<std::uint16_t> numerics;
  for (const auto& entry : active_currencies()) {
    SCOPED_TRACE(std::string(entry.code));
    EXPECT_GE(entry.numeric, 1);
    EXPECT_LE(entry.numeric, 999);
    EXPECT_TRUE(numerics.insert(entry.numeric).second) << "duplicate numeric " << entry.numeric;
  }
}

TEST(currency_table_test, exponents_are_those_iso_uses) {
  for (const auto& entry : active_currencies()) {
    SCOPED_TRACE(std::string(entry.code));
    EXPECT_TRUE(entry.exponent == 0 || entry.exponent == 2 || entry.exponent == 3 ||
                entry.exponent == 4);
  }
}

TEST(currency_table_test, excludes_the_placeholder) {
  for (const auto& entry : active_currencies()) {
    EXPECT_NE(entry.code, "XXX");
    EXPECT_NE(entry.numeric, 999);
  }
}

TEST(currency_table_test, every_entry_round_trips_through_from_code) {
  for (const auto& entry : active_currencies()) {
    SCOPED_TRACE(std::string(entry.code));
    const auto found = currency::from_code(entry.code);
    ASSERT_TRUE(found.has_value());
    EXPECT_FALSE(found->is_none());
    // The very same table entry, not merely an equal one.
    EXPECT_EQ(&found->info(), &entry);
  }
}

TEST(currency_table_test, holds_the_expected_number_of_currencies) {
  // Pinned so that adding or dropping a code is a deliberate, reviewed change of this number.
  EXPECT_EQ(active_currencies().size(), 164U);
}

}  // namespace
}  // namespace wallet::engine
