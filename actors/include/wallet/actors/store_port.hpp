// The persistence port the actor runtime needs. adapters/postgres implements it; unit tests fake
// it. Calls block (libpqxx does): only detached actors call them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wallet/actors/audit.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/screening.hpp"
#include "wallet/engine/wallet.hpp"

namespace wallet::actors {

enum class store_errc : std::uint8_t {
  unavailable,     // no connection, connection lost, server shutting down: retry later
  fence_conflict,  // a wallet's version was not the expected one: another writer; reload
  rejected,        // the database refused the data (constraint, append-only rule): a bug or tamper
};

[[nodiscard]] constexpr std::string_view to_string(store_errc e) noexcept {
  switch (e) {
    case store_errc::unavailable:
      return "unavailable";
    case store_errc::fence_conflict:
      return "fence_conflict";
    case store_errc::rejected:
      return "rejected";
  }
  return "unknown";
}

struct store_error {
  store_errc code = store_errc::unavailable;
  std::string detail;  // for logs; never contains secrets
};

// What one command did to one wallet: its events (none for a rejection), the state after (its
// `holds` are not read: open holds follow from the events), and the idempotency record that
// answers a repeat. Several writes of one wallet in a batch chain up:
// each expected_version is the previous write's after.version.
struct wallet_write {
  std::string wallet_id;
  std::uint64_t expected_version = 0;  // the stored version before this write; 0: a new wallet
  engine::wallet_state after;
  std::vector<engine::event> events;
  std::string idempotency_key;
  engine::idempotency_record record;
  // Carried from the inbound adapter to the published events: the client's command id and its
  // W3C trace context; empty when none.
  std::string command_id;
  std::string trace_parent;
  // An administrative command's audit record: committed in the same transaction as the write
  // (the store adds the outcome: applied with the event's seq, or rejected with the code).
  std::optional<audit_entry> audit;
  // Why the screening sent this write's withdrawal or transfer to review (ADR 0009), when its
  // event places a review hold: the store records the review with them. 0 otherwise.
  engine::screening_reasons review_reasons = 0;
  // The transfer under review, when this write's event places the review hold of a transfer: the
  // review records them, and its approval debits the hold towards them. Empty otherwise.
  std::string review_transfer_id;
  std::string review_destination;
};

// Money that left a wallet: a withdrawal, a transfer debit or the captured part of a hold capture.
struct outgoing_move {
  engine::timestamp at;
  std::int64_t amount = 0;  // minor units, > 0
};

// Everything a wallet actor needs to resume: the state and the keys still inside the window.
struct loaded_wallet {
  engine::wallet_state state;  // empty_wallet(id) when the wallet was never opened
  // The newest keys (at most idempotency_bounds::keys_resident), oldest first, with their records.
  std::vector<std::pair<std::string, engine::idempotency_record>> keys;
  // The older keys within the retention, in the evicted-key filter (ADR 0017); empty when none.
  engine::evicted_keys evicted;
  // The wallet's recent outgoing moves (store_port::recent_outgoing), when the load asked for
  // them: the AML velocity window is rebuilt from them (ADR 0007).
  std::vector<outgoing_move> outgoing;
};

enum class transfer_status : std::uint8_t { pending, completed, reversed };

[[nodiscard]] constexpr std::string_view to_string(transfer_status s) noexcept {
  switch (s) {
    case transfer_status::pending:
      return "pending";
    case transfer_status::completed:
      return "completed";
    case transfer_status::reversed:
      return "reversed";
  }
  return "unknown";
}

struct transfer_record {
  std::string transfer_id;
  std::string source;
  std::string destination;
  engine::money amount;
  transfer_status status = transfer_status::pending;
  engine::timestamp created_at;
};

struct due_hold {
  std::string wallet_id;
  std::string hold_id;
  engine::timestamp expires_at;
};

// One store_port instance serves one shard: the scans (pending_transfers, due_holds) return only
// rows of that shard's wallets, and commit writes only wallets of that shard.
class store_port {
 public:
  store_port() = default;
  store_port(const store_port&) = delete;
  store_port& operator=(const store_port&) = delete;
  store_port(store_port&&) = delete;
  store_port& operator=(store_port&&) = delete;
  virtual ~store_port() = default;

  // The wallet's stored state and its idempotency keys recorded after `keys_since`: the newest
  // `bounds.keys_resident` with their records, the older ones added (oldest first, under
  // `bounds.retention`) to loaded_wallet::evicted. A wallet with a million keys must not need a
  // million records in memory at once.
  virtual engine::result<loaded_wallet, store_error> load_wallet(
      const std::string& wallet_id, engine::timestamp keys_since,
      const engine::idempotency_bounds& bounds) = 0;

  // The record of `key` on `wallet_id` recorded after `since`, or none (ADR 0017: a key the
  // wallet's evicted-key filter may hold).
  virtual engine::result<std::optional<engine::idempotency_record>, store_error> find_key(
      const std::string& wallet_id, const std::string& key, engine::timestamp since) = 0;

  // The wallet's outgoing moves (withdrawn, transfer_debited, hold_captured with a captured part)
  // stamped at or after `since`, oldest first, at most the newest `limit` of them. A store that
  // keeps no event history may return none (the velocity window then starts empty).
  virtual engine::result<std::vector<outgoing_move>, store_error> recent_outgoing(
      const std::string& /*wallet_id*/, engine::timestamp /*since*/, std::size_t /*limit*/) {
    return std::vector<outgoing_move>{};
  }

  // Commits every write in one transaction, or none. Fails with fence_conflict when any wallet's
  // stored version differs from the write's expected_version. Transfer records and open holds
  // follow from the events (transfer_debited inserts a pending transfer, transfer_credited
  // completes it, transfer_reversed reverses it; hold events maintain the open holds).
  virtual std::optional<store_error> commit(std::span<const wallet_write> writes) = 0;

  // Pending transfers whose debit committed before `older_than` (the saga's recovery scan).
  virtual engine::result<std::vector<transfer_record>, store_error> pending_transfers(
      engine::timestamp older_than, std::size_t limit) = 0;

  // Transfer ids are unique per source wallet (clients choose them), so a transfer is found by
  // both.
  virtual engine::result<std::optional<transfer_record>, store_error> find_transfer(
      const std::string& source_wallet_id, const std::string& transfer_id) = 0;

  // Open holds whose expiry is at or before `now`, for wallets that are not resident.
  virtual engine::result<std::vector<due_hold>, store_error> due_holds(engine::timestamp now,
                                                                       std::size_t limit) = 0;
};

}  // namespace wallet::actors
