// pg_store: the store port on one libpqxx connection. Every public call catches at this boundary.
#include "wallet/postgres/pg_store.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "commit_plan.hpp"
#include "failure.hpp"
#include "sql_text.hpp"
#include "statements.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/shard.hpp"
#include "wallet/postgres/conninfo.hpp"
#include "wallet/postgres/outbox.hpp"

namespace wallet::postgres {
namespace {

using actors::store_errc;
using actors::store_error;

store_error rejected(std::string detail) {
  return store_error{store_errc::rejected, std::move(detail)};
}

std::int64_t limit_param(std::size_t limit) {
  return detail::to_bigint(
      std::min<std::uint64_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

// The refusals wallet_commit raises (migration 0011) as the store's codes; nullopt for any other
// error, which is classified like every other (failure.hpp).
std::optional<store_errc> refusal_code(std::string_view sqlstate) {
  if (sqlstate == "WLF01") return store_errc::fence_conflict;
  if (sqlstate == "WLR01") return store_errc::rejected;
  return std::nullopt;
}

// wallet_commit's parameters: the shard, then each part's columns in the plan's order (the order
// of the function's parameters, statements.hpp).
std::vector<std::string> commit_arguments(detail::commit_plan& plan, std::int64_t shard) {
  std::vector<std::string> params;
  params.reserve(detail::stmt::commit_parameters);
  params.push_back(std::to_string(shard));
  const auto append = [&params](auto& part) {
    for (std::string& column : std::move(part).literals()) {
      params.push_back(std::move(column));
    }
  };
  append(plan.absent);
  append(plan.created);
  append(plan.updated);
  append(plan.events);
  append(plan.holds_closed);
  append(plan.holds_opened);
  append(plan.records);
  append(plan.debits);
  append(plan.audits);
  append(plan.reviews_opened);
  append(plan.reviews_closed);
  append(plan.credits);
  append(plan.reversals);
  WALLET_ASSERT(params.size() == detail::stmt::commit_parameters);
  return params;
}

// The checks of engine::check_invariants, as a refusal instead of an abort: stored rows are input.
std::optional<std::string> check_loaded(const engine::wallet_state& s) {
  if (s.version < 1) return "version below 1";
  if (s.overdraft_limit < 0 || s.overdraft_limit > engine::overdraft_limit_max) {
    return "overdraft_limit out of range";
  }
  if (s.balance > engine::balance_minor_max || s.balance < -s.overdraft_limit) {
    return "balance out of range";
  }
  if (s.held < 0 || s.held > s.balance + s.overdraft_limit) return "held out of range";
  if (s.outgoing_today < 0) return "outgoing_today below 0";
  if (s.holds.size() > engine::holds_per_wallet_max) return "too many holds";
  std::int64_t sum = 0;
  for (const auto& [id, h] : s.holds) {
    const auto next = engine::checked_add(sum, h.amount);
    if (h.amount <= 0 || !next) return "hold " + id + " has a bad amount";
    sum = *next;
  }
  if (sum != s.held) {
    return "held " + std::to_string(s.held) + " differs from its holds' sum " + std::to_string(sum);
  }
  return std::nullopt;
}

engine::result<actors::transfer_record, store_error> to_transfer(const pqxx::row& row) {
  actors::transfer_record t;
  t.transfer_id = row[0].as<std::string>();
  t.source = row[1].as<std::string>();
  t.destination = row[2].as<std::string>();
  const auto ccy = engine::currency::from_code(row[3].as<std::string>());
  if (!ccy) {
    return rejected("transfer " + t.transfer_id + ": unknown currency " + row[3].as<std::string>());
  }
  t.amount = engine::money{row[4].as<std::int64_t>(), *ccy};
  const auto status = row[5].as<std::string>();
  if (status == "pending") {
    t.status = actors::transfer_status::pending;
  } else if (status == "completed") {
    t.status = actors::transfer_status::completed;
  } else if (status == "reversed") {
    t.status = actors::transfer_status::reversed;
  } else {
    return rejected("transfer " + t.transfer_id + ": unknown status " + status);
  }
  t.created_at = detail::from_epoch_us(row[6].as<std::int64_t>());
  return t;
}

// Rows of the keys older than the resident ones fetched at once while they stream into the
// evicted-key filter (ADR 0017): the load's memory stays bounded whatever the wallet's keys.
constexpr std::size_t older_keys_fetch_rows = 8'192;

// One idempotency_records row (key, fingerprint, rejection, seq, balance, held, recorded_at as
// epoch microseconds) as the engine's record.
engine::result<engine::idempotency_record, store_error> record_of(const pqxx::row& row,
                                                                  const std::string& id) {
  engine::idempotency_record r;
  r.fingerprint = std::bit_cast<std::uint64_t>(row[1].as<std::int64_t>());
  if (!row[2].is_null()) {
    const auto code = row[2].as<std::int64_t>();
    if (code < 1 || code > engine::rejection_count) {
      return rejected("wallet " + id + ": key " + row[0].as<std::string>() +
                      ": unknown rejection " + std::to_string(code));
    }
    r.result.rejected = static_cast<engine::rejection>(code);
  }
  r.result.seq = static_cast<std::uint64_t>(std::max<std::int64_t>(row[3].as<std::int64_t>(), 0));
  r.result.balance = row[4].as<std::int64_t>();
  r.result.held = row[5].as<std::int64_t>();
  r.recorded_at = detail::from_epoch_us(row[6].as<std::int64_t>());
  return r;
}

// The wallet's idempotency keys recorded after `since` (the newest ones, at most `resident`),
// oldest first.
engine::result<std::vector<std::pair<std::string, engine::idempotency_record>>, store_error>
read_keys(pqxx::dbtransaction& tx, const std::string& id, engine::timestamp since,
          std::size_t resident) {
  std::vector<std::pair<std::string, engine::idempotency_record>> keys;
  const pqxx::result rows = tx.exec_prepared(
      detail::stmt::keys_load.name, id, detail::timestamp_literal(since), limit_param(resident));
  keys.reserve(rows.size());
  for (const auto& row : rows) {
    auto r = record_of(row, id);
    if (!r) {
      return r.error();
    }
    keys.emplace_back(row[0].as<std::string>(), r.value());
  }
  return keys;
}

// The keys after `since` older than `oldest` (the oldest resident key, whose stored seq is
// `oldest.second.result.seq`), streamed oldest first into `evicted` (ADR 0017).
void read_older_keys(pqxx::dbtransaction& tx, const std::string& id, engine::timestamp since,
                     const std::pair<std::string, engine::idempotency_record>& oldest,
                     const engine::idempotency_bounds& bounds, engine::evicted_keys& evicted) {
  // Closed with the transaction.
  tx.exec_params("DECLARE wallet_keys_older NO SCROLL CURSOR FOR " WALLET_PG_KEYS_OLDER_QUERY, id,
                 detail::timestamp_literal(since),
                 detail::timestamp_literal(oldest.second.recorded_at),
                 detail::to_bigint(oldest.second.result.seq), oldest.first);
  const std::string fetch =
      "FETCH FORWARD " + std::to_string(older_keys_fetch_rows) + " FROM wallet_keys_older";
  for (;;) {
    const pqxx::result rows = tx.exec(fetch);
    for (const auto& row : rows) {
      evicted.add(row[0].as<std::string>(), detail::from_epoch_us(row[1].as<std::int64_t>()),
                  bounds.retention);
    }
    if (rows.size() < older_keys_fetch_rows) {
      return;
    }
  }
}

}  // namespace

struct pg_store::impl {
  pg_store_settings settings;
  std::string secret;  // the password in the connection string: scrubbed from every detail
  std::unique_ptr<pqxx::connection> conn;

  explicit impl(pg_store_settings s)
      : settings(std::move(s)), secret(conninfo_password(settings.conninfo)) {}

  [[nodiscard]] std::int64_t shard() const { return settings.shard_id; }

  // Classifies the exception being handled, dropping the connection when it is lost.
  store_error fail(std::string_view doing) {
    auto f = detail::classify_current_exception(doing, secret);
    if (f.connection_lost || (conn && !conn->is_open())) {
      conn.reset();
    }
    return store_error{f.code == errc::unavailable ? store_errc::unavailable : store_errc::rejected,
                       std::move(f.detail)};
  }

  // Wakes the outbox publisher after a commit that appended events. The commit stands whatever
  // happens here: a lost notification delays publishing until the publisher's next poll, and a
  // lost connection fails this store's next call, which reports it.
  void notify_outbox(pqxx::connection& c) const noexcept {
    try {
      pqxx::nontransaction n(c);
      n.exec_prepared(detail::stmt::outbox_notify.name, outbox_channel, std::to_string(shard()));
      n.commit();
    } catch (...) {  // NOLINT(bugprone-empty-catch): see above
    }
  }

  void configure(pqxx::connection& c) const {
    c.set_variable("statement_timeout", std::to_string(settings.statement_timeout.count()));
    c.set_variable("lock_timeout", std::to_string(settings.lock_timeout.count()));
    c.set_variable("TimeZone", "'UTC'");
    std::string name = settings.application_name;
    name.append("/shard-").append(std::to_string(settings.shard_id));
    std::string quoted = "'";
    quoted.append(c.esc(name)).append("'");
    c.set_variable("application_name", quoted);
    for (const detail::statement& s : detail::stmt::all) {
      c.prepare(s.name, s.sql);
    }
  }

  std::optional<store_error> ensure_connected() {
    if (conn && conn->is_open()) {
      return std::nullopt;
    }
    conn.reset();
    try {
      auto c = std::make_unique<pqxx::connection>(settings.conninfo);
      configure(*c);
      conn = std::move(c);
      return std::nullopt;
    } catch (...) {
      return fail("connect");
    }
  }

  // Runs `body(connection)` connected, turning any exception into an error.
  template <class F>
  auto run(std::string_view doing, F&& body) -> decltype(body(*conn)) {
    if (auto e = ensure_connected()) {
      return *e;
    }
    try {
      return body(*conn);
    } catch (...) {
      return fail(doing);
    }
  }

  engine::result<engine::wallet_state, store_error> read_state(pqxx::dbtransaction& tx,
                                                               const std::string& id) const;
};

engine::result<engine::wallet_state, store_error> pg_store::impl::read_state(
    pqxx::dbtransaction& tx, const std::string& id) const {
  const pqxx::result w = tx.exec_prepared(detail::stmt::wallet_load.name, id);
  if (w.empty()) {
    return engine::empty_wallet(id);
  }
  const std::string where = "wallet " + id + ": ";
  const pqxx::row row = w[0];
  engine::wallet_state s = engine::empty_wallet(id);
  const auto stored_shard = row[0].as<std::int64_t>();
  if (stored_shard != engine::shard_of(id, settings.shard_count)) {
    return rejected(where + "stored on shard " + std::to_string(stored_shard) + ", not " +
                    std::to_string(engine::shard_of(id, settings.shard_count)));
  }
  s.owner = row[1].as<std::string>();
  const auto ccy = engine::currency::from_code(row[2].as<std::string>());
  const auto status = detail::status_from_code(row[5].as<std::int64_t>());
  if (!ccy || !status) {
    return rejected(where + "unknown currency or status (" + row[2].as<std::string>() + ", " +
                    row[5].as<std::string>() + ")");
  }
  s.ccy = *ccy;
  s.status = *status;
  s.balance = row[3].as<std::int64_t>();
  s.held = row[4].as<std::int64_t>();
  s.version = static_cast<std::uint64_t>(std::max<std::int64_t>(row[6].as<std::int64_t>(), 0));
  s.overdraft_limit = row[7].as<std::int64_t>();
  const auto level = engine::kyc_from_code(row[8].as<std::int64_t>());
  if (!level) {
    return rejected(where + "unknown KYC level " + row[8].as<std::string>());
  }
  s.kyc_level = *level;
  s.outgoing_day = std::chrono::sys_days{std::chrono::days{row[9].as<std::int64_t>()}};
  s.outgoing_today = row[10].as<std::int64_t>();
  for (const auto& h : tx.exec_prepared(detail::stmt::holds_load.name, id)) {
    s.holds.emplace(
        h[0].as<std::string>(),
        engine::hold{h[1].as<std::int64_t>(), detail::from_epoch_us(h[2].as<std::int64_t>())});
  }
  if (auto problem = check_loaded(s)) {
    return rejected(where + *problem);
  }
  return s;
}

pg_store::pg_store(pg_store_settings settings)
    : impl_(std::make_unique<impl>(std::move(settings))) {
  WALLET_ASSERT(impl_->settings.shard_count >= 1);
  WALLET_ASSERT(impl_->settings.shard_id < impl_->settings.shard_count);
}

pg_store::~pg_store() = default;

std::optional<store_error> pg_store::connect() { return impl_->ensure_connected(); }

bool pg_store::connected() const noexcept { return impl_->conn && impl_->conn->is_open(); }

engine::result<actors::loaded_wallet, store_error> pg_store::load_wallet(
    const std::string& wallet_id, engine::timestamp keys_since,
    const engine::idempotency_bounds& bounds) {
  WALLET_ASSERT(engine::shard_of(wallet_id, impl_->settings.shard_count) ==
                impl_->settings.shard_id);
  return impl_->run(
      "load_wallet " + wallet_id,
      [&](pqxx::connection& c) -> engine::result<actors::loaded_wallet, store_error> {
        // One snapshot for the row, its holds and its keys.
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
        auto state = impl_->read_state(tx, wallet_id);
        if (!state) {
          return state.error();
        }
        auto keys = read_keys(tx, wallet_id, keys_since, bounds.keys_resident);
        if (!keys) {
          return keys.error();
        }
        actors::loaded_wallet loaded{std::move(state).value(), std::move(keys).value(), {}, {}};
        // As many keys as the window keeps: older ones may be within the retention too.
        if (!loaded.keys.empty() && loaded.keys.size() >= bounds.keys_resident) {
          read_older_keys(tx, wallet_id, keys_since, loaded.keys.front(), bounds, loaded.evicted);
        }
        tx.commit();
        return loaded;
      });
}

engine::result<std::optional<engine::idempotency_record>, store_error> pg_store::find_key(
    const std::string& wallet_id, const std::string& key, engine::timestamp since) {
  using out = engine::result<std::optional<engine::idempotency_record>, store_error>;
  return impl_->run("find_key " + wallet_id, [&](pqxx::connection& c) -> out {
    pqxx::read_transaction tx(c);
    const pqxx::result rows = tx.exec_prepared(detail::stmt::key_find.name, wallet_id, key,
                                               detail::timestamp_literal(since));
    if (rows.empty()) {
      return std::optional<engine::idempotency_record>{};
    }
    auto r = record_of(rows[0], wallet_id);
    if (!r) {
      return r.error();
    }
    return std::optional<engine::idempotency_record>{r.value()};
  });
}

engine::result<std::vector<actors::outgoing_move>, store_error> pg_store::recent_outgoing(
    const std::string& wallet_id, engine::timestamp since, std::size_t limit) {
  using out = engine::result<std::vector<actors::outgoing_move>, store_error>;
  return impl_->run("recent_outgoing " + wallet_id, [&](pqxx::connection& c) -> out {
    pqxx::read_transaction tx(c);
    // Newest first (the bound keeps the newest), returned oldest first.
    const pqxx::result rows =
        tx.exec_prepared(detail::stmt::outgoing_load.name, wallet_id,
                         detail::timestamp_literal(since), limit_param(limit));
    std::vector<actors::outgoing_move> moves;
    moves.reserve(rows.size());
    for (auto i = rows.size(); i-- > 0;) {
      const pqxx::row row = rows[i];
      moves.push_back(actors::outgoing_move{detail::from_epoch_us(row[0].as<std::int64_t>()),
                                            row[1].as<std::int64_t>()});
    }
    return moves;
  });
}

std::optional<store_error> pg_store::commit(std::span<const actors::wallet_write> writes) {
  if (writes.empty()) {
    return std::nullopt;
  }
  return impl_->run("commit", [&](pqxx::connection& c) -> std::optional<store_error> {
    detail::commit_plan plan =
        detail::plan_commit(writes, impl_->settings.shard_id, impl_->settings.shard_count);
    const bool appends_events = !plan.events.empty();
    const std::vector<std::string> params = commit_arguments(plan, impl_->shard());
    const auto& local = impl_->settings.wakeups;
    std::int64_t position = 0;  // of the batch's outbox row, when it appended events
    try {
      // One statement in autocommit is a transaction of its own: all of the batch or none of it.
      pqxx::nontransaction tx(c);
      if (appends_events) {
        // The same call, answering its outbox row's position for the in-memory hand-off.
        const pqxx::result r = tx.exec_prepared(detail::stmt::commit_outbox.name,
                                                pqxx::prepare::make_dynamic_params(params));
        position = r[0][0].as<std::int64_t>();
      } else {
        tx.exec_prepared(detail::stmt::commit.name, pqxx::prepare::make_dynamic_params(params));
      }
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      // A refusal (fence conflict, a used transfer id, ...) is the batch's answer, not a failure
      // of the adapter: its detail is the raised message alone, as when C++ checked the counts.
      // The function raised it, so nothing was committed.
      if (const auto code = refusal_code(e.sqlstate())) {
        return store_error{*code, detail::primary_message(e.what())};
      }
      // Whether it committed is not known: the hand-off cannot claim to hold every commit.
      if (appends_events && local) local->lost(impl_->settings.shard_id);
      throw;  // classified by run() like every other error
    } catch (...) {
      if (appends_events && local) local->lost(impl_->settings.shard_id);
      throw;
    }
    if (appends_events) {
      // In process when the publisher lives here: the events themselves (ADR 0015), no round
      // trip, no wake-up of the other shards' publishing threads (ADR 0014).
      const auto events = [writes] {
        std::vector<outbox_event> out;
        for (const actors::wallet_write& w : writes) {
          for (const engine::event& e : w.events) {
            out.push_back(outbox_event{w.wallet_id, std::string{w.after.ccy.code()}, e,
                                       w.idempotency_key, w.command_id, w.trace_parent});
          }
        }
        return out;
      };
      if (!local || !local->committed(impl_->settings.shard_id, position, events)) {
        impl_->notify_outbox(c);
      }
    }
    return std::nullopt;
  });
}

engine::result<std::vector<actors::transfer_record>, store_error> pg_store::pending_transfers(
    engine::timestamp older_than, std::size_t limit) {
  using out = engine::result<std::vector<actors::transfer_record>, store_error>;
  return impl_->run("pending_transfers", [&](pqxx::connection& c) -> out {
    pqxx::read_transaction tx(c);
    const pqxx::result rows =
        tx.exec_prepared(detail::stmt::transfers_pending.name, impl_->shard(),
                         detail::timestamp_literal(older_than), limit_param(limit));
    std::vector<actors::transfer_record> transfers;
    transfers.reserve(rows.size());
    for (const auto& row : rows) {
      auto t = to_transfer(row);
      if (!t) {
        return t.error();
      }
      transfers.push_back(std::move(t).value());
    }
    return transfers;
  });
}

engine::result<std::optional<actors::transfer_record>, store_error> pg_store::find_transfer(
    const std::string& source_wallet_id, const std::string& transfer_id) {
  using out = engine::result<std::optional<actors::transfer_record>, store_error>;
  return impl_->run(
      "find_transfer " + source_wallet_id + "/" + transfer_id, [&](pqxx::connection& c) -> out {
        pqxx::read_transaction tx(c);
        const pqxx::result rows =
            tx.exec_prepared(detail::stmt::transfer_find.name, source_wallet_id, transfer_id);
        if (rows.empty()) {
          return std::optional<actors::transfer_record>{};
        }
        auto t = to_transfer(rows[0]);
        if (!t) {
          return t.error();
        }
        return std::optional<actors::transfer_record>{std::move(t).value()};
      });
}

engine::result<std::vector<actors::due_hold>, store_error> pg_store::due_holds(
    engine::timestamp now, std::size_t limit) {
  using out = engine::result<std::vector<actors::due_hold>, store_error>;
  return impl_->run("due_holds", [&](pqxx::connection& c) -> out {
    pqxx::read_transaction tx(c);
    const pqxx::result rows = tx.exec_prepared(detail::stmt::holds_due.name, impl_->shard(),
                                               detail::timestamp_literal(now), limit_param(limit));
    std::vector<actors::due_hold> holds;
    holds.reserve(rows.size());
    for (const auto& row : rows) {
      holds.push_back(actors::due_hold{row[0].as<std::string>(), row[1].as<std::string>(),
                                       detail::from_epoch_us(row[2].as<std::int64_t>())});
    }
    return holds;
  });
}

}  // namespace wallet::postgres
