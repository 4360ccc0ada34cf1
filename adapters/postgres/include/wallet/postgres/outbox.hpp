// The reading side of the transactional outbox: committed events of a shard in commit order, and
// the shard's cursor of what has been published (docs/database.md, "Outbox"). For the publisher.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
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

// The channel on which pg_store announces, right after a commit that appended events, that shard
// `<payload>` has outbox rows to publish (NOTIFY wallet_outbox, '<shard>'). A notification is a
// hint, not a record: one can be lost (a crash between the commit and the NOTIFY), so a publisher
// also reads every shard now and then.
inline constexpr const char* outbox_channel = "wallet_outbox";

// What woke a listener: the shards named, and whether a notification named none (an operator's
// bare `NOTIFY wallet_outbox`), which means "look at every shard".
struct outbox_wakeup {
  std::vector<std::uint32_t> shards;
  bool every_shard = false;

  [[nodiscard]] bool empty() const noexcept { return shards.empty() && !every_shard; }
};

// LISTENs on outbox_channel on the publisher's connection, for as long as it lives (destroy it
// before the connection). Notifications arrive only between transactions.
class outbox_listener {
 public:
  // Issues the LISTEN; fails when the connection cannot.
  [[nodiscard]] static engine::result<std::unique_ptr<outbox_listener>, error> listen(
      pqxx::connection_base& conn);
  ~outbox_listener();
  outbox_listener(const outbox_listener&) = delete;
  outbox_listener& operator=(const outbox_listener&) = delete;
  outbox_listener(outbox_listener&&) = delete;
  outbox_listener& operator=(outbox_listener&&) = delete;

  // What was notified since the last call, waiting up to `wait` when nothing was (0: no wait).
  // Fails when the connection is lost.
  [[nodiscard]] engine::result<outbox_wakeup, error> await(std::chrono::milliseconds wait);

 private:
  struct receiver;
  explicit outbox_listener(pqxx::connection_base& conn);
  pqxx::connection_base& conn_;
  std::unique_ptr<receiver> receiver_;
};

// How many outbox rows (committed batches) of `shard` are not yet published: for metrics and
// readiness. A publisher that is not running shows as a growing lag, and a growing table.
[[nodiscard]] engine::result<std::int64_t, error> outbox_lag(pqxx::connection_base& conn,
                                                             std::uint32_t shard);

}  // namespace wallet::postgres
