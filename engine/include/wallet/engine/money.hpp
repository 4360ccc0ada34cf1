// Money: int64 minor units with a currency. Exact decimal parsing and formatting, checked
// arithmetic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wallet/engine/currency.hpp"
#include "wallet/engine/result.hpp"

namespace wallet::engine {

struct money {
  std::int64_t minor = 0;  // count of minor units (cents for EUR, yen for JPY)
  currency ccy;
  friend bool operator==(const money&, const money&) = default;
};

// Why a decimal amount text was refused. Each has a stable code (to_string) for error messages.
enum class amount_error : std::uint8_t {
  empty,              // ""
  too_long,           // longer than amount_text_length_max
  blank,              // contains white space
  sign,               // "+1", "-1": amounts are unsigned; direction comes from the command
  exponent_notation,  // "1e3"
  not_a_number,       // any other character, "1,000", "0x10", "1.2.3"
  missing_digits,     // ".5", "5."
  too_many_decimals,  // "1.234" in EUR, "1.0" in JPY
  overflow,           // more than int64 minor units
};

[[nodiscard]] std::string_view to_string(amount_error error) noexcept;

// "12.34" with exponent 2 -> 1234. Fewer decimals than the exponent are fine ("12.3" -> 1230).
// Leading zeros are accepted ("007.50"); the value zero is accepted here (commands reject it).
[[nodiscard]] result<std::int64_t, amount_error> parse_amount(std::string_view text,
                                                              std::uint8_t exponent) noexcept;

// 1234 with exponent 2 -> "12.34"; -5 -> "-0.05"; exponent 0 -> no decimal point. Exact, always
// exactly `exponent` decimals; INT64_MIN is formatted correctly.
[[nodiscard]] std::string format_amount(std::int64_t minor, std::uint8_t exponent);

// Overflow-checked arithmetic on minor units: nullopt on overflow.
[[nodiscard]] std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) noexcept;
[[nodiscard]] std::optional<std::int64_t> checked_sub(std::int64_t a, std::int64_t b) noexcept;

}  // namespace wallet::engine
