// Feature flags: the operator's switches, and which commands each one refuses (ADR 0004,
// decision 2). A value: the runtime swaps it whole when the flags file changes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "wallet/engine/command.hpp"
#include "wallet/engine/currency.hpp"

namespace wallet::engine {

struct feature_flags {
  bool accept_new_wallets = true;  // open_wallet
  bool accept_transfers = true;    // transfer_debit (the client's "transfer")
  // A seam for AML screening (ADR 0004, decision 3): read by nothing yet.
  bool aml_screening = false;
  bool currencies_by_default = true;         // "currency.*": currencies without an entry
  std::map<std::uint16_t, bool> currencies;  // "currency.<ISO>", by ISO 4217 numeric code

  [[nodiscard]] bool currency_enabled(currency c) const noexcept;

  friend bool operator==(const feature_flags&, const feature_flags&) = default;
};

// The switch that refused a command.
enum class flag : std::uint8_t { accept_new_wallets, accept_transfers, currency };

[[nodiscard]] std::string_view to_string(flag f) noexcept;

// The flag that refuses `body`, if one does. Only commands that start something new are
// refusable: open_wallet (accept_new_wallets and its currency), transfer_debit (accept_transfers
// and its currency), deposit and hold_place (their currency). Everything that finishes work already
// started or lets money leave is never refused: transfer legs (credit, reversal), hold captures,
// releases and expiries, withdrawals, freeze, unfreeze, close and set_kyc_level.
[[nodiscard]] std::optional<flag> refusing_flag(const feature_flags& flags,
                                                const command_body& body) noexcept;

}  // namespace wallet::engine
