// The reading side of the transactional outbox: committed events of a shard in commit order, and
// the shard's cursor of what has been published (docs/database.md, "Outbox"). For the publisher.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wallet/engine/event.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/postgres/error.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace wallet::postgres {

// One committed event, with what a subscriber needs besides the event itself.
struct outbox_event {
  std::string wallet_id;
  std::string currency;  // the wallet's ISO 4217 code
  engine::event event;
  // Of the command that appended it; empty for none.
  std::string idempotency_key;
  std::string command_id;
  std::string trace_parent;  // W3C traceparent
};

// The outbox rows of one shard with position_from < position <= position_to, their events in
// commit order (rows by position, inside a row in batch order): within a wallet, seqs increase
// without gaps from one batch to the next. position_from is the shard's cursor when read;
// position_to == position_from (and no events) when nothing is pending. Positions are not
// contiguous.
struct outbox_batch {
  std::uint32_t shard = 0;
  std::int64_t position_from = 0;
  std::int64_t position_to = 0;
  std::vector<outbox_event> events;
};

// Up to `rows_max` (>= 1) outbox rows of `shard` after its cursor, with their events, in one
// snapshot. Read from the primary, not a replica. Fails with `rejected` when a listed event is
// missing from wallet_events (its partition was detached before it was published) or cannot be
// decoded: publishing must stop rather than leave a gap.
[[nodiscard]] engine::result<outbox_batch, error> read_outbox(pqxx::connection_base& conn,
                                                              std::uint32_t shard,
                                                              std::size_t rows_max);

// Records that everything of `shard` up to `position` is published, in one transaction: the cursor
// moves to `position` (never backwards) and the outbox rows it covers are deleted. `position` is a
// batch's position_to: beyond the cursor it must be a row still in the outbox (invalid_argument
// otherwise, changing nothing), since a cursor past rows not yet committed would skip them. At or
// below the cursor it is a no-op, so repeating a call whose outcome was unknown is safe. Returns
// the cursor after the call.
[[nodiscard]] engine::result<std::int64_t, error> advance_outbox(pqxx::connection_base& conn,
                                                                 std::uint32_t shard,
                                                                 std::int64_t position);

// How many outbox rows (committed batches) of `shard` are not yet published: for metrics and
// readiness. A publisher that is not running shows as a growing lag, and a growing table.
[[nodiscard]] engine::result<std::int64_t, error> outbox_lag(pqxx::connection_base& conn,
                                                             std::uint32_t shard);

}  // namespace wallet::postgres
