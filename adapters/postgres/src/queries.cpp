// Read-only lookups for clients' queries. Exceptions stop here, mapped like every other call of the
// adapter (failure.hpp).
#include "wallet/postgres/queries.hpp"

#include <bit>
#include <pqxx/pqxx>

#include "commit_plan.hpp"
#include "failure.hpp"
#include "sql_text.hpp"
#include "wallet/engine/rejection.hpp"
#include "wallet/postgres/event_codec.hpp"

namespace wallet::postgres {
namespace {

// SQL reads better one clause a line than as clang-format would wrap it.
// clang-format off
constexpr const char* wallet_sql =
    "SELECT owner, currency::text, balance, held, status, version, overdraft_limit"
    " FROM wallets WHERE id = $1";

constexpr const char* holds_sql =
    "SELECT hold_id, amount, " WALLET_PG_EPOCH_US("expires_at")
    " FROM wallet_holds WHERE wallet_id = $1";

// One statement, so one snapshot. The event is matched by seq as well as by key: an expired key
// may be used again, and (wallet_id, seq) is the events' indexed prefix.
constexpr const char* outcome_sql =
    "SELECT r.fingerprint, r.rejection, r.seq, r.balance, r.held,"
    " " WALLET_PG_EPOCH_US("r.recorded_at") ", w.currency::text,"
    " e.seq, " WALLET_PG_EPOCH_US("e.at") ", e.type, e.data::text"
    " FROM idempotency_records AS r"
    " LEFT JOIN wallets AS w ON w.id = r.wallet_id"
    " LEFT JOIN wallet_events AS e ON r.rejection IS NULL"
    " AND e.wallet_id = r.wallet_id AND e.seq = r.seq AND e.idempotency_key = r.key"
    " WHERE r.wallet_id = $1 AND r.key = $2";
// clang-format on

error failed(std::string_view doing) {
  auto f = detail::classify_current_exception(doing, {});
  return error{f.code, std::move(f.detail)};
}

error rejected(std::string detail) { return error{errc::rejected, std::move(detail)}; }

engine::result<engine::wallet_state, error> to_state(const std::string& id, const pqxx::row& row) {
  engine::wallet_state s = engine::empty_wallet(id);
  s.owner = row[0].as<std::string>();
  const auto ccy = engine::currency::from_code(row[1].as<std::string>());
  const auto status = detail::status_from_code(row[4].as<std::int64_t>());
  const auto version = row[5].as<std::int64_t>();
  if (!ccy || !status || version < 1) {
    return rejected("find_wallet " + id + ": unknown currency, status or version (" +
                    row[1].as<std::string>() + ", " + row[4].as<std::string>() + ", " +
                    row[5].as<std::string>() + ")");
  }
  s.ccy = *ccy;
  s.status = *status;
  s.balance = row[2].as<std::int64_t>();
  s.held = row[3].as<std::int64_t>();
  s.version = static_cast<std::uint64_t>(version);
  s.overdraft_limit = row[6].as<std::int64_t>();
  return s;
}

engine::result<engine::idempotency_record, error> to_record(const std::string& doing,
                                                            const pqxx::row& row) {
  engine::idempotency_record r;
  // Stored as the bits of the unsigned fingerprint (bigint has no unsigned form).
  r.fingerprint = std::bit_cast<std::uint64_t>(row[0].as<std::int64_t>());
  if (!row[1].is_null()) {
    const auto code = row[1].as<std::int64_t>();
    if (code < 1 || code > engine::rejection_count) {
      return rejected(doing + ": unknown rejection " + std::to_string(code));
    }
    r.result.rejected = static_cast<engine::rejection>(code);
  }
  const auto seq = row[2].as<std::int64_t>();
  if (seq < 0) return rejected(doing + ": negative seq");
  r.result.seq = static_cast<std::uint64_t>(seq);
  r.result.balance = row[3].as<std::int64_t>();
  r.result.held = row[4].as<std::int64_t>();
  r.recorded_at = detail::from_epoch_us(row[5].as<std::int64_t>());
  return r;
}

// The joined event columns (7..10), absent when the join found none.
engine::result<std::optional<engine::event>, error> to_event(const std::string& doing,
                                                             const pqxx::row& row) {
  if (row[7].is_null()) return std::optional<engine::event>{};
  auto body = decode_event(row[9].c_str(), row[10].c_str());
  if (!body) return rejected(doing + ": event: " + body.error());
  return std::optional<engine::event>{
      engine::event{static_cast<std::uint64_t>(row[7].as<std::int64_t>()),
                    detail::from_epoch_us(row[8].as<std::int64_t>()), std::move(body).value()}};
}

}  // namespace

engine::result<std::optional<engine::wallet_state>, error> find_wallet(
    pqxx::connection_base& conn, const std::string& wallet_id) {
  using out = std::optional<engine::wallet_state>;
  const std::string doing = "find_wallet " + wallet_id;
  try {
    // The row and its holds from one snapshot: held must equal the holds' sum.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    const pqxx::result rows = tx.exec_params(wallet_sql, wallet_id);
    if (rows.empty()) return out{};
    auto state = to_state(wallet_id, rows[0]);
    if (!state) return state.error();
    engine::wallet_state s = std::move(state).value();
    for (const auto& h : tx.exec_params(holds_sql, wallet_id)) {
      s.holds.emplace(
          h[0].as<std::string>(),
          engine::hold{h[1].as<std::int64_t>(), detail::from_epoch_us(h[2].as<std::int64_t>())});
    }
    tx.commit();
    return out{std::move(s)};
  } catch (...) {
    return failed(doing);
  }
}

engine::result<std::optional<stored_outcome>, error> find_outcome(pqxx::connection_base& conn,
                                                                  const std::string& wallet_id,
                                                                  const std::string& key) {
  using out = std::optional<stored_outcome>;
  const std::string doing = "find_outcome " + wallet_id + "/" + key;
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result rows = tx.exec_params(outcome_sql, wallet_id, key);
    if (rows.empty()) return out{};
    const pqxx::row row = rows[0];
    auto record = to_record(doing, row);
    if (!record) return record.error();
    auto event = to_event(doing, row);
    if (!event) return event.error();
    stored_outcome found{std::move(record).value(), {}, std::move(event).value()};
    if (!row[6].is_null()) found.currency = row[6].as<std::string>();
    return out{std::move(found)};
  } catch (...) {
    return failed(doing);
  }
}

}  // namespace wallet::postgres
