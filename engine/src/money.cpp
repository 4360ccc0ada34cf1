// Exact decimal text <-> int64 minor units, and overflow-checked arithmetic on minor units.
// Integers only: a decimal amount is never held in a floating-point value, not even briefly.
#include "wallet/engine/money.hpp"

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <limits>

#include "wallet/engine/limits.hpp"

namespace wallet::engine {
namespace {

constexpr std::int64_t minor_max = std::numeric_limits<std::int64_t>::max();

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// ASCII white space, spelled out because std::isspace depends on the global locale.
constexpr bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

constexpr bool is_sign(char c) noexcept { return c == '+' || c == '-'; }
constexpr bool is_exponent_mark(char c) noexcept { return c == 'e' || c == 'E'; }

// The checks on single characters, before the text is read as a number. A leading sign is
// reported as `sign` (the caller's likely intent was a direction); signs elsewhere are only
// legitimate inside exponent notation ("1e-3"), so without an 'e' they make `not_a_number`.
std::optional<amount_error> check_characters(std::string_view text) noexcept {
  if (std::any_of(text.begin(), text.end(), is_blank)) return amount_error::blank;
  if (is_sign(text.front())) return amount_error::sign;
  bool has_exponent_mark = false;
  bool has_inner_sign = false;
  for (const char c : text) {
    if (is_digit(c) || c == '.') continue;
    if (is_exponent_mark(c)) {
      has_exponent_mark = true;
    } else if (is_sign(c)) {
      has_inner_sign = true;
    } else {
      return amount_error::not_a_number;  // "1,000", "0x10", "1_000", non-ASCII, NUL
    }
  }
  if (has_exponent_mark) return amount_error::exponent_notation;
  if (has_inner_sign) return amount_error::not_a_number;
  return std::nullopt;
}

// value * 10 + digit, or nullopt when that exceeds int64.
std::optional<std::int64_t> append_digit(std::int64_t value, int digit) noexcept {
  if (value > (minor_max - digit) / 10) return std::nullopt;
  return value * 10 + digit;
}

// Reads "<whole>[.<fraction>]" (digits only, checked before) scaled to `exponent` decimals.
result<std::int64_t, amount_error> read_digits(std::string_view whole, std::string_view fraction,
                                               std::uint8_t exponent) noexcept {
  std::int64_t value = 0;
  for (const std::string_view part : {whole, fraction}) {
    for (const char c : part) {
      const auto next = append_digit(value, c - '0');
      if (!next) return amount_error::overflow;
      value = *next;
    }
  }
  // "12.3" in EUR is 1230 cents: pad the missing decimals with zeros.
  for (std::size_t i = fraction.size(); i < exponent; ++i) {
    const auto next = append_digit(value, 0);
    if (!next) return amount_error::overflow;
    value = *next;
  }
  return value;
}

constexpr char digit_char(std::uint64_t digit) noexcept {
  return static_cast<char>('0' + static_cast<int>(digit));
}

}  // namespace

std::string_view to_string(amount_error error) noexcept {
  // No default: -Wswitch then flags a new enumerator that has no code yet.
  switch (error) {
    case amount_error::empty:
      return "empty";
    case amount_error::too_long:
      return "too_long";
    case amount_error::blank:
      return "blank";
    case amount_error::sign:
      return "sign";
    case amount_error::exponent_notation:
      return "exponent_notation";
    case amount_error::not_a_number:
      return "not_a_number";
    case amount_error::missing_digits:
      return "missing_digits";
    case amount_error::too_many_decimals:
      return "too_many_decimals";
    case amount_error::overflow:
      return "overflow";
  }
  // Only a value cast from outside the enumeration gets here: a programmer error.
  assertion_failed("amount_error is a known enumerator", __FILE__, __LINE__);
}

// When a text is wrong in several ways, the first failing check below names it, so every text has
// exactly one, stable error:
//   empty > too_long > blank > sign (leading) > not_a_number (a character that is never part of a
//   number) > exponent_notation > not_a_number (inner sign, second point) > missing_digits >
//   too_many_decimals > overflow.
// Length comes first so the remaining checks scan a bounded text; the form of the text is judged
// before its value, so `overflow` means "well formed, just too large" and nothing else.
result<std::int64_t, amount_error> parse_amount(std::string_view text,
                                                std::uint8_t exponent) noexcept {
  if (text.empty()) return amount_error::empty;
  if (text.size() > amount_text_length_max) return amount_error::too_long;
  if (const auto error = check_characters(text)) return *error;

  const std::size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  if (fraction.find('.') != std::string_view::npos) return amount_error::not_a_number;
  if (point != std::string_view::npos && (whole.empty() || fraction.empty())) {
    return amount_error::missing_digits;
  }
  // With exponent 0 any point is refused here, even "12.0": the currency has no decimals to write.
  if (fraction.size() > exponent) return amount_error::too_many_decimals;
  return read_digits(whole, fraction, exponent);
}

std::string format_amount(std::int64_t minor, std::uint8_t exponent) {
  // Work on the magnitude in uint64: -INT64_MIN does not fit in int64, but it does in uint64.
  const bool negative = minor < 0;
  auto magnitude = static_cast<std::uint64_t>(minor);
  if (negative) magnitude = 0 - magnitude;

  // Digits from the least significant up, then reversed: at least exponent + 1 of them so that
  // small amounts read "0.05", with the point placed after the `exponent` lowest digits.
  std::string text;
  text.reserve(std::size_t{exponent} + 22);
  for (std::size_t i = 0; magnitude != 0 || i <= exponent; ++i) {
    if (i == exponent && exponent != 0) text.push_back('.');
    text.push_back(digit_char(magnitude % 10));
    magnitude /= 10;
  }
  if (negative) text.push_back('-');
  std::reverse(text.begin(), text.end());
  return text;
}

std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

std::optional<std::int64_t> checked_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) return std::nullopt;
  return difference;
}

}  // namespace wallet::engine
