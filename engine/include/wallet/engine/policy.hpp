// KYC levels and the policy of limits per level and currency that decide() enforces (ADR 0004,
// decision 1). A policy is a value: the runtime swaps it whole; apply() never reads it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "wallet/engine/currency.hpp"

namespace wallet::engine {

// How far a wallet's owner has been verified. Append only: the values are stored.
enum class kyc : std::uint8_t { none = 0, basic = 1, full = 2 };

inline constexpr std::size_t kyc_level_count = 3;

// "none", "basic", "full": the names on the wire, in events and in the policy file.
[[nodiscard]] std::string_view to_string(kyc level) noexcept;
[[nodiscard]] std::optional<kyc> kyc_from_string(std::string_view text) noexcept;
// The level stored as this number, if it is one.
[[nodiscard]] std::optional<kyc> kyc_from_code(std::int64_t code) noexcept;

// The limits of one level in one currency, in the currency's minor units. An empty limit means
// unlimited: the policy file says so explicitly ("unlimited"), it is never a silent default.
struct kyc_limits {
  std::optional<std::int64_t> balance_max;         // the balance after money comes in
  std::optional<std::int64_t> withdrawal_max;      // one outgoing move: withdrawal, transfer, hold
  std::optional<std::int64_t> daily_outgoing_max;  // money out on one UTC day, plus open holds

  [[nodiscard]] bool unlimited() const noexcept {
    return !balance_max && !withdrawal_max && !daily_outgoing_max;
  }
  friend bool operator==(const kyc_limits&, const kyc_limits&) = default;
};

// Limits per KYC level: each level has limits for every currency (its fallback) and may have
// limits of its own for some currencies. So a lookup always finds an answer.
class policy {
 public:
  // Every level in every currency without any limit: what walletd runs with when no policy file
  // is configured (it says so loudly at start-up).
  [[nodiscard]] static policy unlimited() { return policy{kyc_limits{}}; }

  // Every level in every currency: `everywhere`. Limits must not be negative (asserted).
  explicit policy(const kyc_limits& everywhere);

  // The limits of `level` for every currency without an entry of its own.
  void set_fallback(kyc level, const kyc_limits& limits);
  // The limits of `level` in `ccy`.
  void set(kyc level, currency ccy, const kyc_limits& limits);

  [[nodiscard]] const kyc_limits& limits(kyc level, currency ccy) const noexcept;
  // Whether no level has any limit in any currency.
  [[nodiscard]] bool is_unlimited() const noexcept;

  friend bool operator==(const policy&, const policy&) = default;

 private:
  struct level_limits {
    kyc_limits fallback;
    std::map<std::uint16_t, kyc_limits> by_currency;  // by ISO 4217 numeric code
    friend bool operator==(const level_limits&, const level_limits&) = default;
  };
  std::array<level_limits, kyc_level_count> levels_;
};

}  // namespace wallet::engine
