// Operations on one connection, for start-up and maintenance: migrations, the recorded shard count,
// event partitions, idempotency purge, and reading a wallet's history.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wallet/engine/event.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/time.hpp"
#include "wallet/postgres/error.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace wallet::postgres {

// A versioned schema change, embedded at build time from
// adapters/postgres/migrations/NNNN_name.sql.
struct migration {
  int version = 0;
  std::string_view name;      // "init" for 0001_init.sql
  std::string_view checksum;  // SHA-256 of the file, lower-case hex
  std::string_view sql;
};

// The migrations built into this binary, in version order.
[[nodiscard]] std::span<const migration> embedded_migrations() noexcept;

// The session-level advisory lock key held while migrating ("walletmg").
inline constexpr std::int64_t migration_lock_key = 8602275976068754791;

// Brings the schema up to date under a session-level advisory lock: creates schema_migrations,
// checks that every applied migration is one of `migrations` with the same name and checksum
// (migration_mismatch otherwise, applying nothing), then applies each missing one in its own
// transaction and records it. Safe when several processes start at once. Returns the versions it
// applied (none when the schema was current).
[[nodiscard]] engine::result<std::vector<int>, error> migrate(pqxx::connection_base& conn);
[[nodiscard]] engine::result<std::vector<int>, error> migrate(
    pqxx::connection_base& conn, std::span<const migration> migrations);

// Records `shard_count` on the first start; fails with shard_count_mismatch when the database was
// set up with another count (changing it would move wallets between shards).
[[nodiscard]] engine::result<std::uint32_t, error> ensure_shard_count(pqxx::connection_base& conn,
                                                                      std::uint32_t shard_count);

// Creates the monthly wallet_events partitions for the UTC month of `now` and `months_ahead`
// months after it, where missing. Call at start-up and daily: an event in a month without a
// partition is refused (there is no default partition). Returns how many it created.
[[nodiscard]] engine::result<int, error> ensure_partitions(pqxx::connection_base& conn,
                                                           engine::timestamp now, int months_ahead);

// Deletes up to `limit` idempotency records recorded before `older_than` (oldest first). Call with
// older_than <= now - retention; repeat while it returns `limit`. Returns how many it deleted.
[[nodiscard]] engine::result<std::size_t, error> purge_idempotency(pqxx::connection_base& conn,
                                                                   engine::timestamp older_than,
                                                                   std::size_t limit);

// Up to `limit` events of one wallet with seq > after_seq, in seq order (history, reconciliation,
// republishing). Works on a read replica.
[[nodiscard]] engine::result<std::vector<engine::event>, error> read_events(
    pqxx::connection_base& conn, std::string_view wallet_id, std::uint64_t after_seq,
    std::size_t limit);

}  // namespace wallet::postgres
