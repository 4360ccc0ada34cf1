// The store port on PostgreSQL: one instance per shard, one connection, every call blocking.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "wallet/actors/store_port.hpp"

namespace wallet::postgres {

class outbox_wakeups;

struct pg_store_settings {
  std::string conninfo;  // from make_conninfo; holds the password: never log it
  std::uint32_t shard_id = 0;
  std::uint32_t shard_count = 1;
  std::chrono::milliseconds statement_timeout{5'000};  // a slower statement fails: unavailable
  std::chrono::milliseconds lock_timeout{2'000};       // a longer row-lock wait fails: unavailable
  std::string application_name = "walletd";            // pg_stat_activity; the shard is appended
  // The outbox publisher of this process, handed the events (ADR 0015) and woken directly after a
  // commit that appended events; only when it has no thread for the shard (or none is given) does
  // the store send the NOTIFY (ADR 0014).
  std::shared_ptr<outbox_wakeups> wakeups;
};

// Connects lazily, on the first call and again after a connection was lost; a call that finds no
// connection fails with store_errc::unavailable and the next one tries again. No exception leaves
// it. Not thread-safe: one caller (the shard's detached store actor) at a time.
class pg_store final : public actors::store_port {
 public:
  explicit pg_store(pg_store_settings settings);
  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;
  pg_store(pg_store&&) = delete;
  pg_store& operator=(pg_store&&) = delete;
  ~pg_store() override;

  // Connects now when not connected (start-up checks and health probes).
  std::optional<actors::store_error> connect();
  [[nodiscard]] bool connected() const noexcept;

  // The row, its holds and its keys in one snapshot: the newest bounds.keys_resident with their
  // records, the older ones streamed through a cursor into the evicted-key filter (ADR 0017). The
  // wallet must belong to this shard (asserted); a stored row that breaks the wallet invariants is
  // store_errc::rejected.
  engine::result<actors::loaded_wallet, actors::store_error> load_wallet(
      const std::string& wallet_id, engine::timestamp keys_since,
      const engine::idempotency_bounds& bounds) override;
  engine::result<std::optional<engine::idempotency_record>, actors::store_error> find_key(
      const std::string& wallet_id, const std::string& key, engine::timestamp since) override;
  engine::result<std::vector<actors::outgoing_move>, actors::store_error> recent_outgoing(
      const std::string& wallet_id, engine::timestamp since, std::size_t limit) override;

  // One transaction: the wallets (fenced), the events, open holds, idempotency records and
  // transfer records. Writes of one wallet must chain (each expected_version is the previous
  // after.version), their events must run from expected_version + 1 to after.version, and every
  // wallet must belong to this shard: a violation is a programming error and aborts.
  std::optional<actors::store_error> commit(std::span<const actors::wallet_write> writes) override;

  engine::result<std::vector<actors::transfer_record>, actors::store_error> pending_transfers(
      engine::timestamp older_than, std::size_t limit) override;

  // Not limited to this shard's rows: the source wallet and the id name the transfer wherever it
  // is.
  engine::result<std::optional<actors::transfer_record>, actors::store_error> find_transfer(
      const std::string& source_wallet_id, const std::string& transfer_id) override;

  engine::result<std::vector<actors::due_hold>, actors::store_error> due_holds(
      engine::timestamp now, std::size_t limit) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace wallet::postgres
