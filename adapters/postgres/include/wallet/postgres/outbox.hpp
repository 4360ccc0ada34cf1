// The reading side of the transactional outbox: committed events of a shard in commit order, and
// the shard's cursor of what has been published (docs/database.md, "Outbox"). For the publisher.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
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
//
// With `rows` (a batch taken from the in-memory hand-off, ADR 0015), the cursor moves only when
// the shard's outbox holds exactly `rows` rows up to `position`, the ones published: a row the
// hand-off did not list (a commit of another process, or a hand-off that missed one) fails with
// `rejected`, changing nothing, instead of being deleted unpublished.
[[nodiscard]] engine::result<std::int64_t, error> advance_outbox(
    pqxx::connection_base& conn, std::uint32_t shard, std::int64_t position,
    std::optional<std::size_t> rows = std::nullopt);

// One committed batch as its store hands it to the publisher of its process (ADR 0015): the
// position of its outbox row and its events in batch order, as read_outbox would return them.
struct outbox_entry {
  std::int64_t position = 0;
  std::vector<outbox_event> events;
};

// The in-memory hand-off of one shard from its store to its publishing thread (ADR 0015), so that
// in steady state the publisher need not read committed events back from PostgreSQL. Bounded by
// `events_max` events (nats.outbox_handoff_events_max); thread-safe.
//
// It is *complete* when it holds every commit of the shard with a position above the one the
// publisher last established: the publisher arms it (it records from then on), reads the outbox,
// and once a read returned every row its snapshot had after the cursor (fewer than it may read),
// establish(the last position read) makes it complete unless an entry was lost since the arm. That
// is sound because a store hands its commit over only after the commit returned: a commit the read
// did not see committed after the read's snapshot, so after the arm, and it is recorded; a commit
// the read saw is at or below that position and skipped by position. Losing an entry (the bound
// reached, or a commit whose outcome the store does not know) makes it incomplete until the
// publisher re-arms and reads the outbox again.
class outbox_handoff {
 public:
  explicit outbox_handoff(std::size_t events_max) : events_max_(events_max) {}

  // ---- the store's side (one store per shard, in commit order) ----
  // Whether push() would keep an entry: false while not armed or after a loss (the store then
  // builds nothing).
  [[nodiscard]] bool recording() const noexcept;
  // Appends the entry of a commit; past the bound the hand-off loses it (and everything it holds).
  void push(outbox_entry entry) noexcept;
  // A commit of the shard may have appended events that will not be pushed: the hand-off cannot
  // be complete.
  void lose() noexcept;

  // ---- the publisher's side ----
  // Starts recording before a read of the outbox, unless it records already with nothing lost
  // since: then what it holds stays.
  void arm() noexcept;
  // After a read that returned every row after the cursor up to `position` (its snapshot had none
  // above): complete (true) unless an entry was lost since the arm; entries at or below `position`
  // are dropped.
  bool establish(std::int64_t position) noexcept;
  [[nodiscard]] bool complete() const noexcept;
  // The oldest entries above `cursor`, at most `entries_max`, taken out in position order; nullopt
  // when not complete (the publisher must read the outbox).
  [[nodiscard]] std::optional<std::vector<outbox_entry>> take(std::int64_t cursor,
                                                              std::size_t entries_max);
  // Events held now (for tests).
  [[nodiscard]] std::size_t events() const noexcept;

 private:
  void drop_locked() noexcept;

  const std::size_t events_max_;
  mutable std::mutex mutex_;
  std::deque<outbox_entry> entries_;
  std::size_t events_ = 0;
  bool armed_ = false;
  bool lost_ = false;
  bool complete_ = false;
};

// The channel on which pg_store announces, right after a commit that appended events, that shard
// `<payload>` has outbox rows to publish (NOTIFY wallet_outbox, '<shard>'). A notification is a
// hint, not a record: one can be lost (a crash between the commit and the NOTIFY), so a publisher
// also reads every shard now and then.
inline constexpr const char* outbox_channel = "wallet_outbox";

// What woke a listener: the shards named, and whether a notification named none (an operator's
// bare `NOTIFY wallet_outbox`), which means "look at every shard".
struct outbox_wakeup {
  std::vector<std::uint32_t> shards;
  // Of them, those named by a NOTIFY rather than by the local signal only: a commit of a store
  // without a publishing thread in its process, whose events only the outbox holds (ADR 0015).
  std::vector<std::uint32_t> notified;
  bool every_shard = false;

  [[nodiscard]] bool empty() const noexcept { return shards.empty() && !every_shard; }
};

// A publishing thread's in-process wake-up (ADR 0014): the shards raised since the last take, and
// a descriptor that is readable while any are, so a thread can wait for it beside its PostgreSQL
// connection. Thread-safe.
class outbox_signal {
 public:
  outbox_signal();  // throws std::system_error when the kernel gives no eventfd
  ~outbox_signal();
  outbox_signal(const outbox_signal&) = delete;
  outbox_signal& operator=(const outbox_signal&) = delete;
  outbox_signal(outbox_signal&&) = delete;
  outbox_signal& operator=(outbox_signal&&) = delete;

  void raise(std::uint32_t shard) noexcept;
  // The shards raised since the last call (none: empty), leaving the descriptor unreadable.
  [[nodiscard]] std::vector<std::uint32_t> take() noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
  std::mutex mutex_;
  std::vector<std::uint32_t> raised_;
};

// Where the stores of a process tell its outbox publisher about their commits (ADR 0014): a
// publishing thread attaches a signal for its shards, and a hand-off per shard (ADR 0015); a
// store's commit hands its events over and raises the signal of its shard. Without a thread
// attached for the shard (no publisher in this process, or not started yet) notify() returns
// false and the store sends the NOTIFY instead. Thread-safe.
class outbox_wakeups {
 public:
  // Raises the signal attached for `shard`; false when none is.
  bool notify(std::uint32_t shard) noexcept;
  // After a commit of `shard` that appended events at outbox `position`: hands the events (made by
  // `events`, called only when the shard's hand-off records) to its hand-off, then raises its
  // signal. False when no signal is attached for the shard.
  bool committed(std::uint32_t shard, std::int64_t position,
                 const std::function<std::vector<outbox_event>()>& events) noexcept;
  // After a commit of `shard` whose outcome (or outbox position) is unknown.
  void lost(std::uint32_t shard) noexcept;
  // Attaches `signal` for `shards` (replacing an earlier one) until detach() with the same signal,
  // with `handoffs[i]` as the hand-off of `shards[i]` (none: an empty vector).
  void attach(const std::vector<std::uint32_t>& shards,
              const std::shared_ptr<outbox_signal>& signal,
              const std::vector<std::shared_ptr<outbox_handoff>>& handoffs = {});
  void detach(const outbox_signal& signal) noexcept;

 private:
  struct slot {
    std::shared_ptr<outbox_signal> signal;
    std::shared_ptr<outbox_handoff> handoff;  // may be null
  };
  std::mutex mutex_;
  std::unordered_map<std::uint32_t, slot> by_shard_;
};

// LISTENs on outbox_channel on the publisher's connection, for as long as it lives (destroy it
// before the connection). Notifications arrive only between transactions.
class outbox_listener {
 public:
  // Issues the LISTEN; fails when the connection cannot. With `local`, await() also returns when
  // that signal is raised, and reports its shards with the notified ones.
  [[nodiscard]] static engine::result<std::unique_ptr<outbox_listener>, error> listen(
      pqxx::connection_base& conn, std::shared_ptr<outbox_signal> local = nullptr);
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
  // Waits until the connection or the local signal has something, or `wait` passed.
  void wait_either(std::chrono::milliseconds wait);
  pqxx::connection_base& conn_;
  std::unique_ptr<receiver> receiver_;
  std::shared_ptr<outbox_signal> local_;
};

// How many outbox rows (committed batches) of `shard` are not yet published: for metrics and
// readiness. A publisher that is not running shows as a growing lag, and a growing table.
[[nodiscard]] engine::result<std::int64_t, error> outbox_lag(pqxx::connection_base& conn,
                                                             std::uint32_t shard);

}  // namespace wallet::postgres
