// The outbox reader and cursor on the publisher's connection. Every call catches at this boundary.
#include "wallet/postgres/outbox.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <limits>
#include <pqxx/pqxx>
#include <system_error>
#include <utility>

#include "failure.hpp"
#include "sql_text.hpp"
#include "wallet/engine/assert.hpp"
#include "wallet/postgres/event_codec.hpp"

namespace wallet::postgres {
namespace {

// The shard's cursor; a shard that never published has no row and is at 0.
#define WALLET_PG_OUTBOX_CURSOR \
  "COALESCE((SELECT position FROM event_outbox_cursors WHERE shard = $1::integer), 0)"

// One row per listed event, or a single row of NULLs after the cursor when nothing is pending, so
// that the cursor comes back in the same snapshot as the rows. Left joins: a listed event that is
// missing must be seen, not skipped.
constexpr const char* read_sql =
    "WITH published AS (SELECT " WALLET_PG_OUTBOX_CURSOR " AS position),"
    " pending AS (SELECT o.position, o.wallets, o.seqs FROM event_outbox AS o, published AS p"
    "  WHERE o.shard = $1::integer AND o.position > p.position ORDER BY o.position LIMIT $2)"
    " SELECT p.position, r.position, x.wallet_id, x.seq, w.currency::text, e.type,"
    " " WALLET_PG_EPOCH_US("e.at") ", e.data::text, e.idempotency_key, e.command_id,"
    " e.trace_parent"
    " FROM published AS p LEFT JOIN ("
    "  pending AS r"
    "  CROSS JOIN LATERAL unnest(r.wallets, r.seqs) WITH ORDINALITY AS x(wallet_id, seq, n)"
    "  LEFT JOIN wallet_events AS e ON e.wallet_id = x.wallet_id AND e.seq = x.seq"
    "  LEFT JOIN wallets AS w ON w.id = x.wallet_id"
    " ) ON true"
    " ORDER BY r.position, x.n";

// Moves the cursor only to a row still in the outbox, and never backwards, and deletes the rows it
// covers: one statement, so one round trip in autocommit (a data-modifying CTE runs once, and the
// DELETE waits for the cursor's new position).
#define WALLET_PG_ADVANCE_HEAD                                                           \
  "WITH moved AS (INSERT INTO event_outbox_cursors AS c (shard, position, published_at)" \
  "  SELECT $1::integer, $2::bigint, now() WHERE EXISTS ("                               \
  "   SELECT 1 FROM event_outbox WHERE shard = $1::integer AND position = $2::bigint)"
#define WALLET_PG_ADVANCE_TAIL                                                                     \
  "  ON CONFLICT (shard) DO UPDATE"                                                                \
  "  SET position = GREATEST(c.position, EXCLUDED.position), published_at = EXCLUDED.published_at" \
  "  RETURNING position),"                                                                         \
  " deleted AS (DELETE FROM event_outbox"                                                          \
  "  WHERE shard = $1::integer AND position <= (SELECT position FROM moved))"                      \
  " SELECT position FROM moved"

constexpr const char* advance_sql = WALLET_PG_ADVANCE_HEAD WALLET_PG_ADVANCE_TAIL;

// The same for a batch of the in-memory hand-off (ADR 0015): the cursor moves only when the rows up
// to $2 are exactly the $3 rows published (the PRIMARY KEY's range, a few rows: older ones were
// deleted by earlier moves).
constexpr const char* advance_counted_sql = WALLET_PG_ADVANCE_HEAD
    "   AND (SELECT count(*) FROM event_outbox"
    "    WHERE shard = $1::integer AND position <= $2::bigint) = $3::bigint" WALLET_PG_ADVANCE_TAIL;

#undef WALLET_PG_ADVANCE_HEAD
#undef WALLET_PG_ADVANCE_TAIL

constexpr const char* cursor_sql = "SELECT " WALLET_PG_OUTBOX_CURSOR;

constexpr const char* lag_sql =
    "SELECT count(*) FROM event_outbox"
    " WHERE shard = $1::integer AND position > " WALLET_PG_OUTBOX_CURSOR;

#undef WALLET_PG_OUTBOX_CURSOR

// The publisher runs these once or twice per committed batch: prepared on first use (libpqxx
// registers a name once per connection and re-prepares it after a reconnect), they are planned once
// instead of at every call.
constexpr const char* read_name = "outbox_read";
constexpr const char* advance_name = "outbox_advance";
constexpr const char* advance_counted_name = "outbox_advance_counted";

void prepare(pqxx::connection_base& conn, const char* name, const char* sql) {
  conn.prepare(name, sql);  // a no-op when already defined with this text
}

error failed(std::string_view doing) {
  auto f = detail::classify_current_exception(doing, {});
  return error{f.code, std::move(f.detail)};
}

std::string doing_on(std::string_view what, std::uint32_t shard) {
  return std::string(what) + " shard " + std::to_string(shard);
}

std::string text_or_empty(const pqxx::field& f) {
  return f.is_null() ? std::string{} : f.as<std::string>();
}

// One result row of read_sql as an event; the row's position is already known to be non-NULL.
engine::result<outbox_event, error> to_event(const pqxx::row& row, const std::string& doing) {
  const auto wallet_id = row[2].as<std::string>();
  const auto seq = row[3].as<std::int64_t>();
  const std::string where = doing + ": position " + row[1].as<std::string>() + ": event " +
                            wallet_id + "/" + std::to_string(seq) + ": ";
  // Publishing stops at such a row rather than leave a gap.
  if (row[5].is_null()) {
    return error{errc::rejected, where +
                                     "listed but not in wallet_events (its month detached "
                                     "before it was published?)"};
  }
  if (row[4].is_null()) {
    return error{errc::rejected, where + "its wallet has no row"};
  }
  if (seq < 1) {
    return error{errc::rejected, where + "seq below 1"};
  }
  auto body = decode_event(row[5].c_str(), row[7].c_str());
  if (!body) {
    return error{errc::rejected, where + body.error()};
  }
  return outbox_event{
      wallet_id,
      row[4].as<std::string>(),
      engine::event{static_cast<std::uint64_t>(seq),
                    detail::from_epoch_us(row[6].as<std::int64_t>()), std::move(body).value()},
      text_or_empty(row[8]),
      text_or_empty(row[9]),
      text_or_empty(row[10])};
}

}  // namespace

engine::result<outbox_batch, error> read_outbox(pqxx::connection_base& conn, std::uint32_t shard,
                                                std::size_t rows_max) {
  WALLET_ASSERT(rows_max >= 1);
  const std::string doing = doing_on("read_outbox", shard);
  try {
    // One statement: one snapshot for the cursor, the rows and their events. In autocommit it is
    // its own transaction: no BEGIN and COMMIT round trips.
    prepare(conn, read_name, read_sql);
    pqxx::nontransaction tx(conn);
    const pqxx::result rows =
        tx.exec_prepared(read_name, static_cast<std::int64_t>(shard),
                         detail::to_bigint(std::min<std::uint64_t>(
                             rows_max, std::numeric_limits<std::int64_t>::max())));
    tx.commit();
    WALLET_ASSERT(!rows.empty());  // the cursor's row is always there
    outbox_batch batch;
    batch.shard = shard;
    batch.position_from = rows[0][0].as<std::int64_t>();
    batch.position_to = batch.position_from;
    if (rows[0][1].is_null()) {
      return batch;
    }
    batch.events.reserve(rows.size());
    for (const auto& row : rows) {
      auto e = to_event(row, doing);
      if (!e) {
        return e.error();
      }
      batch.events.push_back(std::move(e).value());
      batch.position_to = row[1].as<std::int64_t>();
    }
    return batch;
  } catch (...) {
    return failed(doing);
  }
}

engine::result<std::int64_t, error> advance_outbox(pqxx::connection_base& conn, std::uint32_t shard,
                                                   std::int64_t position,
                                                   std::optional<std::size_t> rows) {
  const std::string doing = doing_on("advance_outbox", shard);
  if (position < 0) {
    return error{errc::invalid_argument,
                 doing + ": position must not be negative, got " + std::to_string(position)};
  }
  try {
    // One statement in autocommit: the cursor's move and the deletion commit together.
    pqxx::nontransaction tx(conn);
    const auto shard_param = static_cast<std::int64_t>(shard);
    pqxx::result moved;
    if (rows) {
      prepare(conn, advance_counted_name, advance_counted_sql);
      moved = tx.exec_prepared(advance_counted_name, shard_param, position,
                               detail::to_bigint(std::min<std::uint64_t>(
                                   *rows, std::numeric_limits<std::int64_t>::max())));
    } else {
      prepare(conn, advance_name, advance_sql);
      moved = tx.exec_prepared(advance_name, shard_param, position);
    }
    if (!moved.empty()) {
      return moved[0][0].as<std::int64_t>();
    }
    // Not a pending row: at or below the cursor it was published already (the cursor never moves
    // back, so a later read of it still tells).
    const auto cursor = tx.exec_params(cursor_sql, shard_param)[0][0].as<std::int64_t>();
    if (position <= cursor) {
      return cursor;
    }
    if (rows) {
      return error{errc::rejected,
                   doing + ": the outbox holds rows up to position " + std::to_string(position) +
                       " that the in-memory hand-off did not list (" + std::to_string(*rows) +
                       " listed; a commit of another process?): the cursor stays at " +
                       std::to_string(cursor)};
    }
    return error{errc::invalid_argument,
                 doing + ": position " + std::to_string(position) + " is beyond the cursor (" +
                     std::to_string(cursor) +
                     ") but not a row of the outbox; advance only to a read batch's position_to"};
  } catch (...) {
    return failed(doing);
  }
}

engine::result<std::int64_t, error> outbox_lag(pqxx::connection_base& conn, std::uint32_t shard) {
  try {
    pqxx::read_transaction tx(conn);
    const auto lag =
        tx.exec_params(lag_sql, static_cast<std::int64_t>(shard))[0][0].as<std::int64_t>();
    tx.commit();
    return lag;
  } catch (...) {
    return failed(doing_on("outbox_lag", shard));
  }
}

// Collects what the connection delivers (inside get_notifs/await_notification, on the caller's
// thread): a shard number, or anything else meaning every shard.
struct outbox_listener::receiver final : pqxx::notification_receiver {
  explicit receiver(pqxx::connection_base& c) : pqxx::notification_receiver(c, outbox_channel) {}

  void operator()(const std::string& payload, int /*backend_pid*/) override {
    std::uint32_t shard = 0;
    const char* end = payload.data() + payload.size();
    const auto [ptr, ec] = std::from_chars(payload.data(), end, shard);
    if (ec == std::errc{} && ptr == end && !payload.empty()) {
      if (std::find(pending.shards.begin(), pending.shards.end(), shard) == pending.shards.end()) {
        pending.shards.push_back(shard);
      }
      if (std::find(pending.notified.begin(), pending.notified.end(), shard) ==
          pending.notified.end()) {
        pending.notified.push_back(shard);
      }
    } else {
      pending.every_shard = true;
    }
  }

  outbox_wakeup pending;
};

outbox_signal::outbox_signal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd for the outbox signal");
  }
}

outbox_signal::~outbox_signal() { ::close(fd_); }

void outbox_signal::raise(std::uint32_t shard) noexcept {
  {
    const std::lock_guard lock{mutex_};
    if (std::find(raised_.begin(), raised_.end(), shard) != raised_.end()) {
      return;  // raised already: the descriptor is readable until take()
    }
    raised_.push_back(shard);
  }
  const std::uint64_t one = 1;
  // Cannot fail short of a counter at 2^64 - 1: take() drains it.
  [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
}

std::vector<std::uint32_t> outbox_signal::take() noexcept {
  const std::lock_guard lock{mutex_};
  std::uint64_t count = 0;
  // Drained under the lock, so a raise() after it writes again: readable iff something is raised.
  [[maybe_unused]] const auto read = ::read(fd_, &count, sizeof count);
  return std::exchange(raised_, {});
}

bool outbox_handoff::recording() const noexcept {
  const std::lock_guard lock{mutex_};
  return armed_ && !lost_;
}

void outbox_handoff::drop_locked() noexcept {
  entries_.clear();
  events_ = 0;
}

void outbox_handoff::push(outbox_entry entry) noexcept {
  const std::lock_guard lock{mutex_};
  if (!armed_ || lost_) return;
  if (entry.events.size() > events_max_ - std::min(events_max_, events_)) {
    // Full: the publisher reads the outbox until it has caught up (and re-arms).
    lost_ = true;
    complete_ = false;
    drop_locked();
    return;
  }
  events_ += entry.events.size();
  entries_.push_back(std::move(entry));
}

void outbox_handoff::lose() noexcept {
  const std::lock_guard lock{mutex_};
  if (!armed_) return;
  lost_ = true;
  complete_ = false;
  drop_locked();
}

void outbox_handoff::arm() noexcept {
  const std::lock_guard lock{mutex_};
  if (armed_ && !lost_) return;
  drop_locked();
  armed_ = true;
  lost_ = false;
  complete_ = false;
}

bool outbox_handoff::establish(std::int64_t position) noexcept {
  const std::lock_guard lock{mutex_};
  if (!armed_ || lost_) return false;
  while (!entries_.empty() && entries_.front().position <= position) {
    events_ -= entries_.front().events.size();
    entries_.pop_front();
  }
  complete_ = true;
  return true;
}

bool outbox_handoff::complete() const noexcept {
  const std::lock_guard lock{mutex_};
  return complete_;
}

std::optional<std::vector<outbox_entry>> outbox_handoff::take(std::int64_t cursor,
                                                              std::size_t entries_max) {
  const std::lock_guard lock{mutex_};
  if (!complete_) return std::nullopt;
  std::vector<outbox_entry> out;
  while (!entries_.empty() && out.size() < entries_max) {
    outbox_entry& e = entries_.front();
    events_ -= e.events.size();
    if (e.position > cursor) out.push_back(std::move(e));
    entries_.pop_front();
  }
  return out;
}

std::size_t outbox_handoff::events() const noexcept {
  const std::lock_guard lock{mutex_};
  return events_;
}

bool outbox_wakeups::notify(std::uint32_t shard) noexcept {
  std::shared_ptr<outbox_signal> signal;
  {
    const std::lock_guard lock{mutex_};
    const auto it = by_shard_.find(shard);
    if (it == by_shard_.end()) {
      return false;
    }
    signal = it->second.signal;
  }
  signal->raise(shard);
  return true;
}

bool outbox_wakeups::committed(std::uint32_t shard, std::int64_t position,
                               const std::function<std::vector<outbox_event>()>& events) noexcept {
  slot s;
  {
    const std::lock_guard lock{mutex_};
    const auto it = by_shard_.find(shard);
    if (it == by_shard_.end()) {
      return false;
    }
    s = it->second;
  }
  if (s.handoff && s.handoff->recording()) {
    try {
      s.handoff->push(outbox_entry{position, events()});
    } catch (...) {  // the events could not be copied (out of memory): the outbox still has them
      s.handoff->lose();
    }
  }
  s.signal->raise(shard);
  return true;
}

void outbox_wakeups::lost(std::uint32_t shard) noexcept {
  std::shared_ptr<outbox_handoff> handoff;
  {
    const std::lock_guard lock{mutex_};
    const auto it = by_shard_.find(shard);
    if (it == by_shard_.end()) return;
    handoff = it->second.handoff;
  }
  if (handoff) handoff->lose();
}

void outbox_wakeups::attach(const std::vector<std::uint32_t>& shards,
                            const std::shared_ptr<outbox_signal>& signal,
                            const std::vector<std::shared_ptr<outbox_handoff>>& handoffs) {
  WALLET_ASSERT(handoffs.empty() || handoffs.size() == shards.size());
  const std::lock_guard lock{mutex_};
  for (std::size_t i = 0; i < shards.size(); ++i) {
    by_shard_[shards[i]] = slot{signal, handoffs.empty() ? nullptr : handoffs[i]};
  }
}

void outbox_wakeups::detach(const outbox_signal& signal) noexcept {
  const std::lock_guard lock{mutex_};
  std::erase_if(by_shard_,
                [&signal](const auto& entry) { return entry.second.signal.get() == &signal; });
}

outbox_listener::outbox_listener(pqxx::connection_base& conn) : conn_(conn) {}

outbox_listener::~outbox_listener() = default;

engine::result<std::unique_ptr<outbox_listener>, error> outbox_listener::listen(
    pqxx::connection_base& conn, std::shared_ptr<outbox_signal> local) {
  try {
    std::unique_ptr<outbox_listener> l{new outbox_listener(conn)};
    l->receiver_ = std::make_unique<receiver>(conn);  // issues the LISTEN
    l->local_ = std::move(local);
    return l;
  } catch (...) {
    return failed("LISTEN " + std::string{outbox_channel});
  }
}

void outbox_listener::wait_either(std::chrono::milliseconds wait) {
  if (!local_) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
    conn_.await_notification(static_cast<long>(us / 1'000'000), static_cast<long>(us % 1'000'000));
    return;
  }
  std::array<pollfd, 2> fds{pollfd{conn_.sock(), POLLIN, 0}, pollfd{local_->fd(), POLLIN, 0}};
  // A signal (EINTR) ends the wait early, like a notification: the caller waits again if need be.
  ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
  conn_.get_notifs();  // reads what the server sent; a lost connection shows in is_open()
}

engine::result<outbox_wakeup, error> outbox_listener::await(std::chrono::milliseconds wait) {
  try {
    const auto take_local = [this] {
      if (!local_) return;
      for (const std::uint32_t shard : local_->take()) {
        auto& shards = receiver_->pending.shards;
        if (std::find(shards.begin(), shards.end(), shard) == shards.end()) {
          shards.push_back(shard);
        }
      }
    };
    take_local();
    if (conn_.get_notifs() == 0 && receiver_->pending.empty() && wait.count() > 0) {
      wait_either(wait);
      take_local();
    }
    if (!conn_.is_open()) {
      return error{errc::unavailable, "waiting for outbox notifications: the connection was lost"};
    }
    return std::exchange(receiver_->pending, outbox_wakeup{});
  } catch (...) {
    return failed("waiting for outbox notifications");
  }
}

}  // namespace wallet::postgres
