// Commands: what a client asks of one wallet. Each mutating command carries an idempotency key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "wallet/engine/money.hpp"
#include "wallet/engine/policy.hpp"
#include "wallet/engine/time.hpp"

namespace wallet::engine {

struct open_wallet {
  std::string owner;
  currency ccy;
  std::int64_t overdraft_limit = 0;  // in minor units; 0 = no overdraft
};
struct deposit {
  money amount;
};
struct withdraw {
  money amount;
};
// First leg of a transfer, on the source wallet: takes the money out and records where it goes.
struct transfer_debit {
  std::string transfer_id;
  std::string destination;
  money amount;
  // Set only by the approval of a transfer under AML review (ADR 0009): the debit takes the
  // review's hold (its whole amount) instead of available funds, so the reserved money cannot be
  // spent between the decision and the debit. Empty for every client's transfer. (A default, so
  // that aggregate initializers may leave it out.)
  std::string from_hold = {};
};
// Second leg, on the destination wallet. The runtime keys it by the transfer id, so redelivery of
// the same leg is a replay.
struct transfer_credit {
  std::string transfer_id;
  std::string source;
  money amount;
};
// Compensation, on the source wallet, when the destination refused the credit. Accepted whatever
// the wallet's status: money in flight must always have somewhere to land.
struct transfer_reversal {
  std::string transfer_id;
  money amount;
};
struct hold_place {
  std::string hold_id;
  money amount;
  timestamp expires_at;
};
// Captures `amount` (the whole hold when empty); any remainder of the hold is released.
struct hold_capture {
  std::string hold_id;
  std::optional<money> amount;
};
struct hold_release {
  std::string hold_id;
};
// Issued by the runtime's timer once the expiry has passed.
struct hold_expire {
  std::string hold_id;
};
struct freeze {
  std::string reason;
};
struct unfreeze {
  std::string reason;
};
struct close_wallet {};
// An administrative change of the owner's verification level (an admin or a service role).
struct set_kyc_level {
  kyc level = kyc::none;
  std::string reason;
};

// Append only: a command's index in the variant is part of its stored fingerprint.
using command_body = std::variant<open_wallet, deposit, withdraw, transfer_debit, transfer_credit,
                                  transfer_reversal, hold_place, hold_capture, hold_release,
                                  hold_expire, freeze, unfreeze, close_wallet, set_kyc_level>;

struct command {
  std::string wallet_id;
  std::string idempotency_key;
  command_body body;
};

// The command's type as it is named on the wire: "deposit", "transfer_debit", ...
[[nodiscard]] std::string_view command_name(const command_body& body) noexcept;

// A 64-bit digest of everything in the command except its idempotency key: two commands with the
// same key are the same request exactly when their fingerprints are equal. Stable across builds
// and machines (FNV-1a over a canonical encoding), because fingerprints are stored.
[[nodiscard]] std::uint64_t fingerprint(const command& c) noexcept;

// True when `id` is a valid identifier of at most `length_max` bytes of [A-Za-z0-9._:-].
[[nodiscard]] bool is_valid_id(std::string_view id, std::size_t length_max) noexcept;

}  // namespace wallet::engine
