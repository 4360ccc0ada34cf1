// Business rejections: values, never exceptions. Each has a stable snake_case code on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wallet::engine {

// Append only: the numeric values are stored with idempotency records.
enum class rejection : std::uint8_t {
  wallet_not_found = 1,     // the wallet was never opened
  wallet_exists,            // open_wallet on a wallet that is already open (or closed)
  wallet_frozen,            // the operation is not allowed while the wallet is frozen
  wallet_not_frozen,        // unfreeze on a wallet that is not frozen
  wallet_closed,            // the wallet is closed
  wallet_not_empty,         // close with a non-zero balance
  wallet_has_holds,         // close with open holds
  currency_invalid,         // no currency, or not an active ISO 4217 currency
  currency_mismatch,        // the amount's currency is not the wallet's
  amount_invalid,           // zero, negative, or above amount_minor_max
  overdraft_limit_invalid,  // negative or above overdraft_limit_max
  insufficient_funds,       // available = balance + overdraft_limit - held is below the amount
  balance_limit_exceeded,   // the balance would pass balance_minor_max
  id_invalid,  // a wallet, owner, transfer or hold id is empty, too long or has a bad byte
  idempotency_key_invalid,  // empty, too long, or a bad byte
  idempotency_conflict,     // the key was used before with different content
  idempotency_window_full,  // no longer produced (ADR 0017: a full window evicts its oldest
                            // key); kept so that codes and stored values stay the same
  reason_invalid,           // a freeze/unfreeze reason is empty or too long
  transfer_to_self,         // source and destination are the same wallet
  hold_exists,              // hold_place with an id already open on this wallet
  hold_not_found,           // capture/release/expire of a hold that is not open
  hold_expired,             // capture of a hold whose expiry has passed
  hold_not_expired,         // expire before the hold's expiry time
  hold_amount_exceeded,     // capture of more than the hold reserves (or a review's approved
                            // transfer of other than the whole hold: ADR 0009)
  hold_expiry_invalid,      // expiry not after the command's time
  holds_limit_reached,      // holds_per_wallet_max holds are open
  // KYC limits of the wallet's level in its currency (engine::policy; ADR 0004, decision 1).
  kyc_balance_limit_exceeded,     // the balance after money comes in would pass balance_max
  kyc_withdrawal_limit_exceeded,  // one outgoing move (withdrawal, transfer, hold) > withdrawal_max
  kyc_daily_limit_exceeded,       // today's outgoing + open holds + the amount > daily_outgoing_max
  feature_disabled,               // a feature flag refuses the command (transient: retry later)
  // AML screening of an outgoing move (ADR 0007).
  aml_denied,       // the screening provider denied the move (remembered like any rejection)
  aml_unavailable,  // no verdict (provider down, aml.on_provider_down = fail_closed): transient
};

inline constexpr std::uint8_t rejection_count = 32;

[[nodiscard]] std::string_view code(rejection r) noexcept;
[[nodiscard]] std::optional<rejection> rejection_from_code(std::string_view text) noexcept;

// A rejection that says nothing about the command's content (a transient refusal): it is answered
// but not remembered under the idempotency key, so a retry may succeed.
[[nodiscard]] bool is_transient(rejection r) noexcept;

}  // namespace wallet::engine
