// What one commit writes, worked out from a batch of wallet writes before any I/O: each table's
// rows as array parameters (one text literal per column, unpacked by unnest() inside wallet_commit,
// migration 0011, which checks the counts itself). Internal to the adapter.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sql_text.hpp"
#include "wallet/actors/store_port.hpp"

namespace wallet::postgres::detail {

// The rows of one part of the commit, column by column.
template <std::size_t Columns>
struct rows {
  // Every column holds one element per row. Refusals name their rows from the database's side
  // (wallet_commit), so no identifying text is kept here.
  std::array<array_literal, Columns> columns;

  [[nodiscard]] std::size_t size() const noexcept { return columns[0].size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  // The finished literals, one per column.
  [[nodiscard]] std::array<std::string, Columns> literals() &&;
};

struct commit_plan {
  // Never-opened wallets (rejections only): the fence is that no row exists. (id)
  rows<1> absent;
  // New wallets, inserted. (id, owner, currency, balance, held, status, version, overdraft_limit,
  // created_at, updated_at, kyc_level, outgoing_day as days since 1970-01-01, outgoing_today)
  rows<13> created;
  // Stored wallets, updated where version = expected. (id, expected, balance, held, status,
  // version, updated_at or NULL when the wallet had no event, kyc_level, outgoing_day,
  // outgoing_today)
  rows<10> updated;
  // (wallet_id, seq, at, type, delta, held_delta, data, idempotency_key or NULL)
  rows<10> events;
  // Stored holds closed by this batch, deleted. (wallet_id, hold_id)
  rows<2> holds_closed;
  // Holds placed by this batch and still open at its end, inserted. (wallet_id, hold_id, amount,
  // expires_at)
  rows<4> holds_opened;
  // (wallet_id, key, fingerprint, rejection or NULL, seq, balance, held, recorded_at)
  rows<8> records;
  // Debits insert pending transfers. (id, source, destination, currency, amount, at)
  rows<6> debits;
  // Credits complete them. (id, destination, source, currency, amount, at)
  rows<6> credits;
  // Reversals reverse them. (id, source, amount, at)
  rows<4> reversals;
  // Audit records of administrative commands, in batch order; `at` is the database's clock.
  // (principal, action, target, reason, trace_id or NULL, details as a JSON object)
  rows<6> audits;
  // AML reviews opened by review holds placed in this batch (migrations 0008, 0010). (review_id,
  // wallet_id, hold_id, idempotency_key, amount, currency, reasons, opened_at, expires_at,
  // command, transfer_id or NULL, destination or NULL)
  rows<12> reviews_opened;
  // Reviews whose hold was captured or debited by its transfer (approved), released (rejected) or
  // expired. (wallet_id, hold_id, status, at, principal or NULL, reason or NULL: the decision's
  // audit record's)
  rows<6> reviews_closed;
};

// An audit record's details as a JSON object of strings, with the command's outcome added when
// `record` is given: "outcome" "applied" and "seq", or "rejected" and "rejection" (its code).
[[nodiscard]] std::string audit_details(const actors::audit_entry& entry,
                                        const engine::idempotency_record* record);

// Coalesces the writes per wallet (the first write's expected version fences the last write's
// state) and derives every row. Asserts the port's contract: writes of one wallet chain, events
// run from expected_version + 1 to after.version, and every wallet belongs to `shard_id`.
[[nodiscard]] commit_plan plan_commit(std::span<const actors::wallet_write> writes,
                                      std::uint32_t shard_id, std::uint32_t shard_count);

// wallets.status: 1 active, 2 frozen, 3 closed ('none' is never stored).
[[nodiscard]] std::int64_t status_code(engine::wallet_status status);
// The inverse, for rows read back; nullopt for a code no writer stores.
[[nodiscard]] std::optional<engine::wallet_status> status_from_code(std::int64_t code);

}  // namespace wallet::postgres::detail
