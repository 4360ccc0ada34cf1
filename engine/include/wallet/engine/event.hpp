// Events: the facts appended to a wallet's log. Amounts are in the wallet's currency.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "wallet/engine/currency.hpp"
#include "wallet/engine/policy.hpp"
#include "wallet/engine/time.hpp"

namespace wallet::engine {

struct wallet_opened {
  std::string owner;
  currency ccy;
  std::int64_t overdraft_limit = 0;
  friend bool operator==(const wallet_opened&, const wallet_opened&) = default;
};
struct deposited {
  std::int64_t amount = 0;
  friend bool operator==(const deposited&, const deposited&) = default;
};
struct withdrawn {
  std::int64_t amount = 0;
  friend bool operator==(const withdrawn&, const withdrawn&) = default;
};
struct transfer_debited {
  std::string transfer_id;
  std::string destination;
  std::int64_t amount = 0;
  // The AML review hold this debit consumed (ADR 0009): its amount leaves `held` and the balance
  // at once. Empty for a debit of available funds. (A default, so that aggregate initializers may
  // leave it out.)
  std::string hold_id = {};
  friend bool operator==(const transfer_debited&, const transfer_debited&) = default;
};
struct transfer_credited {
  std::string transfer_id;
  std::string source;
  std::int64_t amount = 0;
  friend bool operator==(const transfer_credited&, const transfer_credited&) = default;
};
struct transfer_reversed {
  std::string transfer_id;
  std::int64_t amount = 0;
  friend bool operator==(const transfer_reversed&, const transfer_reversed&) = default;
};
struct hold_placed {
  std::string hold_id;
  std::int64_t amount = 0;
  timestamp expires_at;
  friend bool operator==(const hold_placed&, const hold_placed&) = default;
};
// `captured` leaves the balance; `released` (the rest of the hold) becomes available again.
struct hold_captured {
  std::string hold_id;
  std::int64_t captured = 0;
  std::int64_t released = 0;
  friend bool operator==(const hold_captured&, const hold_captured&) = default;
};
struct hold_released {
  std::string hold_id;
  std::int64_t amount = 0;
  friend bool operator==(const hold_released&, const hold_released&) = default;
};
struct hold_expired {
  std::string hold_id;
  std::int64_t amount = 0;
  friend bool operator==(const hold_expired&, const hold_expired&) = default;
};
struct wallet_frozen {
  std::string reason;
  friend bool operator==(const wallet_frozen&, const wallet_frozen&) = default;
};
struct wallet_unfrozen {
  std::string reason;
  friend bool operator==(const wallet_unfrozen&, const wallet_unfrozen&) = default;
};
struct wallet_closed {
  friend bool operator==(const wallet_closed&, const wallet_closed&) = default;
};
struct kyc_level_set {
  kyc level = kyc::none;
  std::string reason;
  friend bool operator==(const kyc_level_set&, const kyc_level_set&) = default;
};

using event_body =
    std::variant<wallet_opened, deposited, withdrawn, transfer_debited, transfer_credited,
                 transfer_reversed, hold_placed, hold_captured, hold_released, hold_expired,
                 wallet_frozen, wallet_unfrozen, wallet_closed, kyc_level_set>;

struct event {
  std::uint64_t seq = 0;  // the wallet's version after this event: 1 for wallet_opened
  timestamp at;           // the time of the command that produced it
  event_body body;
  friend bool operator==(const event&, const event&) = default;
};

// The event's type as it is named on the wire: "deposited", "hold_captured", ...
[[nodiscard]] std::string_view event_name(const event_body& body) noexcept;

// The change this event makes to the balance (positive in, negative out), for conservation checks.
[[nodiscard]] std::int64_t balance_delta(const event_body& body) noexcept;

// What the event counts towards the wallet's daily outgoing total: money that left it (withdrawn,
// transfer_debited, the captured part of hold_captured); 0 for every other event.
[[nodiscard]] std::int64_t outgoing_amount(const event_body& body) noexcept;

}  // namespace wallet::engine
