// The statements pg_store prepares on every connection. A commit passes one array literal per
// column to one function call: one round trip whatever the batch size. Internal.
#pragma once

#include <array>
#include <cstddef>

#include "sql_text.hpp"

namespace wallet::postgres::detail {

struct statement {
  const char* name;
  const char* sql;
};

namespace stmt {

// ---- commit ---------------------------------------------------------------------------------
// A store batch's whole commit: wallet_commit (migration 0011) writes every part of the commit
// plan in one call, run in autocommit, so the batch costs one round trip (no BEGIN, no COMMIT).
// $1 is the shard; then one array literal per column, part after part in commit_plan's order.
// The parameters take their types from the function (it has no overloads).
inline constexpr std::size_t commit_parameters = 89;
// The call's arguments, part after part: absent (1), created (13), updated (10), events (10),
// holds closed (2), holds opened (4), records (8), debits (6), audits (6), reviews opened (12),
// reviews closed (6), credits (6), reversals (4).
#define WALLET_PG_COMMIT_CALL                                                                  \
  "wallet_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"  \
  " $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35," \
  " $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53," \
  " $54, $55, $56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66, $67, $68, $69, $70, $71," \
  " $72, $73, $74, $75, $76, $77, $78, $79, $80, $81, $82, $83, $84, $85, $86, $87, $88, $89)"
inline constexpr statement commit{"wallet_commit", "SELECT " WALLET_PG_COMMIT_CALL};

// The same call for a batch that appends events, answering the position of its outbox row, which
// the store hands to the publisher of its process with the events (ADR 0015). currval is the value
// this session last drew from the outbox's identity sequence: the function inserts exactly one
// outbox row when it has events (or raises), and no other session's draw changes it. The
// materialized CTE runs the call before currval is read.
inline constexpr statement commit_outbox{
    "wallet_commit_outbox",
    "WITH c AS MATERIALIZED (SELECT " WALLET_PG_COMMIT_CALL
    " AS done)"
    " SELECT currval(pg_get_serial_sequence('event_outbox', 'position')) FROM c"};
#undef WALLET_PG_COMMIT_CALL

// Wakes the outbox publisher (outbox.hpp, outbox_channel): $1 the channel, $2 the shard. Sent right
// after a commit that appended events, in a statement of its own: a NOTIFY inside the commit makes
// PostgreSQL take a database-wide lock that it holds until the commit is flushed to disk, so the
// commits of all shards would wait for each other's fsync (docs/adr/0005-outbox-wake-up.md).
inline constexpr statement outbox_notify{"outbox_notify", "SELECT pg_notify($1, $2)"};

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

// One key's record after $3 (ADR 0017: a key the wallet's evicted-key filter may hold).
inline constexpr statement key_find{
    "key_find",
    "SELECT key, fingerprint, rejection, seq, balance, held, " WALLET_PG_EPOCH_US("recorded_at")
    " FROM idempotency_records WHERE wallet_id = $1 AND key = $2 AND recorded_at > $3::timestamptz"};

// The keys older than the resident ones (ADR 0017), oldest first, for the evicted-key filter:
// those after $2 and before ($3, $4, $5) in (recorded_at, seq, key) order, the oldest resident
// record's place in keys_load's order. Read through a cursor: a hot wallet may have millions.
#define WALLET_PG_KEYS_OLDER_QUERY \
  "SELECT key, " WALLET_PG_EPOCH_US("recorded_at") " FROM idempotency_records"          \
  " WHERE wallet_id = $1 AND recorded_at > $2::timestamptz"                              \
  " AND (recorded_at, seq, key) < ($3::timestamptz, $4::bigint, $5::text)"              \
  " ORDER BY recorded_at, seq, key"

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

inline constexpr std::array all = {commit,        commit_outbox, outbox_notify, wallet_load,
                                   holds_load,    keys_load,     key_find,      transfers_pending,
                                   transfer_find, holds_due,     outgoing_load};

}  // namespace stmt
}  // namespace wallet::postgres::detail
