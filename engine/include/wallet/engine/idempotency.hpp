// Idempotency: a key plus a content fingerprint; a repeat returns the original outcome.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "wallet/engine/flags.hpp"
#include "wallet/engine/policy.hpp"
#include "wallet/engine/rejection.hpp"
#include "wallet/engine/time.hpp"
#include "wallet/engine/wallet.hpp"

namespace wallet::engine {

// The answer to a command, as remembered for its key: enough to answer a repeat exactly as the
// first time (the event itself stays in the wallet's log, found by its seq).
struct outcome {
  std::optional<rejection> rejected;  // empty: accepted
  std::uint64_t seq = 0;              // the appended event's seq, or the version at rejection
  std::int64_t balance = 0;           // balance and held after the command
  std::int64_t held = 0;
  friend bool operator==(const outcome&, const outcome&) = default;
};

struct idempotency_record {
  std::uint64_t fingerprint = 0;
  outcome result;
  timestamp recorded_at;
  friend bool operator==(const idempotency_record&, const idempotency_record&) = default;
};

// The keys one wallet has seen within the retention window, oldest first for cheap expiry.
// Bounded by idempotency_keys_per_wallet_max.
class idempotency_window {
 public:
  [[nodiscard]] const idempotency_record* find(std::string_view key) const;
  [[nodiscard]] bool full() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }

  // Records a new key. The key must not be present and the window must not be full (asserted).
  // A record older than the newest one is stamped with the newest time (a clock that stepped back).
  void remember(std::string key, idempotency_record record);

  // Forgets every record older than now - retention.
  void expire(timestamp now, duration retention);

  friend bool operator==(const idempotency_window&, const idempotency_window&) = default;

 private:
  std::unordered_map<std::string, idempotency_record> records_;
  // A list, not a deque: an empty std::deque still holds about 600 bytes (its map and a first
  // block), and a resident wallet keeps only the few keys of the retention window.
  std::list<std::string> order_;  // keys in recording order
};

// What happened to one command at the wallet.
struct handled {
  outcome result;
  std::optional<event> appended;  // the new event, when the command was accepted now
  bool replayed = false;          // a repeat of an earlier command: nothing changed
  bool remembered = false;        // the outcome was recorded under the key (and must be stored)
};

// A wallet with its idempotency window: the unit a wallet actor owns. handle() is the only way
// commands change it, so a replayed command provably changes nothing.
class wallet_aggregate {
 public:
  wallet_aggregate(std::string wallet_id, duration idempotency_retention);
  wallet_aggregate(wallet_state state, idempotency_window window, duration idempotency_retention);

  // The key is checked first, so a repeat returns its original outcome whatever the flags say
  // now; a command the flags refuse is answered feature_disabled and not remembered (a transient
  // rejection); only then does decide() run, under `limits`.
  // `screened`: the AML screening refused the move (aml_denied, remembered; aml_unavailable,
  // transient); it answers in place of decide(), after the key and flag checks. A review's
  // decision (ADR 0009) that decide() refuses is answered without being remembered.
  handled handle(const command& c, timestamp now, const policy& limits, const feature_flags& flags,
                 std::optional<rejection> screened = std::nullopt);

  // Whether handle() would reach decide() for `c` now and decide() would accept it: the only case
  // in which an outgoing move is screened (a repeat, a refused key or flag, or a move decide()
  // rejects anyway is answered without asking a provider). Changes nothing but expiring keys.
  [[nodiscard]] bool would_accept(const command& c, timestamp now, const policy& limits,
                                  const feature_flags& flags);

  // The AML screening sent the withdrawal or transfer `c` to review (ADR 0009): after the same key
  // and flag checks as handle(), and decide()'s own checks of `c`, its amount is held until
  // `expires_at` under the review's hold id (review_hold_id(review_id_of(wallet, key))) instead of
  // leaving the wallet. The outcome (the hold_placed event, or the rejection `c` or a hold of that
  // amount gets) is remembered under c's key with c's fingerprint. `c` must be a withdraw or a
  // client's transfer_debit (asserted). The approval of a transfer is a transfer_debit from that
  // hold under the review's decision key (handle(); decide() consumes the hold in the debit).
  handled hold_for_review(const command& c, timestamp now, const policy& limits,
                          const feature_flags& flags, timestamp expires_at);

  [[nodiscard]] const wallet_state& state() const noexcept { return state_; }
  [[nodiscard]] const idempotency_window& window() const noexcept { return window_; }

 private:
  // The answer of a repeat, a refused key or a refusing flag; nothing when the command is new.
  std::optional<handled> answered_early(const command& c, timestamp now, const feature_flags& flags,
                                        std::uint64_t print);
  [[nodiscard]] outcome current(std::optional<rejection> rejected) const;
  // Applies the decision (an event or a lasting rejection) and remembers it under `key`.
  handled settle(const std::string& key, std::uint64_t print, result<event, rejection> decided,
                 timestamp now);

  wallet_state state_;
  idempotency_window window_;
  duration retention_;
};

}  // namespace wallet::engine
