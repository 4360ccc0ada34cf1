// Start-up and maintenance operations on a caller's connection: migrations under an advisory lock,
// the recorded shard count, partitions, idempotency purge, history reads.
#include "wallet/postgres/database.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <pqxx/pqxx>

#include "event_rows.hpp"
#include "failure.hpp"
#include "sql_text.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::postgres {
namespace {

constexpr const char* create_migrations_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

error failed(std::string_view doing) {
  auto f = detail::classify_current_exception(doing, {});
  return error{f.code, std::move(f.detail)};
}

std::string label(int version, std::string_view name) {
  std::string text = std::to_string(version);
  text.insert(0, text.size() < 4 ? 4 - text.size() : 0, '0');
  return text.append("_").append(name);
}

// Holds a session-level advisory lock for its lifetime. Unlocking after a lost connection fails
// harmlessly: the server released the lock with the session.
class session_lock {
 public:
  session_lock(pqxx::connection_base& conn, std::int64_t key) : conn_(conn), key_(key) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock($1)", key_);
  }
  session_lock(const session_lock&) = delete;
  session_lock& operator=(const session_lock&) = delete;
  ~session_lock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", key_);
    } catch (...) {  // NOLINT(bugprone-empty-catch): see above
    }
  }

 private:
  pqxx::connection_base& conn_;
  std::int64_t key_;
};

struct applied_migration {
  int version = 0;
  std::string name;
  std::string checksum;
  std::string applied_at;
};

std::vector<applied_migration> read_applied(pqxx::connection_base& conn) {
  pqxx::nontransaction tx(conn);
  tx.exec(create_migrations_table);
  const pqxx::result rows = tx.exec(
      "SELECT version, name, checksum, applied_at::text FROM schema_migrations "
      "ORDER BY version");
  std::vector<applied_migration> applied;
  for (const auto& row : rows) {
    applied.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(),
                       row[3].as<std::string>()});
  }
  return applied;
}

// Applied migrations must be exactly the first embedded ones, unchanged.
std::optional<std::string> check_applied(const std::vector<applied_migration>& applied,
                                         std::span<const migration> migrations) {
  for (std::size_t i = 0; i < applied.size(); ++i) {
    const applied_migration& a = applied[i];
    const std::string stored = label(a.version, a.name);
    if (i >= migrations.size()) {
      return "the database has migration " + stored + " (applied " + a.applied_at +
             "), which this binary does not know: it was migrated by a newer walletd; run that "
             "version or a newer one";
    }
    const migration& m = migrations[i];
    if (a.version != m.version) {
      return "the database has migration " + stored + " where this binary expects " +
             label(m.version, m.name) +
             " first: the applied migrations are not a prefix of "
             "this binary's";
    }
    if (a.name != m.name || a.checksum != m.checksum) {
      return "migration " + stored + " (applied " + a.applied_at + ", checksum " + a.checksum +
             ") differs from this binary's " + label(m.version, m.name) + " (checksum " +
             std::string(m.checksum) +
             "): an applied migration was edited; restore it and put "
             "the change in a new migration";
    }
  }
  return std::nullopt;
}

void apply_migration(pqxx::connection_base& conn, const migration& m) {
  pqxx::work tx(conn);
  tx.exec(std::string(m.sql));
  tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                 m.version, std::string(m.name), std::string(m.checksum));
  tx.commit();
}

}  // namespace

std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::unavailable:
      return "unavailable";
    case errc::rejected:
      return "rejected";
    case errc::migration_mismatch:
      return "migration_mismatch";
    case errc::shard_count_mismatch:
      return "shard_count_mismatch";
    case errc::invalid_argument:
      return "invalid_argument";
  }
  return "unknown";
}

engine::result<std::vector<int>, error> migrate(pqxx::connection_base& conn) {
  return migrate(conn, embedded_migrations());
}

engine::result<std::vector<int>, error> migrate(pqxx::connection_base& conn,
                                                std::span<const migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    WALLET_ASSERT(migrations[i].version > (i == 0 ? 0 : migrations[i - 1].version));
  }
  std::string doing = "migrate";
  try {
    const session_lock lock(conn, migration_lock_key);
    const auto applied = read_applied(conn);
    if (auto problem = check_applied(applied, migrations)) {
      return error{errc::migration_mismatch, std::move(*problem)};
    }
    std::vector<int> done;
    for (std::size_t i = applied.size(); i < migrations.size(); ++i) {
      doing = "migrate " + label(migrations[i].version, migrations[i].name);
      apply_migration(conn, migrations[i]);
      done.push_back(migrations[i].version);
    }
    return done;
  } catch (...) {
    return failed(doing);
  }
}

engine::result<std::uint32_t, error> ensure_shard_count(pqxx::connection_base& conn,
                                                        std::uint32_t shard_count) {
  if (shard_count == 0) {
    return error{errc::invalid_argument, "the shard count must be at least 1"};
  }
  try {
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO deployment (key, value) VALUES ('shard_count', $1) ON CONFLICT (key) DO "
        "NOTHING",
        std::to_string(shard_count));
    const auto recorded =
        tx.exec("SELECT value FROM deployment WHERE key = 'shard_count'")[0][0].as<std::string>();
    tx.commit();
    if (recorded != std::to_string(shard_count)) {
      return error{errc::shard_count_mismatch,
                   "the database was set up with " + recorded +
                       " shards but this walletd is "
                       "configured with " +
                       std::to_string(shard_count) +
                       " (runtime.shards); a "
                       "wallet's shard follows from the count, so it cannot change in place"};
    }
    return shard_count;
  } catch (...) {
    return failed("ensure_shard_count");
  }
}

engine::result<int, error> ensure_partitions(pqxx::connection_base& conn, engine::timestamp now,
                                             int months_ahead) {
  if (months_ahead < 0 || months_ahead > 120) {
    return error{errc::invalid_argument,
                 "months_ahead must be 0..120, got " + std::to_string(months_ahead)};
  }
  try {
    pqxx::work tx(conn);
    const int created =
        tx.exec_params(
              "SELECT wallet_ensure_partitions(($1::timestamptz AT TIME ZONE 'UTC')::date, $2)",
              detail::timestamp_literal(now), months_ahead)[0][0]
            .as<int>();
    tx.commit();
    return created;
  } catch (...) {
    return failed("ensure_partitions");
  }
}

engine::result<std::size_t, error> purge_idempotency(pqxx::connection_base& conn,
                                                     engine::timestamp older_than,
                                                     std::size_t limit) {
  try {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(
        "DELETE FROM idempotency_records AS r USING ("
        " SELECT wallet_id, key FROM idempotency_records WHERE recorded_at < $1::timestamptz"
        " ORDER BY recorded_at LIMIT $2) AS old"
        " WHERE r.wallet_id = old.wallet_id AND r.key = old.key",
        detail::timestamp_literal(older_than),
        detail::to_bigint(
            std::min<std::uint64_t>(limit, std::numeric_limits<std::int64_t>::max())));
    tx.commit();
    return static_cast<std::size_t>(r.affected_rows());
  } catch (...) {
    return failed("purge_idempotency");
  }
}

engine::result<std::vector<engine::event>, error> read_events(pqxx::connection_base& conn,
                                                              std::string_view wallet_id,
                                                              std::uint64_t after_seq,
                                                              std::size_t limit) {
  const std::string doing = "read_events " + std::string(wallet_id);
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result rows = tx.exec_params(
        "SELECT seq, " WALLET_PG_EPOCH_US("at") ", type, data::text FROM wallet_events"
        " WHERE wallet_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        std::string(wallet_id), detail::to_bigint(after_seq),
        detail::to_bigint(std::min<std::uint64_t>(limit, std::numeric_limits<std::int64_t>::max())));
    return detail::events_from_rows(doing, rows);
  } catch (...) {
    return failed(doing);
  }
}

}  // namespace wallet::postgres
