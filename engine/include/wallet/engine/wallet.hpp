// Wallet state (the write model) and the pure decide/apply pair that moves it forward.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "wallet/engine/command.hpp"
#include "wallet/engine/event.hpp"
#include "wallet/engine/policy.hpp"
#include "wallet/engine/rejection.hpp"
#include "wallet/engine/result.hpp"

namespace wallet::engine {

enum class wallet_status : std::uint8_t { none, active, frozen, closed };

[[nodiscard]] std::string_view to_string(wallet_status s) noexcept;

struct hold {
  std::int64_t amount = 0;
  timestamp expires_at;
  friend bool operator==(const hold&, const hold&) = default;
};

struct wallet_state {
  std::string id;
  std::string owner;
  currency ccy;
  std::int64_t balance = 0;  // may go negative down to -overdraft_limit
  std::int64_t held = 0;     // the sum of the open holds
  wallet_status status = wallet_status::none;
  std::uint64_t version = 0;  // the seq of the last applied event; 0 before wallet_opened
  std::int64_t overdraft_limit = 0;
  std::map<std::string, hold, std::less<>> holds;  // open holds by id
  kyc kyc_level = kyc::none;  // set by kyc_level_set; a new wallet starts unverified
  // The daily outgoing total, derived from the events' own times (apply): the money that left on
  // outgoing_day (a UTC day), saturating at outgoing_total_max. The epoch day with 0 before any.
  std::chrono::sys_days outgoing_day{};
  std::int64_t outgoing_today = 0;

  // What a withdrawal, debit or new hold may take: balance + overdraft_limit - held.
  [[nodiscard]] std::int64_t available() const noexcept;
  // The outgoing total that counts against the UTC day of `t`: outgoing_today up to and including
  // outgoing_day (a clock that stepped back still counts it), 0 on any later day.
  [[nodiscard]] std::int64_t outgoing_on(timestamp t) const noexcept;

  friend bool operator==(const wallet_state&, const wallet_state&) = default;
};

// A fresh, unopened wallet: what a wallet actor starts from before any event.
[[nodiscard]] wallet_state empty_wallet(std::string id);

// Decides what `c` does to `state` at time `now` under the KYC `limits` policy: exactly one event
// to append (with seq = version + 1), or the rejection. Pure: no I/O, no clock, no change to
// `state`. Idempotency is handled one level up (wallet_aggregate), and so are feature flags.
[[nodiscard]] result<event, rejection> decide(const wallet_state& state, const command& c,
                                              timestamp now, const policy& limits);

// Folds one event into the state. The event must be the next one (seq == version + 1) and valid
// for the state: a violation is a programming error and aborts.
void apply(wallet_state& state, const event& e);

// Asserts the wallet's invariants (held = sum of holds, balance within its limits, ...).
void check_invariants(const wallet_state& state);

}  // namespace wallet::engine
