// Reconciliation as set-based statements in one REPEATABLE READ snapshot: one pass over the
// events, joined to the wallets and holds, folds every wallet and sums money per currency; one
// pass over the transfer events, joined to the transfer records, checks the sagas. Each returns a
// single row (counts, the currency totals, the keys of the first mismatching wallets or transfers):
// no per-wallet row crosses the wire or is kept by the server unless it is wrong. Only when
// something is wrong does a second statement spell out the failed checks of those keys.
#include "wallet/postgres/reconcile.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <limits>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "failure.hpp"
#include "sql_text.hpp"

namespace wallet::postgres {
namespace {

// ---- wallets ------------------------------------------------------------------------------------

// Folds every wallet's events in one GROUP BY, joins the result to the wallets rows and the open
// holds, and flags each check. `events`, `holds` and `wallets` restrict the three tables (aliases
// e, h, w). The events are aggregated alone, not in a union with the other two, so that the
// planner's estimate of the number of wallets (from wallet_events' statistics) sizes the hash
// tables. The status fold takes the last status event: seq * 4 + status orders by seq and keeps
// the status in the remainder (1 active, 2 frozen, 3 closed). The KYC level folds the same way
// from the last kyc_level_set (0 none before any). The daily outgoing total is not checked here.
// A transfer debit with a hold_id (an AML review's approved transfer, ADR 0009) ends its hold.
std::string wallet_checks(std::string_view events, std::string_view holds,
                          std::string_view wallets) {
  std::string sql = R"sql(
WITH folded AS (
  SELECT e.wallet_id AS id,
         count(*) AS events,
         max(e.seq) AS last_seq,
         sum(e.delta) AS balance,
         sum(e.held_delta) AS held,
         count(*) FILTER (WHERE e.type = 'hold_placed')
           - count(*) FILTER (WHERE e.type IN ('hold_captured', 'hold_released', 'hold_expired'))
           - count(*) FILTER (WHERE e.type = 'transfer_debited' AND e.data ? 'hold_id')
           AS open_holds,
         max(e.seq * 4 + CASE e.type WHEN 'wallet_opened' THEN 1 WHEN 'wallet_unfrozen' THEN 1
                                     WHEN 'wallet_frozen' THEN 2 WHEN 'wallet_closed' THEN 3 END)
           % 4 AS status,
         coalesce(max(e.seq * 4 + CASE e.data ->> 'level' WHEN 'none' THEN 0 WHEN 'basic' THEN 1
                                                          WHEN 'full' THEN 2 END)
                    FILTER (WHERE e.type = 'kyc_level_set') % 4, 0) AS kyc_level,
         count(*) FILTER (WHERE e.type = 'wallet_opened') AS opened,
         min(e.type) FILTER (WHERE e.seq = 1) AS first_type,
         min(e.data ->> 'currency') FILTER (WHERE e.type = 'wallet_opened') AS currency,
         min(e.shard) AS shard_min,
         max(e.shard) AS shard_max,
         coalesce(sum(e.delta) FILTER (WHERE e.type = 'deposited'), 0) AS deposits,
         coalesce(-sum(e.delta) FILTER (WHERE e.type = 'withdrawn'), 0) AS withdrawals,
         coalesce(-sum(e.delta) FILTER (WHERE e.type = 'hold_captured'), 0) AS captured,
         coalesce(-sum(e.delta) FILTER (WHERE e.type = 'transfer_debited'), 0) AS debited,
         coalesce(sum(e.delta) FILTER (WHERE e.type = 'transfer_credited'), 0) AS credited,
         coalesce(sum(e.delta) FILTER (WHERE e.type = 'transfer_reversed'), 0) AS reversed
  FROM wallet_events e WHERE )sql";
  sql.append(events).append(R"sql(
  GROUP BY e.wallet_id
), held AS (
  SELECT h.wallet_id AS id, sum(h.amount) AS amount, count(*) AS n
  FROM wallet_holds h WHERE )sql");
  sql.append(holds).append(R"sql(
  GROUP BY h.wallet_id
), joined AS (
  SELECT coalesce(w.id, f.id) AS id, w.id IS NOT NULL AS has_row, f.id IS NOT NULL AS has_events,
         w.currency::text AS currency, w.balance, w.held, w.status, w.version, w.shard,
         coalesce(h.amount, 0) AS holds_amount, coalesce(h.n, 0) AS holds_n,
         f.currency AS opened_currency, f.events, f.last_seq, f.balance AS folded_balance,
         f.held AS folded_held, f.open_holds, f.status AS folded_status, f.opened, f.first_type,
         f.shard_min, f.shard_max, f.deposits, f.withdrawals, f.captured, f.debited, f.credited,
         f.reversed, w.kyc_level, f.kyc_level AS folded_kyc_level
  FROM (SELECT * FROM wallets w WHERE )sql");
  sql.append(wallets).append(R"sql() AS w
  FULL JOIN folded f ON f.id = w.id
  LEFT JOIN held h ON h.id = w.id
), checked AS (
  SELECT j.*,
         NOT j.has_row AS b_row,
         NOT j.has_events AS b_events,
         j.has_row AND j.has_events AND j.balance <> j.folded_balance AS b_balance,
         j.has_row AND j.has_events AND j.held <> j.folded_held AS b_held,
         j.has_row AND j.has_events AND j.version <> j.last_seq AS b_version,
         j.has_events AND j.events <> j.last_seq AS b_sequence,
         j.has_row AND j.has_events AND j.status IS DISTINCT FROM j.folded_status AS b_status,
         j.has_row AND j.has_events AND j.holds_amount <> j.folded_held AS b_holds,
         j.has_row AND j.has_events AND j.holds_n <> j.open_holds AS b_hold_count,
         j.has_events AND (j.opened <> 1 OR j.first_type IS DISTINCT FROM 'wallet_opened')
           AS b_opened,
         j.has_row AND j.has_events AND j.currency IS DISTINCT FROM j.opened_currency
           AS b_currency,
         j.has_row AND j.has_events AND (j.shard_min <> j.shard OR j.shard_max <> j.shard)
           AS b_shard,
         j.has_row AND j.has_events AND j.kyc_level IS DISTINCT FROM j.folded_kyc_level
           AS b_kyc_level
  FROM joined j
), counted AS (
  SELECT c.*,
         c.b_row::int + c.b_events::int + c.b_balance::int + c.b_held::int + c.b_version::int
           + c.b_sequence::int + c.b_status::int + c.b_holds::int + c.b_hold_count::int
           + c.b_opened::int + c.b_currency::int + c.b_shard::int + c.b_kyc_level::int AS n
  FROM checked c
))sql");
  return sql;
}

// $1: every shard (boolean); $2: the shards otherwise (integer[]); $3: how many mismatching
// wallets to name. One pass: the per-wallet checks roll up into one row per (stored currency,
// opened currency) pair, which holds the counts, the sums and the ids of the mismatching wallets
// (all of them: array_agg cannot stop at $3, but they are few unless everything is wrong); the
// currency totals add the pending transfers.
const std::string& wallets_scan_sql() {
  static const std::string sql =
      wallet_checks("$1 OR e.shard = ANY($2::integer[])", "$1 OR h.shard = ANY($2::integer[])",
                    "$1 OR w.shard = ANY($2::integer[])") +
      R"sql(, pairs AS MATERIALIZED (
  SELECT currency, coalesce(opened_currency, currency) AS event_currency,
         count(*) AS wallets, sum(events) AS events, count(*) FILTER (WHERE n > 0) AS mismatched,
         sum(n) AS mismatches, sum(balance) AS balances, sum(deposits) AS deposits,
         sum(withdrawals) AS withdrawals, sum(captured) AS captured, sum(debited) AS debited,
         sum(credited) AS credited, sum(reversed) AS reversed,
         array_agg(id) FILTER (WHERE n > 0) AS mismatching
  FROM counted GROUP BY 1, 2
), flows (currency, balances, in_flight, deposits, withdrawals, captured, debited, credited,
          reversed) AS (
  SELECT currency, balances, 0::numeric, 0::numeric, 0::numeric, 0::numeric, 0::numeric,
         0::numeric, 0::numeric
  FROM pairs WHERE $1 AND currency IS NOT NULL AND balances IS NOT NULL
  UNION ALL
  SELECT event_currency, 0, 0, deposits, withdrawals, captured, debited, credited, reversed
  FROM pairs WHERE $1 AND event_currency IS NOT NULL AND deposits IS NOT NULL
  UNION ALL
  SELECT currency::text, 0, sum(amount), 0, 0, 0, 0, 0, 0
  FROM transfers WHERE $1 AND status = 'pending' GROUP BY currency
), totals AS (
  SELECT currency, sum(balances) AS balances, sum(in_flight) AS in_flight,
         sum(deposits) AS deposits, sum(withdrawals) AS withdrawals, sum(captured) AS captured,
         sum(debited) AS debited, sum(credited) AS credited, sum(reversed) AS reversed
  FROM flows GROUP BY currency
)
SELECT coalesce(sum(p.wallets), 0), coalesce(sum(p.events), 0), coalesce(sum(p.mismatched), 0),
       coalesce(sum(p.mismatches), 0),
       (SELECT json_agg(id ORDER BY id)
        FROM (SELECT unnest(mismatching) AS id FROM pairs ORDER BY 1 LIMIT $3) AS l)::text,
       (SELECT json_agg(json_build_array(currency, balances, in_flight, deposits, withdrawals,
                                         captured, debited, credited, reversed,
                                         balances + in_flight - (deposits - withdrawals - captured),
                                         debited - credited - reversed - in_flight)
                        ORDER BY currency)
        FROM totals)::text
FROM pairs p
)sql";
  return sql;
}

// $1: the wallet ids (text[]) the scan found mismatching. The same checks on their rows only
// (index lookups), each failed check as one [id, what, stored, folded, detail].
const std::string& wallets_detail_sql() {
  static const std::string sql =
      wallet_checks("e.wallet_id = ANY($1::text[])", "h.wallet_id = ANY($1::text[])",
                    "w.id = ANY($1::text[])") +
      R"sql(, listed AS (
  SELECT c.id, v.ord, v.what, v.stored, v.folded, v.detail
  FROM counted c
  CROSS JOIN LATERAL (VALUES
    (1, 'row', 0::numeric, c.last_seq::numeric, NULL::text, c.b_row),
    (2, 'events', c.version, 0, NULL, c.b_events),
    (3, 'balance', c.balance, c.folded_balance, NULL, c.b_balance),
    (4, 'held', c.held, c.folded_held, NULL, c.b_held),
    (5, 'version', c.version, c.last_seq, NULL, c.b_version),
    (6, 'sequence', c.events, c.last_seq, NULL, c.b_sequence),
    (7, 'status', c.status, coalesce(c.folded_status, 0), NULL, c.b_status),
    (8, 'holds', c.holds_amount, c.folded_held, NULL, c.b_holds),
    (9, 'hold_count', c.holds_n, c.open_holds, NULL, c.b_hold_count),
    (10, 'opened', c.opened, 1, 'the first event is ' || coalesce(c.first_type, 'missing'),
     c.b_opened),
    (11, 'currency', 0, 0, 'stored ' || coalesce(c.currency, 'none') || ', opened with '
     || coalesce(c.opened_currency, 'none'), c.b_currency),
    (12, 'shard', c.shard,
     CASE WHEN c.shard_min <> c.shard THEN c.shard_min ELSE c.shard_max END,
     'events on shards ' || c.shard_min || '..' || c.shard_max, c.b_shard),
    (13, 'kyc_level', c.kyc_level, c.folded_kyc_level, NULL, c.b_kyc_level)
  ) AS v(ord, what, stored, folded, detail, bad)
  WHERE v.bad
)
SELECT json_agg(json_build_array(id, what, stored, folded, detail) ORDER BY id, ord)::text
FROM listed
)sql";
  return sql;
}

// ---- transfers ----------------------------------------------------------------------------------

// Every transfer: the transfer events grouped by (source, id), fully joined to the transfer
// records. Events name their transfer in data: transfer_debited and transfer_reversed sit on the
// source wallet, transfer_credited on the destination with the source in data. A transfer belongs
// to its source's shard (its events' shard when it has no record). $1: every shard; $2: the
// shards otherwise.
constexpr const char* transfer_checks = R"sql(
WITH moved AS (
  SELECT CASE WHEN e.type = 'transfer_credited' THEN e.data ->> 'source' ELSE e.wallet_id END
           AS source,
         e.data ->> 'transfer_id' AS id,
         count(*) FILTER (WHERE e.type = 'transfer_debited') AS debits,
         coalesce(-sum(e.delta) FILTER (WHERE e.type = 'transfer_debited'), 0) AS debited,
         min(e.data ->> 'destination') FILTER (WHERE e.type = 'transfer_debited')
           AS debit_destination,
         count(*) FILTER (WHERE e.type = 'transfer_credited') AS credits,
         coalesce(sum(e.delta) FILTER (WHERE e.type = 'transfer_credited'), 0) AS credited,
         min(e.wallet_id) FILTER (WHERE e.type = 'transfer_credited') AS credited_wallet,
         count(*) FILTER (WHERE e.type = 'transfer_reversed') AS reversals,
         coalesce(sum(e.delta) FILTER (WHERE e.type = 'transfer_reversed'), 0) AS reversed,
         coalesce(min(e.shard) FILTER (WHERE e.type <> 'transfer_credited'), min(e.shard))
           AS shard
  FROM wallet_events e
  WHERE e.type IN ('transfer_debited', 'transfer_credited', 'transfer_reversed')
  GROUP BY 1, 2
), joined AS (
  SELECT coalesce(t.source, m.source) AS source, coalesce(t.id, m.id) AS id, t.status,
         t.destination, t.amount, coalesce(t.source_shard, m.shard) AS shard,
         t.source IS NOT NULL AS has_record,
         coalesce(m.debits, 0) AS debits, coalesce(m.debited, 0) AS debited, m.debit_destination,
         coalesce(m.credits, 0) AS credits, coalesce(m.credited, 0) AS credited, m.credited_wallet,
         coalesce(m.reversals, 0) AS reversals, coalesce(m.reversed, 0) AS reversed
  FROM transfers t FULL JOIN moved m ON m.source = t.source AND m.id = t.id
), checked AS (
  SELECT j.*,
         NOT j.has_record AS b_record,
         j.has_record AND j.debits <> 1 AS b_debits,
         j.has_record AND j.debits = 1 AND j.debited <> j.amount AS b_debited,
         j.has_record AND j.credits <> (j.status = 'completed')::int AS b_credits,
         j.has_record AND j.status = 'completed' AND j.credits = 1 AND j.credited <> j.amount
           AS b_credited,
         j.has_record AND j.reversals <> (j.status = 'reversed')::int AS b_reversals,
         j.has_record AND j.status = 'reversed' AND j.reversals = 1 AND j.reversed <> j.amount
           AS b_reversed,
         j.has_record
           AND (j.debits > 0 AND j.debit_destination IS DISTINCT FROM j.destination
                OR j.credits > 0 AND j.credited_wallet IS DISTINCT FROM j.destination) AS b_party
  FROM joined j
  WHERE $1 OR j.shard = ANY($2::integer[])
), counted AS (
  SELECT c.*,
         c.b_record::int + c.b_debits::int + c.b_debited::int + c.b_credits::int
           + c.b_credited::int + c.b_reversals::int + c.b_reversed::int + c.b_party::int AS n
  FROM checked c
))sql";

// $3: how many mismatching transfers to name.
const std::string& transfers_scan_sql() {
  static const std::string sql = std::string(transfer_checks) + R"sql(, summary AS MATERIALIZED (
  SELECT count(*) AS transfers, coalesce(sum(n), 0) AS mismatches,
         array_agg(source) FILTER (WHERE n > 0) AS sources,
         array_agg(id) FILTER (WHERE n > 0) AS ids
  FROM counted
)
SELECT s.transfers, s.mismatches,
       (SELECT json_agg(json_build_array(source, id) ORDER BY source, id)
        FROM (SELECT source, id FROM summary, unnest(summary.sources, summary.ids)
                AS u(source, id)
              ORDER BY source, id LIMIT $3) AS l)::text
FROM summary s
)sql";
  return sql;
}

// $3, $4: the sources and ids (text[]) the scan found mismatching; every failed check of theirs
// as one [source, id, status, what, expected, found, detail]. Runs only when there are some: it
// reads the transfer events again.
const std::string& transfers_detail_sql() {
  static const std::string sql = std::string(transfer_checks) + R"sql(, listed AS (
  SELECT c.source, c.id, c.status, v.ord, v.what, v.expected, v.found, v.detail
  FROM counted c
  CROSS JOIN LATERAL (VALUES
    (1, 'record', 1::numeric, 0::numeric,
     'events: ' || c.debits || ' debits, ' || c.credits || ' credits, ' || c.reversals
     || ' reversals', c.b_record),
    (2, 'debits', 1, c.debits, NULL, c.b_debits),
    (3, 'debited', c.amount, c.debited, NULL, c.b_debited),
    (4, 'credits', (c.status = 'completed')::int, c.credits, NULL, c.b_credits),
    (5, 'credited', c.amount, c.credited, NULL, c.b_credited),
    (6, 'reversals', (c.status = 'reversed')::int, c.reversals, NULL, c.b_reversals),
    (7, 'reversed', c.amount, c.reversed, NULL, c.b_reversed),
    (8, 'party', 0, 0,
     'destination ' || c.destination || ', debit names ' || coalesce(c.debit_destination, 'none')
     || ', credited ' || coalesce(c.credited_wallet, 'none'), c.b_party)
  ) AS v(ord, what, expected, found, detail, bad)
  WHERE v.bad AND (c.source, c.id) IN (SELECT * FROM unnest($3::text[], $4::text[]))
)
SELECT json_agg(json_build_array(source, id, status, what, expected, found, detail)
                ORDER BY source, id, ord)::text
FROM listed
)sql";
  return sql;
}

// ---- reading the JSON the statements build ---------------------------------------------------

const boost::json::array& as_array(const boost::json::value& v, std::string_view what) {
  if (!v.is_array()) {
    throw std::runtime_error(std::string(what) + " is not a JSON array");
  }
  return v.get_array();
}

// The JSON arrays a statement returned (a NULL column is no rows).
boost::json::array parse_rows(const pqxx::field& column, std::string_view what) {
  if (column.is_null()) {
    return {};
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(column.c_str(), ec);
  if (ec) {
    throw std::runtime_error(std::string(what) + ": not JSON: " + ec.message());
  }
  return as_array(v, what);
}

// A sum of bigints is numeric in SQL: one beyond 64 bits cannot be reported exactly.
std::int64_t integer(const boost::json::value& v) {
  if (v.is_int64()) {
    return v.get_int64();
  }
  if (v.is_null()) {
    return 0;
  }
  throw std::runtime_error("a reconciled amount does not fit in 64 bits: " +
                           std::string(v.is_number() ? "beyond +/-2^63" : "not a number"));
}

std::string text(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : std::string();
}

const boost::json::array& tuple(const boost::json::value& v, std::size_t size) {
  const auto& a = as_array(v, "a reconciliation row");
  if (a.size() != size) {
    throw std::runtime_error("a reconciliation row has " + std::to_string(a.size()) +
                             " fields, expected " + std::to_string(size));
  }
  return a;
}

std::size_t count(const pqxx::field& f) { return f.as<std::size_t>(); }

// ---- the two checks ----------------------------------------------------------------------------

// The shard filter as the statements' first two parameters.
struct shard_filter {
  bool all = true;
  std::string list = "{}";  // integer[] literal
};

shard_filter filter_of(const reconcile_options& options) {
  shard_filter f;
  f.all = options.shards.empty();
  detail::array_literal list;
  for (const std::uint32_t shard : options.shards) {
    list.add_int(shard);
  }
  f.list = std::move(list).finish();
  return f;
}

currency_totals to_totals(const boost::json::value& v) {
  const auto& a = tuple(v, 11);
  currency_totals t;
  t.currency = text(a[0]);
  t.balances = integer(a[1]);
  t.in_flight = integer(a[2]);
  t.deposits = integer(a[3]);
  t.withdrawals = integer(a[4]);
  t.captured = integer(a[5]);
  t.debited = integer(a[6]);
  t.credited = integer(a[7]);
  t.reversed = integer(a[8]);
  t.difference = integer(a[9]);
  t.transfer_difference = integer(a[10]);
  return t;
}

// A JSON array of ids (or of [source, id] pairs) as text[] literals, one per position.
std::vector<std::string> key_columns(const boost::json::array& keys, std::size_t width) {
  std::vector<detail::array_literal> columns(width);
  for (const auto& key : keys) {
    if (width == 1) {
      columns[0].add_text(text(key));
      continue;
    }
    const auto& a = tuple(key, width);
    for (std::size_t i = 0; i < width; ++i) columns[i].add_text(text(a[i]));
  }
  std::vector<std::string> out;
  out.reserve(width);
  for (auto& c : columns) out.push_back(std::move(c).finish());
  return out;
}

void check_wallets(pqxx::transaction_base& tx, const shard_filter& filter, std::int64_t listed,
                   std::size_t cap, reconcile_report& report) {
  const pqxx::row row = tx.exec_params1(wallets_scan_sql(), filter.all, filter.list, listed);
  report.wallets_checked = count(row[0]);
  report.events_checked = count(row[1]);
  report.wallets_mismatched = count(row[2]);
  report.wallet_mismatches_total = count(row[3]);
  report.currencies_checked = filter.all;
  for (const auto& v : parse_rows(row[5], "currency totals")) {
    report.currencies.push_back(to_totals(v));
  }
  const boost::json::array ids = parse_rows(row[4], "mismatching wallets");
  if (ids.empty()) {
    return;
  }
  const pqxx::row detail_row = tx.exec_params1(wallets_detail_sql(), key_columns(ids, 1).front());
  for (const auto& v : parse_rows(detail_row[0], "wallet mismatches")) {
    if (report.wallet_mismatches.size() == cap) {
      break;
    }
    const auto& a = tuple(v, 5);
    report.wallet_mismatches.push_back(
        wallet_mismatch{text(a[0]), text(a[1]), integer(a[2]), integer(a[3]), text(a[4])});
  }
}

void check_transfers(pqxx::transaction_base& tx, const shard_filter& filter, std::int64_t listed,
                     std::size_t cap, reconcile_report& report) {
  const pqxx::row row = tx.exec_params1(transfers_scan_sql(), filter.all, filter.list, listed);
  report.transfers_checked = count(row[0]);
  report.transfer_mismatches_total = count(row[1]);
  const boost::json::array keys = parse_rows(row[2], "mismatching transfers");
  if (keys.empty()) {
    return;
  }
  const auto columns = key_columns(keys, 2);
  const pqxx::row detail_row =
      tx.exec_params1(transfers_detail_sql(), filter.all, filter.list, columns[0], columns[1]);
  for (const auto& v : parse_rows(detail_row[0], "transfer mismatches")) {
    if (report.transfer_mismatches.size() == cap) {
      break;
    }
    const auto& a = tuple(v, 7);
    report.transfer_mismatches.push_back(transfer_mismatch{
        text(a[0]), text(a[1]), text(a[2]), text(a[3]), integer(a[4]), integer(a[5]), text(a[6])});
  }
}

}  // namespace

bool reconcile_report::clean() const {
  return wallet_mismatches_total == 0 && transfer_mismatches_total == 0 &&
         std::ranges::all_of(currencies, [](const currency_totals& c) { return c.balanced(); });
}

engine::result<reconcile_report, error> reconcile(pqxx::connection_base& conn,
                                                  const reconcile_options& options) {
  if (options.work_mem_mb < reconcile_work_mem_mb_min ||
      options.work_mem_mb > reconcile_work_mem_mb_max) {
    return error{errc::invalid_argument, "reconcile: work_mem_mb must be " +
                                             std::to_string(reconcile_work_mem_mb_min) + ".." +
                                             std::to_string(reconcile_work_mem_mb_max) + ", got " +
                                             std::to_string(options.work_mem_mb)};
  }
  const std::size_t cap = options.mismatches_reported_max;
  // Every listed wallet or transfer has at least one mismatch: listing `cap` of them is enough.
  const auto listed = static_cast<std::int64_t>(std::min<std::size_t>(
      cap, static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())));
  try {
    const shard_filter filter = filter_of(options);
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn, "reconcile");
    tx.exec("SET LOCAL work_mem = '" + std::to_string(options.work_mem_mb) + "MB'");
    // Compiling these large plans costs more than JIT saves (13 s of 90 s at a million wallets).
    tx.exec("SET LOCAL jit = off");
    reconcile_report report;
    check_wallets(tx, filter, listed, cap, report);
    check_transfers(tx, filter, listed, cap, report);
    tx.commit();
    return report;
  } catch (...) {
    auto f = detail::classify_current_exception("reconcile", {});
    return error{f.code, std::move(f.detail)};
  }
}

}  // namespace wallet::postgres
