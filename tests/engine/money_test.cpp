// Tests for money.hpp: decimal parsing and formatting at every exponent ISO uses, each refusal
// kind and its precedence, the int64 edges, and overflow-checked arithmetic.
#include "wallet/engine/money.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wallet/engine/limits.hpp"

namespace wallet::engine {
namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

struct parse_ok_case {
  std::string_view text;
  std::uint8_t exponent;
  std::int64_t minor;
};

struct parse_error_case {
  std::string_view text;
  std::uint8_t exponent;
  amount_error error;
};

struct format_case {
  std::int64_t minor;
  std::uint8_t exponent;
  std::string_view text;
};

std::string describe(std::string_view text, std::uint8_t exponent) {
  return "text \"" + std::string(text) + "\" exponent " + std::to_string(exponent);
}

void expect_parses(const parse_ok_case& c) {
  SCOPED_TRACE(describe(c.text, c.exponent));
  const auto parsed = parse_amount(c.text, c.exponent);
  ASSERT_TRUE(parsed.ok()) << "refused as " << to_string(parsed.error());
  EXPECT_EQ(parsed.value(), c.minor);
}

void expect_refused(const parse_error_case& c) {
  SCOPED_TRACE(describe(c.text, c.exponent));
  const auto parsed = parse_amount(c.text, c.exponent);
  ASSERT_FALSE(parsed.ok()) << "parsed as " << parsed.value();
  EXPECT_EQ(to_string(parsed.error()), to_string(c.error));
}

// ---- to_string ----------------------------------------------------------------------------------

TEST(amount_error_test, codes_are_the_enumerator_names) {
  const std::vector<std::pair<amount_error, std::string_view>> cases = {
      {amount_error::empty, "empty"},
      {amount_error::too_long, "too_long"},
      {amount_error::blank, "blank"},
      {amount_error::sign, "sign"},
      {amount_error::exponent_notation, "exponent_notation"},
      {amount_error::not_a_number, "not_a_number"},
      {amount_error::missing_digits, "missing_digits"},
      {amount_error::too_many_decimals, "too_many_decimals"},
      {amount_error::overflow, "overflow"},
  };
  for (const auto& [error, code] : cases) EXPECT_EQ(to_string(error), code);
}

TEST(amount_error_death_test, a_value_outside_the_enumeration_is_a_programmer_error) {
  // Goes through assertion_failed, so this also pins the message format of assert.cpp.
  EXPECT_DEATH(static_cast<void>(to_string(static_cast<amount_error>(200))),
               "assertion failed: amount_error is a known enumerator at .*money\\.cpp:[0-9]+");
}

// ---- parse_amount: accepted texts ---------------------------------------------------------------

TEST(parse_amount_test, accepts_whole_and_decimal_amounts_at_every_exponent) {
  const parse_ok_case cases[] = {
      // exponent 0 (JPY, ISK)
      {"0", 0, 0},
      {"1", 0, 1},
      {"12", 0, 12},
      {"1000000", 0, 1'000'000},
      // exponent 2 (EUR)
      {"0", 2, 0},
      {"0.00", 2, 0},
      {"0.0", 2, 0},
      {"12.34", 2, 1234},
      {"12.3", 2, 1230},
      {"12", 2, 1200},
      {"0.01", 2, 1},
      {"0.10", 2, 10},
      {"1.05", 2, 105},
      // exponent 3 (KWD, BHD)
      {"0", 3, 0},
      {"1.234", 3, 1234},
      {"1.23", 3, 1230},
      {"1.2", 3, 1200},
      {"1", 3, 1000},
      {"0.001", 3, 1},
      // exponent 4 (CLF, UYW)
      {"0", 4, 0},
      {"1.2345", 4, 12345},
      {"0.0001", 4, 1},
      {"7", 4, 70000},
      {"7.5", 4, 75000},
  };
  for (const auto& c : cases) expect_parses(c);
}

TEST(parse_amount_test, accepts_leading_zeros) {
  static_assert(amount_text_length_max == 32, "the 32-character cases below assume this limit");
  const parse_ok_case cases[] = {
      {"007.50", 2, 750},
      {"00", 0, 0},
      {"000.000", 3, 0},
      {"0001", 0, 1},
      {"00000000000000000000000000000001", 0, 1},  // exactly amount_text_length_max characters
      {"0000000000000000000000000000.001", 3, 1},
      {"0000000000009223372036854775807", 0, int64_max},
  };
  for (const auto& c : cases) expect_parses(c);
}

TEST(parse_amount_test, accepts_int64_max_exactly_at_every_exponent) {
  const parse_ok_case cases[] = {
      {"9223372036854775807", 0, int64_max},     {"922337203685477580.7", 1, int64_max},
      {"92233720368547758.07", 2, int64_max},    {"9223372036854775.807", 3, int64_max},
      {"922337203685477.5807", 4, int64_max},    {"92233720368547758.06", 2, int64_max - 1},
      {"9223372036854775806", 0, int64_max - 1},
  };
  for (const auto& c : cases) expect_parses(c);
}

TEST(parse_amount_test, accepts_zero_with_large_exponents) {
  // Zero scaled by any power of ten is still zero; only a non-zero value can overflow.
  expect_parses({"0", 18, 0});
  expect_parses({"0", 200, 0});
  expect_parses({"0.5", 18, 500'000'000'000'000'000});
  expect_parses({"9", 18, 9'000'000'000'000'000'000});
}

// ---- parse_amount: each refusal -----------------------------------------------------------------

TEST(parse_amount_test, refuses_empty_text) {
  expect_refused({"", 2, amount_error::empty});
  expect_refused({"", 0, amount_error::empty});
}

TEST(parse_amount_test, refuses_text_longer_than_the_limit) {
  const std::string longest(amount_text_length_max, '1');
  const std::string too_long = longest + "1";
  expect_refused({too_long, 0, amount_error::too_long});
  expect_refused({std::string(amount_text_length_max + 1, '0'), 2, amount_error::too_long});
  // The limit is on characters, before any other judgement: even a blank text is too long first.
  expect_refused({std::string(100, ' '), 2, amount_error::too_long});
  // At the limit the text is read, and this one is simply too large.
  expect_refused({longest, 0, amount_error::overflow});
}

TEST(parse_amount_test, refuses_white_space_anywhere) {
  const parse_error_case cases[] = {
      {" 1", 2, amount_error::blank},    {"1 ", 2, amount_error::blank},
      {"1 000", 2, amount_error::blank}, {"\t1", 2, amount_error::blank},
      {"1\n", 2, amount_error::blank},   {"1\r\n", 2, amount_error::blank},
      {"1.\v5", 2, amount_error::blank}, {"\f", 2, amount_error::blank},
      {" ", 2, amount_error::blank},     {"1. 5", 2, amount_error::blank},
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(parse_amount_test, refuses_a_leading_sign) {
  const parse_error_case cases[] = {
      {"+1", 2, amount_error::sign},   {"-1", 2, amount_error::sign},
      {"-0", 0, amount_error::sign},   {"+", 2, amount_error::sign},
      {"-", 2, amount_error::sign},    {"--1", 2, amount_error::sign},
      {"-1.5", 2, amount_error::sign}, {"-1e3", 2, amount_error::sign},
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(parse_amount_test, refuses_exponent_notation) {
  const parse_error_case cases[] = {
      {"1e3", 2, amount_error::exponent_notation},   {"1E3", 2, amount_error::exponent_notation},
      {"1.5e2", 2, amount_error::exponent_notation}, {"1e-3", 2, amount_error::exponent_notation},
      {"1E+3", 0, amount_error::exponent_notation},  {"e", 2, amount_error::exponent_notation},
      {"1e", 2, amount_error::exponent_notation},    {"e5", 2, amount_error::exponent_notation},
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(parse_amount_test, refuses_other_characters_as_not_a_number) {
  using namespace std::string_view_literals;
  const parse_error_case cases[] = {
      {"1,000", 2, amount_error::not_a_number},
      {"1,5", 2, amount_error::not_a_number},
      {"0x10", 2, amount_error::not_a_number},
      {"0x1e", 2, amount_error::not_a_number},  // a foreign character outranks the 'e'
      {"1.2.3", 2, amount_error::not_a_number},
      {"1..2", 2, amount_error::not_a_number},
      {"..", 2, amount_error::not_a_number},
      {"1_000", 2, amount_error::not_a_number},
      {"1'000", 2, amount_error::not_a_number},
      {"abc", 2, amount_error::not_a_number},
      {"inf", 2, amount_error::not_a_number},
      {"nan", 2, amount_error::not_a_number},
      {"$1", 2, amount_error::not_a_number},
      {"1EUR", 2, amount_error::not_a_number},
      {"1-2", 2, amount_error::not_a_number},  // a sign not at the start, without an exponent
      {"1+", 2, amount_error::not_a_number},
      {"1\0"sv, 2, amount_error::not_a_number},
      {"\xC2\xA0"
       "1",
       2, amount_error::not_a_number},              // non-breaking space is not ASCII blank
      {"\xD9\xA1", 0, amount_error::not_a_number},  // ARABIC-INDIC DIGIT ONE
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(parse_amount_test, refuses_a_point_without_digits_on_both_sides) {
  const parse_error_case cases[] = {
      {".5", 2, amount_error::missing_digits}, {"5.", 2, amount_error::missing_digits},
      {".", 2, amount_error::missing_digits},  {".", 0, amount_error::missing_digits},
      {"5.", 0, amount_error::missing_digits}, {".50", 4, amount_error::missing_digits},
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(parse_amount_test, refuses_more_decimals_than_the_exponent) {
  const parse_error_case cases[] = {
      {"12.0", 0, amount_error::too_many_decimals},  // JPY has no decimals, not even zeros
      {"0.0", 0, amount_error::too_many_decimals},
      {"1.5", 0, amount_error::too_many_decimals},
      {"1.234", 2, amount_error::too_many_decimals},
      {"1.230", 2, amount_error::too_many_decimals},  // trailing zeros still count
      {"1.2345", 3, amount_error::too_many_decimals},
      {"1.23456", 4, amount_error::too_many_decimals},
      {"0.00000", 4, amount_error::too_many_decimals},
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(parse_amount_test, refuses_values_beyond_int64_minor_units) {
  const parse_error_case cases[] = {
      {"9223372036854775808", 0, amount_error::overflow},
      {"9999999999999999999", 0, amount_error::overflow},
      {"18446744073709551616", 0, amount_error::overflow},  // 2^64 must not wrap to 0
      {"92233720368547758.08", 2, amount_error::overflow},
      {"92233720368547759", 2, amount_error::overflow},  // overflows only once scaled by 100
      {"9223372036854775.808", 3, amount_error::overflow},
      {"922337203685477.5808", 4, amount_error::overflow},
      {"922337203685478", 4, amount_error::overflow},
      {"1", 19, amount_error::overflow},  // 10^19 minor units
      {"10", 18, amount_error::overflow},
      {"00000000000000009223372036854775808", 0, amount_error::too_long},  // too long wins
  };
  for (const auto& c : cases) expect_refused(c);
}

TEST(parse_amount_test, names_the_first_failing_check_when_several_apply) {
  const parse_error_case cases[] = {
      {" -1", 2, amount_error::blank},                 // blank before sign
      {"-1 ", 2, amount_error::blank},                 // blank anywhere, not only leading
      {"1 e3", 2, amount_error::blank},                // blank before exponent notation
      {"-x", 2, amount_error::sign},                   // sign before not_a_number
      {"+.5", 2, amount_error::sign},                  // sign before missing_digits
      {"1,5e3", 2, amount_error::not_a_number},        // foreign character before exponent
      {"1.5.e3", 2, amount_error::exponent_notation},  // exponent before second point
      {".5e3", 2, amount_error::exponent_notation},    // exponent before missing_digits
      {"1.2.", 2, amount_error::not_a_number},         // second point before missing_digits
      {".123", 2, amount_error::missing_digits},       // missing_digits before too_many_decimals
      {"99999999999999999999.999", 2, amount_error::too_many_decimals},  // before overflow
  };
  for (const auto& c : cases) expect_refused(c);
}

// ---- format_amount ------------------------------------------------------------------------------

TEST(format_amount_test, writes_exactly_exponent_decimals) {
  const format_case cases[] = {
      {0, 0, "0"},
      {1, 0, "1"},
      {1234, 0, "1234"},
      {0, 2, "0.00"},
      {1, 2, "0.01"},
      {10, 2, "0.10"},
      {100, 2, "1.00"},
      {1234, 2, "12.34"},
      {1230, 2, "12.30"},
      {0, 3, "0.000"},
      {5, 3, "0.005"},
      {1234, 3, "1.234"},
      {1'000'000, 3, "1000.000"},
      {0, 4, "0.0000"},
      {1, 4, "0.0001"},
      {12345, 4, "1.2345"},
      {5, 20, "0.00000000000000000005"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(describe(c.text, c.exponent));
    EXPECT_EQ(format_amount(c.minor, c.exponent), c.text);
  }
}

TEST(format_amount_test, writes_negative_amounts_with_a_minus) {
  const format_case cases[] = {
      {-1, 0, "-1"},     {-5, 2, "-0.05"},       {-1234, 2, "-12.34"}, {-100, 2, "-1.00"},
      {-1, 3, "-0.001"}, {-12345, 4, "-1.2345"}, {-1, 4, "-0.0001"},   {-99999, 4, "-9.9999"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(describe(c.text, c.exponent));
    EXPECT_EQ(format_amount(c.minor, c.exponent), c.text);
  }
}

TEST(format_amount_test, writes_the_int64_edges) {
  const format_case cases[] = {
      {int64_max, 0, "9223372036854775807"},      {int64_max, 2, "92233720368547758.07"},
      {int64_max, 3, "9223372036854775.807"},     {int64_max, 4, "922337203685477.5807"},
      {int64_max, 19, "0.9223372036854775807"},   {int64_max, 20, "0.09223372036854775807"},
      {int64_min, 0, "-9223372036854775808"},     {int64_min, 2, "-92233720368547758.08"},
      {int64_min, 3, "-9223372036854775.808"},    {int64_min, 4, "-922337203685477.5808"},
      {int64_min + 1, 0, "-9223372036854775807"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(describe(c.text, c.exponent));
    EXPECT_EQ(format_amount(c.minor, c.exponent), c.text);
  }
}

// ---- round trips --------------------------------------------------------------------------------

TEST(round_trip_test, format_then_parse_returns_the_same_minor_units) {
  const std::int64_t values[] = {0,
                                 1,
                                 9,
                                 10,
                                 99,
                                 100,
                                 101,
                                 1234,
                                 100'000,
                                 999'999'999,
                                 1'000'000'000'000'000,
                                 int64_max / 10,
                                 int64_max - 1,
                                 int64_max};
  for (const std::uint8_t exponent : std::initializer_list<std::uint8_t>{0, 1, 2, 3, 4}) {
    for (const std::int64_t minor : values) {
      const std::string text = format_amount(minor, exponent);
      SCOPED_TRACE(describe(text, exponent));
      const auto parsed = parse_amount(text, exponent);
      ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
      EXPECT_EQ(parsed.value(), minor);
    }
  }
}

TEST(round_trip_test, parse_then_format_returns_the_canonical_text) {
  const parse_ok_case canonical[] = {
      {"0", 0, 0},
      {"0.00", 2, 0},
      {"12.34", 2, 1234},
      {"0.05", 2, 5},
      {"1.234", 3, 1234},
      {"1.2345", 4, 12345},
      {"9223372036854775807", 0, int64_max},
      {"92233720368547758.07", 2, int64_max},
      {"922337203685477.5807", 4, int64_max},
  };
  for (const auto& c : canonical) {
    SCOPED_TRACE(describe(c.text, c.exponent));
    const auto parsed = parse_amount(c.text, c.exponent);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(format_amount(parsed.value(), c.exponent), c.text);
  }
  // Non-canonical input is normalised: missing decimals padded, leading zeros dropped.
  EXPECT_EQ(format_amount(parse_amount("007.5", 2).value(), 2), "7.50");
  EXPECT_EQ(format_amount(parse_amount("12", 3).value(), 3), "12.000");
}

// ---- checked arithmetic -------------------------------------------------------------------------

struct arithmetic_case {
  std::int64_t a;
  std::int64_t b;
  std::optional<std::int64_t> expected;
};

TEST(checked_arithmetic_test, add_detects_overflow_at_both_edges) {
  const arithmetic_case cases[] = {
      {0, 0, 0},
      {1, 2, 3},
      {-5, 3, -2},
      {int64_max, 0, int64_max},
      {int64_max - 1, 1, int64_max},
      {int64_max, 1, std::nullopt},
      {1, int64_max, std::nullopt},
      {int64_max, int64_max, std::nullopt},
      {int64_min, 0, int64_min},
      {int64_min + 1, -1, int64_min},
      {int64_min, -1, std::nullopt},
      {-1, int64_min, std::nullopt},
      {int64_min, int64_min, std::nullopt},
      {int64_min, int64_max, -1},
      {int64_max, int64_min, -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.a) + " + " + std::to_string(c.b));
    EXPECT_EQ(checked_add(c.a, c.b), c.expected);
  }
}

TEST(checked_arithmetic_test, sub_detects_overflow_at_both_edges) {
  const arithmetic_case cases[] = {
      {0, 0, 0},
      {5, 3, 2},
      {3, 5, -2},
      {int64_max, 0, int64_max},
      {int64_max, -1, std::nullopt},
      {int64_max - 1, -1, int64_max},
      {int64_min, 0, int64_min},
      {int64_min, 1, std::nullopt},
      {int64_min + 1, 1, int64_min},
      {0, int64_min, std::nullopt},  // -INT64_MIN does not exist
      {-1, int64_min, int64_max},
      {0, int64_max, int64_min + 1},
      {-2, int64_max, std::nullopt},
      {int64_min, int64_min, 0},
      {int64_max, int64_max, 0},
      {int64_max, int64_min, std::nullopt},
      {int64_min, int64_max, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.a) + " - " + std::to_string(c.b));
    EXPECT_EQ(checked_sub(c.a, c.b), c.expected);
  }
}

// ---- money --------------------------------------------------------------------------------------

TEST(money_test, compares_amount_and_currency) {
  const auto eur = currency::from_code("EUR");
  const auto usd = currency::from_code("USD");
  ASSERT_TRUE(eur && usd);
  EXPECT_EQ((money{100, *eur}), (money{100, *eur}));
  EXPECT_NE((money{100, *eur}), (money{100, *usd}));
  EXPECT_NE((money{100, *eur}), (money{101, *eur}));
  const money unset{};
  EXPECT_EQ(unset.minor, 0);
  EXPECT_TRUE(unset.ccy.is_none());
}

}  // namespace
}  // namespace wallet::engine
