// Read-only lookups for clients' queries. Exceptions stop here, mapped like every other call of the
// adapter (failure.hpp).
#include "wallet/postgres/queries.hpp"

#include <algorithm>
#include <bit>
#include <iterator>
#include <pqxx/pqxx>
#include <variant>

#include "commit_plan.hpp"
#include "event_rows.hpp"
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

// The columns of wallet_sql, then the id: to_state reads the first seven.
constexpr const char* owner_page_sql =
    "SELECT owner, currency::text, balance, held, status, version, overdraft_limit, id"
    " FROM wallets WHERE owner = $1 AND id > $2 ORDER BY id LIMIT $3";

constexpr const char* page_holds_sql =
    "SELECT wallet_id, hold_id, amount, " WALLET_PG_EPOCH_US("expires_at")
    " FROM wallet_holds WHERE wallet_id = ANY($1::text[])";

constexpr const char* transfer_sql =
    "SELECT destination, currency::text, amount, status,"
    " " WALLET_PG_EPOCH_US("created_at") ", " WALLET_PG_EPOCH_US("updated_at")
    " FROM transfers WHERE source = $1 AND id = $2";

// A transfer under AML review, or one whose review ended without it leaving (migration 0010).
constexpr const char* transfer_review_sql =
    "SELECT destination, currency, amount, status, review_id,"
    " " WALLET_PG_EPOCH_US("opened_at") ", " WALLET_PG_EPOCH_US("coalesce(decided_at, opened_at)")
    " FROM aml_reviews WHERE wallet_id = $1 AND transfer_id = $2 AND status <> 'approved'"
    " ORDER BY opened_at DESC, review_id DESC LIMIT 1";

constexpr const char* hold_events_sql =
    "SELECT seq, " WALLET_PG_EPOCH_US("at") ", type, data::text FROM wallet_events"
    " WHERE wallet_id = $1"
    " AND type IN ('hold_placed', 'hold_captured', 'hold_released', 'hold_expired')"
    " AND data->>'hold_id' = $2 ORDER BY seq";
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

// The status a transfer's review gives it while it has no saga record.
std::optional<transfer_status> review_transfer_status(std::string_view review_status) {
  if (review_status == "pending") return transfer_status::pending_review;
  if (review_status == "rejected") return transfer_status::review_rejected;
  if (review_status == "expired") return transfer_status::review_expired;
  return std::nullopt;
}

std::optional<transfer_status> transfer_status_from(std::string_view text) {
  for (const auto s :
       {transfer_status::pending, transfer_status::completed, transfer_status::reversed}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

}  // namespace

namespace detail {

engine::result<std::vector<engine::event>, error> events_from_rows(const std::string& doing,
                                                                   const pqxx::result& rows) {
  std::vector<engine::event> events;
  events.reserve(rows.size());
  for (const auto& row : rows) {
    const auto seq = row[0].as<std::int64_t>();
    auto body = decode_event(row[2].c_str(), row[3].c_str());
    if (!body) return rejected(doing + ": event " + std::to_string(seq) + ": " + body.error());
    events.push_back(engine::event{static_cast<std::uint64_t>(seq),
                                   from_epoch_us(row[1].as<std::int64_t>()),
                                   std::move(body).value()});
  }
  return events;
}

}  // namespace detail

std::string_view to_string(transfer_status s) noexcept {
  switch (s) {
    case transfer_status::pending:
      return "pending";
    case transfer_status::completed:
      return "completed";
    case transfer_status::reversed:
      return "reversed";
    case transfer_status::pending_review:
      return "pending_review";
    case transfer_status::review_rejected:
      return "review_rejected";
    case transfer_status::review_expired:
      return "review_expired";
  }
  return "unknown";
}

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

engine::result<std::vector<engine::wallet_state>, error> list_wallets(pqxx::connection_base& conn,
                                                                      const std::string& owner,
                                                                      const std::string& after_id,
                                                                      std::size_t limit) {
  const std::string doing = "list_wallets of an owner";  // owner ids stay out of messages
  try {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    const pqxx::result rows =
        tx.exec_params(owner_page_sql, owner, after_id, detail::to_bigint(limit));
    std::vector<engine::wallet_state> page;
    page.reserve(rows.size());
    detail::array_literal ids;
    for (const auto& row : rows) {
      auto state = to_state(row[7].as<std::string>(), row);
      if (!state) return state.error();
      ids.add_text(state.value().id);
      page.push_back(std::move(state).value());
    }
    if (!page.empty()) {
      for (const auto& h : tx.exec_params(page_holds_sql, std::move(ids).finish())) {
        const auto id = h[0].as<std::string>();
        const auto it = std::find_if(page.begin(), page.end(),
                                     [&](const engine::wallet_state& w) { return w.id == id; });
        if (it == page.end()) continue;
        it->holds.emplace(
            h[1].as<std::string>(),
            engine::hold{h[2].as<std::int64_t>(), detail::from_epoch_us(h[3].as<std::int64_t>())});
      }
    }
    tx.commit();
    return page;
  } catch (...) {
    return failed(doing);
  }
}

namespace {

// The transfer's newest review that did not approve it, read in the caller's snapshot.
engine::result<std::optional<transfer_record>, error> find_transfer_review(
    pqxx::read_transaction& tx, const std::string& source, const std::string& transfer_id) {
  using out = std::optional<transfer_record>;
  const pqxx::result rows = tx.exec_params(transfer_review_sql, source, transfer_id);
  if (rows.empty()) return out{};
  const pqxx::row row = rows[0];
  const auto ccy = engine::currency::from_code(row[1].as<std::string>());
  const auto status = review_transfer_status(row[3].as<std::string>());
  if (!ccy || !status) {
    return rejected("find_transfer " + source + "/" + transfer_id +
                    ": review with unknown currency or status (" + row[1].as<std::string>() + ", " +
                    row[3].as<std::string>() + ")");
  }
  return out{transfer_record{
      source, transfer_id, row[0].as<std::string>(), engine::money{row[2].as<std::int64_t>(), *ccy},
      *status, detail::from_epoch_us(row[5].as<std::int64_t>()),
      detail::from_epoch_us(row[6].as<std::int64_t>()), row[4].as<std::string>()}};
}

}  // namespace

engine::result<std::optional<transfer_record>, error> find_transfer(
    pqxx::connection_base& conn, const std::string& source, const std::string& transfer_id) {
  using out = std::optional<transfer_record>;
  const std::string doing = "find_transfer " + source + "/" + transfer_id;
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result rows = tx.exec_params(transfer_sql, source, transfer_id);
    if (rows.empty()) return find_transfer_review(tx, source, transfer_id);
    const pqxx::row row = rows[0];
    const auto ccy = engine::currency::from_code(row[1].as<std::string>());
    const auto status = transfer_status_from(row[3].as<std::string>());
    if (!ccy || !status) {
      return rejected(doing + ": unknown currency or status (" + row[1].as<std::string>() + ", " +
                      row[3].as<std::string>() + ")");
    }
    return out{transfer_record{source, transfer_id, row[0].as<std::string>(),
                               engine::money{row[2].as<std::int64_t>(), *ccy}, *status,
                               detail::from_epoch_us(row[4].as<std::int64_t>()),
                               detail::from_epoch_us(row[5].as<std::int64_t>())}};
  } catch (...) {
    return failed(doing);
  }
}

engine::result<std::vector<engine::event>, error> hold_events(pqxx::connection_base& conn,
                                                              const std::string& wallet_id,
                                                              const std::string& hold_id) {
  const std::string doing = "hold_events " + wallet_id + "/" + hold_id;
  try {
    pqxx::read_transaction tx(conn);
    auto events =
        detail::events_from_rows(doing, tx.exec_params(hold_events_sql, wallet_id, hold_id));
    if (!events) return events;
    std::vector<engine::event> all = std::move(events).value();
    // Only the latest placement: an ended hold's id may be placed again.
    const auto last = std::find_if(all.rbegin(), all.rend(), [](const engine::event& e) {
      return std::holds_alternative<engine::hold_placed>(e.body);
    });
    if (last == all.rend()) return std::vector<engine::event>{};
    return std::vector<engine::event>(std::prev(last.base()), all.end());
  } catch (...) {
    return failed(doing);
  }
}

engine::result<int, error> schema_version(pqxx::connection_base& conn) {
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::row row = tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return row[0].as<int>();
  } catch (...) {
    return failed("schema_version");
  }
}

}  // namespace wallet::postgres
