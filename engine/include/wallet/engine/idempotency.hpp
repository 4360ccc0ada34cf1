// Idempotency: a key plus a content fingerprint; a repeat returns the original outcome.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "wallet/engine/evicted_keys.hpp"
#include "wallet/engine/flags.hpp"
#include "wallet/engine/limits.hpp"
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

// How long a wallet remembers its keys, and how many of them it keeps resident (ADR 0017).
struct idempotency_bounds {
  duration retention{};
  std::size_t keys_resident = idempotency_keys_resident_default;  // at least 1
};

// The keys one wallet has seen within the retention window: the newest ones resident with their
// records, oldest first for cheap expiry, and the older ones (which stay in the store until their
// retention ends) in an evicted-key filter, allocated only once a key was evicted (ADR 0017).
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
  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }

  // Whether `key` may be one the window evicted within the retention (false: certainly not; true:
  // only the store can tell). No I/O, and nothing to read for a wallet that never evicted a key.
  [[nodiscard]] bool maybe_evicted(std::string_view key) const noexcept {
    return evicted_ != nullptr && evicted_->may_contain(key);
  }
  // The evicted-key filter; null while no key was evicted.
  [[nodiscard]] const evicted_keys* evicted() const noexcept { return evicted_.get(); }

  // Records a new key, which must not be present (asserted). A record older than the newest one is
  // stamped with the newest time (a clock that stepped back). Past bounds.keys_resident records,
  // the oldest leave memory for the evicted-key filter. Returns the record as kept.
  const idempotency_record& remember(std::string key, idempotency_record record,
                                     const idempotency_bounds& bounds);

  // Takes `older` as the evicted-key filter: the keys a load found older than the resident ones.
  // Only on an empty window that never evicted (asserted).
  void adopt_evicted(evicted_keys older);

  // Forgets every record and every filter slice older than now - retention.
  void expire(timestamp now, duration retention);

  // The same keys with the same records, recorded in the same order.
  friend bool operator==(const idempotency_window& a, const idempotency_window& b);

 private:
  // A key's record and the element recorded after it. The recording order is a chain through the
  // map's own elements, not a second container: a resident wallet pays one allocation per key
  // (plus its text when longer than the short-string buffer) instead of two copies of every key,
  // a command does not allocate to look its key up, and expiry reads the oldest record without
  // hashing its key. The pointers stay valid: an unordered_map never moves its elements
  // (rehashing relinks nodes), and an element leaves only through expire() or evict_oldest(),
  // which unlink it.
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
  void pop_oldest();

  std::unordered_map<std::string, entry, key_hash, std::equal_to<>> records_;
  element* oldest_ = nullptr;              // null when empty
  element* newest_ = nullptr;              // null when empty
  std::unique_ptr<evicted_keys> evicted_;  // null while no key was evicted (most wallets)
};

// What happened to one command at the wallet.
struct handled {
  outcome result;
  std::optional<event> appended;  // the new event, when the command was accepted now
  bool replayed = false;          // a repeat of an earlier command: nothing changed
  bool remembered = false;        // the outcome was recorded under the key (and must be stored)
  idempotency_record recorded{};  // when remembered: the record as kept in the window
  // The key may be one the window evicted (ADR 0017): nothing was decided. The caller looks it up
  // in the store, then answers recall() with the stored record, or, when the store has none,
  // calls again with key_check::absent_from_store.
  bool lookup = false;
  std::size_t evicted = 0;  // records that left the resident window to remember this one
};

// Whether the caller already asked the store for a key the evicted-key filter may hold.
enum class key_check : std::uint8_t {
  unchecked,          // not asked: a possibly evicted key answers handled::lookup
  absent_from_store,  // the store holds no record of the key within the retention
};

// A wallet with its idempotency window: the unit a wallet actor owns. handle() is the only way
// commands change it, so a replayed command provably changes nothing.
class wallet_aggregate {
 public:
  wallet_aggregate(std::string wallet_id, duration idempotency_retention);
  wallet_aggregate(std::string wallet_id, idempotency_bounds bounds);
  wallet_aggregate(wallet_state state, idempotency_window window, duration idempotency_retention);
  wallet_aggregate(wallet_state state, idempotency_window window, idempotency_bounds bounds);

  // The key is checked first, so a repeat returns its original outcome whatever the flags say
  // now; a command the flags refuse is answered feature_disabled and not remembered (a transient
  // rejection); only then does decide() run, under `limits`.
  // `screened`: the AML screening refused the move (aml_denied, remembered; aml_unavailable,
  // transient); it answers in place of decide(), after the key and flag checks. A review's
  // decision (ADR 0009) that decide() refuses is answered without being remembered.
  // A key the evicted-key filter may hold is answered handled::lookup unless `checked` says the
  // store has no record of it (ADR 0017).
  handled handle(const command& c, timestamp now, const policy& limits, const feature_flags& flags,
                 std::optional<rejection> screened = std::nullopt,
                 key_check checked = key_check::unchecked);

  // Whether `c`'s key may be one the window evicted and must be looked up in the store before `c`
  // is decided: a valid key, not resident, that the evicted-key filter may hold. No I/O.
  [[nodiscard]] bool needs_lookup(const command& c, timestamp now);

  // The answer to `c` when the store holds `stored` under its key (a key the window evicted): the
  // original outcome, or idempotency_conflict for other content. Changes nothing.
  [[nodiscard]] handled recall(const command& c, const idempotency_record& stored) const;

  // Whether handle() would reach decide() for `c` now and decide() would accept it: the only case
  // in which an outgoing move is screened (a repeat, a refused key or flag, or a move decide()
  // rejects anyway is answered without asking a provider). Changes nothing but expiring keys.
  [[nodiscard]] bool would_accept(const command& c, timestamp now, const policy& limits,
                                  const feature_flags& flags,
                                  key_check checked = key_check::unchecked);

  // The AML screening sent the withdrawal or transfer `c` to review (ADR 0009): after the same key
  // and flag checks as handle(), and decide()'s own checks of `c`, its amount is held until
  // `expires_at` under the review's hold id (review_hold_id(review_id_of(wallet, key))) instead of
  // leaving the wallet. The outcome (the hold_placed event, or the rejection `c` or a hold of that
  // amount gets) is remembered under c's key with c's fingerprint. `c` must be a withdraw or a
  // client's transfer_debit (asserted). The approval of a transfer is a transfer_debit from that
  // hold under the review's decision key (handle(); decide() consumes the hold in the debit).
  handled hold_for_review(const command& c, timestamp now, const policy& limits,
                          const feature_flags& flags, timestamp expires_at,
                          key_check checked = key_check::unchecked);

  [[nodiscard]] const wallet_state& state() const noexcept { return state_; }
  [[nodiscard]] const idempotency_window& window() const noexcept { return window_; }
  [[nodiscard]] const idempotency_bounds& bounds() const noexcept { return bounds_; }

 private:
  // The answer of a repeat, a refused key or a refusing flag; nothing when the command is new.
  std::optional<handled> answered_early(const command& c, timestamp now, const feature_flags& flags,
                                        std::uint64_t print, key_check checked);
  [[nodiscard]] outcome current(std::optional<rejection> rejected) const;
  // Applies the decision (an event or a lasting rejection) and remembers it under `key`.
  handled settle(const std::string& key, std::uint64_t print, result<event, rejection> decided,
                 timestamp now);

  wallet_state state_;
  idempotency_window window_;
  idempotency_bounds bounds_;
};

}  // namespace wallet::engine
