// Idempotency: a key plus a content fingerprint; a repeat returns the original outcome.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

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
  idempotency_window() = default;
  // Copies rebuild the recording order (it links the copied map's own nodes); moves keep the nodes
  // and so the links.
  idempotency_window(const idempotency_window& other);
  idempotency_window& operator=(const idempotency_window& other);
  idempotency_window(idempotency_window&& other) noexcept;
  idempotency_window& operator=(idempotency_window&& other) noexcept;
  ~idempotency_window() = default;

  [[nodiscard]] const idempotency_record* find(std::string_view key) const;
  [[nodiscard]] bool full() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }

  // Records a new key. The key must not be present and the window must not be full (asserted).
  // A record older than the newest one is stamped with the newest time (a clock that stepped back).
  // Returns the record as kept.
  const idempotency_record& remember(std::string key, idempotency_record record);

  // Forgets every record older than now - retention.
  void expire(timestamp now, duration retention);

  // The same keys with the same records, recorded in the same order.
  friend bool operator==(const idempotency_window& a, const idempotency_window& b);

 private:
  // A key's record and the element recorded after it. The recording order is a chain through the
  // map's own elements, not a second container: a resident wallet pays one allocation per key
  // (plus its text when longer than the short-string buffer) instead of two copies of every key,
  // a command does not allocate to look its key up, and expiry reads the oldest record without
  // hashing its key. The pointers stay valid: an unordered_map never moves its elements
  // (rehashing relinks nodes), and an element leaves only through expire(), which unlinks it.
  struct entry;
  using element = std::pair<const std::string, entry>;
  struct entry {
    idempotency_record record;
    element* newer = nullptr;  // null: the newest
  };
  // Hashes a std::string and a std::string_view alike, so find() takes a view as it is.
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };

  void clear() noexcept;
  void append_copies_of(const idempotency_window& other);

  std::unordered_map<std::string, entry, key_hash, std::equal_to<>> records_;
  element* oldest_ = nullptr;  // null when empty
  element* newest_ = nullptr;  // null when empty
};

// What happened to one command at the wallet.
struct handled {
  outcome result;
  std::optional<event> appended;  // the new event, when the command was accepted now
  bool replayed = false;          // a repeat of an earlier command: nothing changed
  bool remembered = false;        // the outcome was recorded under the key (and must be stored)
  idempotency_record recorded{};  // when remembered: the record as kept in the window
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
