// ISO 4217 currencies with their minor-unit exponents: the table every amount is read against.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace wallet::engine {

struct currency_info {
  std::string_view code;  // alphabetic code, e.g. "EUR"
  std::uint16_t numeric;  // numeric code, e.g. 978
  std::uint8_t exponent;  // digits after the decimal point, e.g. 2
};

// A known, active ISO 4217 currency that can hold money. A value type: cheap to copy and compare.
// Default-constructed it is "XXX" (ISO's code for "no currency"), which from_code never returns,
// so a command that forgot its currency is caught as currency_invalid rather than mistaken for one.
class currency {
 public:
  constexpr currency() noexcept = default;

  // The currency with this alphabetic code, or nullopt when the code is not an active currency
  // with a defined exponent (metals, bond-market units, SDR and testing codes are not money here).
  static std::optional<currency> from_code(std::string_view code) noexcept;

  [[nodiscard]] bool is_none() const noexcept { return index_ == 0; }
  [[nodiscard]] const currency_info& info() const noexcept;
  [[nodiscard]] std::string_view code() const noexcept { return info().code; }
  [[nodiscard]] std::uint8_t exponent() const noexcept { return info().exponent; }
  [[nodiscard]] std::uint16_t numeric() const noexcept { return info().numeric; }

  friend constexpr bool operator==(currency, currency) noexcept = default;

 private:
  constexpr explicit currency(std::uint16_t index) noexcept : index_(index) {}
  std::uint16_t index_ = 0;  // position in the table; 0 is XXX
};

// Every currency from_code accepts, in code order (the XXX placeholder excluded).
std::span<const currency_info> active_currencies() noexcept;

}  // namespace wallet::engine
