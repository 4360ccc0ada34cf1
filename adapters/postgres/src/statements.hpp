// The statements pg_store prepares on every connection. Batches pass one array literal per column
// and unpack them with unnest(): one round trip per table, whatever the batch size. Internal.
#pragma once

#include <array>

#include "sql_text.hpp"

namespace wallet::postgres::detail {

struct statement {
  const char* name;
  const char* sql;
};

namespace stmt {

// ---- commit ---------------------------------------------------------------------------------
inline constexpr statement wallets_absent{"wallet_absent",
                                          "SELECT id FROM wallets WHERE id = ANY($1::text[])"};

// outgoing_day travels as days since 1970-01-01 (engine::wallet_state's sys_days) and is stored as
// a date.
inline constexpr statement wallets_create{
    "wallet_create",
    "INSERT INTO wallets (id, shard, owner, currency, balance, held, status, version,"
    " overdraft_limit, created_at, updated_at, kyc_level, outgoing_day, outgoing_today)"
    " SELECT u.id, $1, u.owner, u.currency, u.balance, u.held, u.status, u.version,"
    " u.overdraft_limit, u.created_at, u.updated_at, u.kyc_level,"
    " DATE '1970-01-01' + u.outgoing_day, u.outgoing_today"
    " FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::smallint[],"
    " $8::bigint[], $9::bigint[], $10::timestamptz[], $11::timestamptz[], $12::smallint[],"
    " $13::integer[], $14::bigint[])"
    " AS u(id, owner, currency, balance, held, status, version, overdraft_limit, created_at,"
    " updated_at, kyc_level, outgoing_day, outgoing_today)"
    " ON CONFLICT (id) DO NOTHING RETURNING id"};

// The fence: a row whose version is not the expected one is not updated (nor returned).
inline constexpr statement wallets_update{
    "wallet_update",
    "UPDATE wallets AS w SET balance = u.balance, held = u.held, status = u.status,"
    " version = u.version, updated_at = COALESCE(u.updated_at, w.updated_at),"
    " kyc_level = u.kyc_level, outgoing_day = DATE '1970-01-01' + u.outgoing_day,"
    " outgoing_today = u.outgoing_today"
    " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::smallint[],"
    " $6::bigint[], $7::timestamptz[], $8::smallint[], $9::integer[], $10::bigint[])"
    " AS u(id, expected, balance, held, status, version, updated_at, kyc_level, outgoing_day,"
    " outgoing_today)"
    " WHERE w.id = u.id AND w.version = u.expected RETURNING w.id"};

// The events and, in the same statement (no extra round trip), the batch's outbox row listing them
// in batch order from the same id and seq arrays. The outbox row is written only when events were,
// and fails or rolls back with them (docs/database.md, "Outbox").
inline constexpr statement events_insert{
    "event_insert",
    "WITH e AS ("
    " INSERT INTO wallet_events (wallet_id, seq, at, shard, type, delta, held_delta, data,"
    " idempotency_key, command_id, trace_parent)"
    " SELECT u.wallet_id, u.seq, u.at, $1, u.type, u.delta, u.held_delta, u.data,"
    " u.idempotency_key, u.command_id, u.trace_parent"
    " FROM unnest($2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::bigint[],"
    " $7::bigint[], $8::jsonb[], $9::text[], $10::text[], $11::text[])"
    " AS u(wallet_id, seq, at, type, delta, held_delta, data, idempotency_key, command_id,"
    " trace_parent)"
    " RETURNING 1)"
    " INSERT INTO event_outbox (shard, wallets, seqs)"
    " SELECT $1, $2::text[], $3::bigint[] WHERE EXISTS (SELECT 1 FROM e)"};

// Wakes the outbox publisher (outbox.hpp, outbox_channel): $1 the channel, $2 the shard. Sent right
// after a commit that appended events, in a statement of its own: a NOTIFY inside the commit makes
// PostgreSQL take a database-wide lock that it holds until the commit is flushed to disk, so the
// commits of all shards would wait for each other's fsync (docs/adr/0005-outbox-wake-up.md).
inline constexpr statement outbox_notify{"outbox_notify", "SELECT pg_notify($1, $2)"};

inline constexpr statement holds_close{
    "hold_close",
    "DELETE FROM wallet_holds AS h USING unnest($1::text[], $2::text[]) AS u(wallet_id, hold_id)"
    " WHERE h.wallet_id = u.wallet_id AND h.hold_id = u.hold_id"
    " RETURNING h.wallet_id || '/' || h.hold_id"};

inline constexpr statement holds_open{
    "hold_open",
    "INSERT INTO wallet_holds (wallet_id, hold_id, amount, expires_at, shard)"
    " SELECT u.wallet_id, u.hold_id, u.amount, u.expires_at, $1"
    " FROM unnest($2::text[], $3::text[], $4::bigint[], $5::timestamptz[])"
    " AS u(wallet_id, hold_id, amount, expires_at)"};

// A key found again is one older than the wallet's window (not yet purged): the new answer wins.
// wallet_insert_records (migration 0009) inserts plainly and upserts only after a conflict.
inline constexpr statement records_insert{
    "record_insert",
    "SELECT wallet_insert_records($1, $2::text[], $3::text[], $4::bigint[], $5::smallint[],"
    " $6::bigint[], $7::bigint[], $8::bigint[], $9::timestamptz[])"};

// Pending transfers; returns 'source/id' of each id its source already used (migration 0009).
inline constexpr statement transfers_debit{
    "transfer_debit",
    "SELECT used FROM wallet_insert_debits($1, $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::bigint[], $7::timestamptz[]) AS used"};

// Only a pending transfer with the same parties, currency and amount completes: anything else
// would create money.
inline constexpr statement transfers_credit{
    "transfer_credit",
    "UPDATE transfers AS t SET status = 'completed', updated_at = u.at"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],"
    " $6::timestamptz[]) AS u(id, destination, source, currency, amount, at)"
    " WHERE t.source = u.source AND t.id = u.id AND t.status = 'pending'"
    " AND t.destination = u.destination AND t.currency = u.currency AND t.amount = u.amount"
    " RETURNING t.source || '/' || t.id"};

inline constexpr statement transfers_reverse{
    "transfer_reverse",
    "UPDATE transfers AS t SET status = 'reversed', updated_at = u.at"
    " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[])"
    " AS u(id, source, amount, at)"
    " WHERE t.source = u.source AND t.id = u.id AND t.status = 'pending' AND t.amount = u.amount"
    " RETURNING t.source || '/' || t.id"};

// Audit records of administrative commands, committed with their effect (migration 0007). `at`
// takes its default, now(): the database's clock.
inline constexpr statement audit_insert{
    "audit_insert",
    "INSERT INTO audit_log (principal, action, target, reason, trace_id, details)"
    " SELECT u.principal, u.action, u.target, u.reason, u.trace_id, u.details"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])"
    " WITH ORDINALITY AS u(principal, action, target, reason, trace_id, details, n)"
    " ORDER BY u.n"};

// AML reviews (migrations 0008, 0010), kept in step with their review holds' events. A review id
// already used (two commands whose 64-bit digests collide) refuses the write rather than mixing
// two reviews.
inline constexpr statement reviews_open{
    "review_open",
    "INSERT INTO aml_reviews (review_id, wallet_id, hold_id, command, idempotency_key, amount,"
    " currency, reasons, opened_at, expires_at, transfer_id, destination)"
    " SELECT u.review_id, u.wallet_id, u.hold_id, u.command, u.key, u.amount, u.currency,"
    " u.reasons, u.opened_at, u.expires_at, u.transfer_id, u.destination"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],"
    " $7::text[], $8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[], $12::text[])"
    " AS u(review_id, wallet_id, hold_id, key, amount, currency, reasons, opened_at, expires_at,"
    " command, transfer_id, destination)"
    " ON CONFLICT (review_id) DO NOTHING RETURNING review_id"};

inline constexpr statement reviews_close{
    "review_close",
    "UPDATE aml_reviews AS r SET status = u.status, decided_at = u.at, decided_by = u.principal,"
    " decision_reason = u.reason"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])"
    " AS u(wallet_id, hold_id, status, at, principal, reason)"
    " WHERE r.wallet_id = u.wallet_id AND r.hold_id = u.hold_id AND r.status = 'pending'"
    " RETURNING r.review_id"};

// ---- reads ----------------------------------------------------------------------------------
inline constexpr statement wallet_load{
    "wallet_load",
    "SELECT shard, owner, currency::text, balance, held, status, version, overdraft_limit,"
    " kyc_level, outgoing_day - DATE '1970-01-01', outgoing_today"
    " FROM wallets WHERE id = $1"};

inline constexpr statement holds_load{"holds_load",
                                      "SELECT hold_id, amount, " WALLET_PG_EPOCH_US(
                                          "expires_at") " FROM wallet_holds WHERE wallet_id = $1"};

// The newest $3 keys after $2, returned oldest first.
inline constexpr statement keys_load{
    "keys_load",
    "SELECT key, fingerprint, rejection, seq, balance, held, us FROM ("
    " SELECT key, fingerprint, rejection, seq, balance, held, recorded_at,"
    " " WALLET_PG_EPOCH_US("recorded_at") " AS us"
    " FROM idempotency_records WHERE wallet_id = $1 AND recorded_at > $2::timestamptz"
    " ORDER BY recorded_at DESC, seq DESC, key DESC LIMIT $3) AS newest"
    " ORDER BY recorded_at, seq, key"};

#define WALLET_PG_TRANSFER_COLUMNS \
  "id, source, destination, currency::text, amount, status, " WALLET_PG_EPOCH_US("created_at")

inline constexpr statement transfers_pending{
    "transfers_pending",
    "SELECT " WALLET_PG_TRANSFER_COLUMNS
    " FROM transfers WHERE source_shard = $1 AND status = 'pending'"
    " AND created_at < $2::timestamptz ORDER BY created_at, source, id LIMIT $3"};

inline constexpr statement transfer_find{"transfer_find",
                                         "SELECT " WALLET_PG_TRANSFER_COLUMNS
                                         " FROM transfers WHERE source = $1 AND id = $2"};

#undef WALLET_PG_TRANSFER_COLUMNS

// The outgoing moves the AML velocity window counts (ADR 0007): exactly the events that take money
// out of the balance (withdrawn, transfer_debited, the captured part of hold_captured), newest
// first; `-delta` is the amount that left.
inline constexpr statement outgoing_load{
    "outgoing_load",
    "SELECT " WALLET_PG_EPOCH_US("at") ", -delta FROM wallet_events"
    " WHERE wallet_id = $1 AND at >= $2::timestamptz AND delta < 0"
    " AND type IN ('withdrawn', 'transfer_debited', 'hold_captured')"
    " ORDER BY seq DESC LIMIT $3"};

inline constexpr statement holds_due{
    "holds_due",
    "SELECT wallet_id, hold_id, " WALLET_PG_EPOCH_US("expires_at")
    " FROM wallet_holds WHERE shard = $1 AND expires_at <= $2::timestamptz"
    " ORDER BY expires_at, wallet_id, hold_id LIMIT $3"};

inline constexpr std::array all = {
    wallets_absent, wallets_create, wallets_update,  events_insert,     holds_close,
    holds_open,     records_insert, transfers_debit, transfers_credit,  transfers_reverse,
    wallet_load,    holds_load,     keys_load,       transfers_pending, transfer_find,
    holds_due,      outbox_notify,  audit_insert,    reviews_open,      reviews_close,
    outgoing_load};

}  // namespace stmt
}  // namespace wallet::postgres::detail
