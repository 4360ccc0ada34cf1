// The transactional outbox against a real PostgreSQL: commits append rows, the reader returns the
// events in commit order, the cursor only moves forward, and failed commits leave nothing behind.
#include <algorithm>
#include <optional>
#include <thread>

#include "pg_fixture.hpp"
#include "wallet/postgres/database.hpp"
#include "wallet/postgres/outbox.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::store_errc;
using actors::wallet_write;

engine::money usd(std::int64_t minor) {
  return engine::money{minor, *engine::currency::from_code("USD")};
}

engine::command_body open(engine::currency ccy = eur(0).ccy) {
  return engine::open_wallet{"owner-1", ccy, 0};
}

// An event as the reader should return it.
struct listed {
  std::string wallet_id;
  std::string currency;
  engine::event event;
  friend bool operator==(const listed&, const listed&) = default;
  friend std::ostream& operator<<(std::ostream& os, const listed& l) {
    return os << l.wallet_id << "/" << l.event.seq << " (" << l.currency << ")";
  }
};

// The events of `writes` in batch order, as listed in their outbox row.
std::vector<listed> listed_in(const std::vector<wallet_write>& writes) {
  std::vector<listed> out;
  for (const wallet_write& w : writes) {
    for (const engine::event& e : w.events) {
      out.push_back({w.wallet_id, std::string(w.after.ccy.code()), e});
    }
  }
  return out;
}

std::vector<listed> listed_in(const outbox_batch& batch) {
  std::vector<listed> out;
  for (const outbox_event& e : batch.events) {
    out.push_back({e.wallet_id, e.currency, e.event});
  }
  return out;
}

class outbox_test : public pg_test {
 protected:
  void SetUp() override {
    pg_test::SetUp();
    if (!HasFatalFailure()) {
      db();
      reader_ = connect();
    }
  }
  // The database is dropped only once every session of the test has closed.
  void TearDown() override {
    reader_.reset();
    pg_test::TearDown();
  }

  std::int64_t count(const std::string& query) { return sql(query)[0][0].as<std::int64_t>(); }

  // Commits and expects success; returns the writes for the expectations.
  static std::vector<wallet_write> commit_ok(pg_store& store, std::vector<wallet_write> writes) {
    const auto e = store.commit(writes);
    EXPECT_FALSE(e.has_value()) << describe(e);
    return writes;
  }

  outbox_batch read(std::uint32_t shard, std::size_t rows_max = 100) {
    auto batch = read_outbox(*reader_, shard, rows_max);
    EXPECT_TRUE(batch.ok()) << batch.error().detail;
    return batch.ok() ? std::move(batch).value() : outbox_batch{};
  }

  std::int64_t advance(std::uint32_t shard, std::int64_t position) {
    const auto cursor = advance_outbox(*reader_, shard, position);
    EXPECT_TRUE(cursor.ok()) << cursor.error().detail;
    return cursor.ok() ? cursor.value() : -1;
  }

  std::int64_t lag(std::uint32_t shard) {
    const auto n = outbox_lag(*reader_, shard);
    EXPECT_TRUE(n.ok()) << n.error().detail;
    return n.ok() ? n.value() : -1;
  }

  const engine::timestamp t0_ = now_us();
  std::unique_ptr<pqxx::connection> reader_;  // the publisher's own connection
};

TEST_F(outbox_test, a_commit_appends_one_row_listing_its_events_in_batch_order) {
  pg_store store(store_settings());
  wallet_sim a("a");
  wallet_sim b("b");
  const auto writes = commit_ok(store, {b.handle(open(usd(0).ccy), t0_), a.handle(open(), t0_),
                                        a.handle(engine::deposit{eur(70)}, t0_ + 1us, "k-a"),
                                        b.handle(engine::deposit{usd(9)}, t0_ + 2us)});

  const auto row = sql("SELECT shard, position, wallets::text, seqs::text FROM event_outbox");
  ASSERT_EQ(row.size(), 1U);
  EXPECT_EQ(row[0][0].as<int>(), 0);
  EXPECT_EQ(row[0][2].as<std::string>(), "{b,a,a,b}");
  EXPECT_EQ(row[0][3].as<std::string>(), "{1,1,2,2}");

  const outbox_batch batch = read(0);
  EXPECT_EQ(batch.shard, 0U);
  EXPECT_EQ(batch.position_from, 0);
  EXPECT_EQ(batch.position_to, row[0][1].as<std::int64_t>());
  EXPECT_EQ(listed_in(batch), listed_in(writes)) << "decoded bodies, times and currencies";
  EXPECT_EQ(lag(0), 1);
}

TEST_F(outbox_test, events_carry_the_key_command_id_and_trace_context_of_their_command) {
  pg_store store(store_settings());
  wallet_sim a("a");
  auto opened = a.handle(open(), t0_);
  auto deposited = a.handle(engine::deposit{eur(70)}, t0_ + 1us, "k-a");
  deposited.command_id = "cmd-7";
  deposited.trace_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  commit_ok(store, {opened, deposited});
  const outbox_batch batch = read(0);
  ASSERT_EQ(batch.events.size(), 2U);
  EXPECT_EQ(batch.events[0].command_id, "");
  EXPECT_EQ(batch.events[0].trace_parent, "");
  EXPECT_EQ(batch.events[1].idempotency_key, "k-a");
  EXPECT_EQ(batch.events[1].command_id, "cmd-7");
  EXPECT_EQ(batch.events[1].trace_parent, deposited.trace_parent);
}

TEST_F(outbox_test, batches_come_back_in_position_order_and_rows_max_bounds_a_read) {
  pg_store store(store_settings());
  wallet_sim w("w");
  std::vector<std::vector<wallet_write>> commits;
  commits.push_back(commit_ok(store, {w.handle(open(), t0_)}));
  for (int i = 1; i <= 4; ++i) {
    const auto at = t0_ + std::chrono::microseconds(2 * i);
    commits.push_back(commit_ok(store, {w.handle(engine::deposit{eur(i)}, at),
                                        w.handle(engine::withdraw{eur(1)}, at + 1us)}));
  }
  EXPECT_EQ(lag(0), 5);

  const outbox_batch first = read(0, 2);
  auto expected = listed_in(commits[0]);
  for (const auto& l : listed_in(commits[1])) {
    expected.push_back(l);
  }
  EXPECT_EQ(listed_in(first), expected);
  EXPECT_EQ(first.position_from, 0);

  // A read does not move the cursor: reading again returns the same rows.
  const outbox_batch again = read(0, 2);
  EXPECT_EQ(again.position_to, first.position_to);
  EXPECT_EQ(listed_in(again), expected);

  ASSERT_EQ(advance(0, first.position_to), first.position_to);
  const outbox_batch rest = read(0, 100);
  EXPECT_EQ(rest.position_from, first.position_to);
  EXPECT_GT(rest.position_to, rest.position_from);
  ASSERT_EQ(rest.events.size(), 6U);
  std::uint64_t seq = 3;  // seqs 1 (opened) and 2 (first deposit) were in the first read
  for (const outbox_event& e : rest.events) {
    EXPECT_EQ(e.event.seq, ++seq) << "in sequence, without gaps";
  }
}

TEST_F(outbox_test, advance_moves_the_cursor_deletes_rows_and_never_goes_back) {
  pg_store store(store_settings());
  wallet_sim w("w");
  commit_ok(store, {w.handle(open(), t0_)});
  commit_ok(store, {w.handle(engine::deposit{eur(1)}, t0_ + 1us)});
  commit_ok(store, {w.handle(engine::deposit{eur(2)}, t0_ + 2us)});
  const auto positions = sql("SELECT position FROM event_outbox ORDER BY position");
  ASSERT_EQ(positions.size(), 3U);
  const auto p1 = positions[0][0].as<std::int64_t>();
  const auto p2 = positions[1][0].as<std::int64_t>();
  const auto p3 = positions[2][0].as<std::int64_t>();
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox_cursors"), 0) << "no cursor row yet";

  EXPECT_EQ(advance(0, p2), p2);
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 1) << "rows up to the cursor deleted";
  EXPECT_EQ(count("SELECT position FROM event_outbox_cursors WHERE shard = 0"), p2);
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox_cursors WHERE published_at IS NOT NULL"), 1);
  EXPECT_EQ(lag(0), 1);

  EXPECT_EQ(advance(0, p1), p2) << "never backwards (a repeated, older call)";
  EXPECT_EQ(advance(0, p2), p2) << "repeating the same call is harmless";
  EXPECT_EQ(advance(0, 0), p2);
  EXPECT_EQ(count("SELECT position FROM event_outbox_cursors WHERE shard = 0"), p2);

  const outbox_batch last = read(0);
  EXPECT_EQ(last.position_from, p2);
  EXPECT_EQ(last.position_to, p3);
  ASSERT_EQ(last.events.size(), 1U);
  EXPECT_EQ(last.events[0].event.seq, 3U);

  // Past every committed row: the cursor would skip rows committed later.
  const auto beyond = advance_outbox(*reader_, 0, p3 + 1000);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, errc::invalid_argument) << beyond.error().detail;
  const auto negative = advance_outbox(*reader_, 0, -1);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, errc::invalid_argument);
  EXPECT_EQ(count("SELECT position FROM event_outbox_cursors WHERE shard = 0"), p2);

  EXPECT_EQ(advance(0, p3), p3);
  EXPECT_EQ(lag(0), 0);
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 0);
  const outbox_batch empty = read(0);
  EXPECT_EQ(empty.position_from, p3);
  EXPECT_EQ(empty.position_to, p3);
  EXPECT_TRUE(empty.events.empty());
  EXPECT_EQ(advance(0, empty.position_to), p3) << "advancing by an empty read is a no-op";

  // New commits continue after the cursor.
  commit_ok(store, {w.handle(engine::deposit{eur(3)}, t0_ + 3us)});
  const outbox_batch next = read(0);
  EXPECT_EQ(next.position_from, p3);
  ASSERT_EQ(next.events.size(), 1U);
  EXPECT_EQ(next.events[0].event.seq, 4U);
}

TEST_F(outbox_test, a_failed_commit_leaves_no_outbox_row) {
  pg_store store(store_settings());
  wallet_sim w("w");
  wallet_sim other("other");
  commit_ok(store, {w.handle(open(), t0_), other.handle(open(), t0_)});
  wallet_sim stale = w;
  commit_ok(store, {w.handle(engine::deposit{eur(5)}, t0_ + 1us)});
  ASSERT_EQ(count("SELECT count(*) FROM event_outbox"), 2);

  // Fenced before any event is written.
  auto e = store.commit(std::vector<wallet_write>{other.handle(engine::deposit{eur(1)}, t0_ + 2us),
                                                  stale.handle(engine::deposit{eur(9)}, t0_)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::fence_conflict) << e->detail;
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 2);

  // Refused after the events and their outbox row were inserted (a transfer id used twice): both
  // roll back.
  commit_ok(store, {w.handle(engine::transfer_debit{"t1", "other", eur(1)}, t0_ + 3us)});
  ASSERT_EQ(count("SELECT count(*) FROM event_outbox"), 3);
  const auto events_before = count("SELECT count(*) FROM wallet_events");
  e = store.commit(std::vector<wallet_write>{
      w.handle(engine::transfer_debit{"t1", "other", eur(1)}, t0_ + 4us)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected) << e->detail;
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), events_before);
}

TEST_F(outbox_test, an_event_insert_that_fails_leaves_no_outbox_row) {
  pg_store store(store_settings());
  wallet_sim w("w");
  commit_ok(store, {w.handle(open(), t0_)});
  // A stray event 2 written around the store with the very key of the next deposit, (w, 2, its
  // time): the fence does not see it, the primary key refuses the deposit's event. (With another
  // time it would be stored beside it: ADR 0013; wallet-reconcile reports the sequence break.)
  const auto deposit_at = t0_ + 1us;
  sql("INSERT INTO wallet_events (wallet_id, seq, at, shard, type, delta, held_delta, data)"
      " VALUES ('w', 2, timestamptz 'epoch' + interval '1 microsecond' * " +
      std::to_string(deposit_at.time_since_epoch().count()) +
      ", 0, 'deposited', 5, 0, '{\"amount\": 5}')");
  const auto e =
      store.commit(std::vector<wallet_write>{w.handle(engine::deposit{eur(1)}, deposit_at)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected) << e->detail;
  EXPECT_NE(e->detail.find("23505"), std::string::npos) << e->detail;
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 1);
  EXPECT_EQ(count("SELECT version FROM wallets WHERE id = 'w'"), 1);
}

TEST_F(outbox_test, a_batch_without_events_adds_no_row) {
  pg_store store(store_settings());
  wallet_sim w("w");
  wallet_sim ghost("ghost");
  commit_ok(store, {w.handle(open(), t0_)});
  ASSERT_EQ(lag(0), 1);
  const auto keys_before = count("SELECT count(*) FROM idempotency_records");
  const auto rejected_only =
      commit_ok(store, {w.handle(engine::withdraw{eur(1'000)}, t0_ + 1us, "k-poor"),
                        ghost.handle(engine::deposit{eur(5)}, t0_ + 2us, "k-ghost")});
  ASSERT_TRUE(rejected_only[0].events.empty());
  ASSERT_TRUE(rejected_only[1].events.empty());
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_records"), keys_before + 2)
      << "the rejections committed";
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 1);
  EXPECT_EQ(lag(0), 1);
}

// The publisher's wake-up: pg_store notifies the shard after a commit that appended events (so
// the publisher need not poll), and a batch of rejections alone notifies nothing.
TEST_F(outbox_test, a_commit_that_appends_events_notifies_its_shard) {
  auto listening = outbox_listener::listen(*reader_);
  ASSERT_TRUE(listening.ok()) << listening.error().detail;
  outbox_listener& listener = *listening.value();
  const auto before = listener.await(0ms);
  ASSERT_TRUE(before.ok()) << before.error().detail;
  EXPECT_TRUE(before.value().empty());

  const auto on1 = ids_on_shard("w", 1, 2, 1);
  pg_store store(store_settings(1, 2));
  wallet_sim w(on1[0]);
  commit_ok(store, {w.handle(open(), t0_)});
  const auto woken = listener.await(10s);
  ASSERT_TRUE(woken.ok()) << woken.error().detail;
  EXPECT_EQ(woken.value().shards, std::vector<std::uint32_t>{1});
  EXPECT_FALSE(woken.value().every_shard);

  commit_ok(store, {w.handle(engine::withdraw{eur(1'000)}, t0_ + 1us, "k-poor")});
  const auto quiet = listener.await(300ms);
  ASSERT_TRUE(quiet.ok()) << quiet.error().detail;
  EXPECT_TRUE(quiet.value().empty()) << "a batch without events woke the publisher";

  // An operator's bare NOTIFY (no shard) asks the publisher to read every shard.
  sql(std::string{"NOTIFY "} + outbox_channel);
  const auto every = listener.await(10s);
  ASSERT_TRUE(every.ok()) << every.error().detail;
  EXPECT_TRUE(every.value().every_shard);
}

// ADR 0014: with a publishing thread of the process attached for its shard, pg_store wakes it
// directly and sends no NOTIFY; with none attached for the shard it falls back to the NOTIFY.
TEST_F(outbox_test, a_commit_wakes_the_local_thread_of_its_shard_instead_of_notifying) {
  auto wakeups = std::make_shared<outbox_wakeups>();
  auto signal = std::make_shared<outbox_signal>();
  wakeups->attach({1}, signal);
  auto notified = outbox_listener::listen(*reader_);  // sees NOTIFYs only
  ASSERT_TRUE(notified.ok()) << notified.error().detail;
  auto other_reader = connect();
  auto local = outbox_listener::listen(*other_reader, signal);  // sees both
  ASSERT_TRUE(local.ok()) << local.error().detail;

  const auto on0 = ids_on_shard("w", 0, 2, 1);
  const auto on1 = ids_on_shard("w", 1, 2, 1);
  auto settings1 = store_settings(1, 2);
  settings1.wakeups = wakeups;
  pg_store store1(settings1);
  wallet_sim w1(on1[0]);
  commit_ok(store1, {w1.handle(open(), t0_)});
  const auto woken = local.value()->await(10s);
  ASSERT_TRUE(woken.ok()) << woken.error().detail;
  EXPECT_EQ(woken.value().shards, std::vector<std::uint32_t>{1});
  const auto no_notify = notified.value()->await(300ms);
  ASSERT_TRUE(no_notify.ok()) << no_notify.error().detail;
  EXPECT_TRUE(no_notify.value().empty()) << "a store with a local publisher also sent a NOTIFY";

  // Shard 0 has no thread attached here: its store notifies as before, and the local listener
  // still hears the NOTIFY.
  auto settings0 = store_settings(0, 2);
  settings0.wakeups = wakeups;
  pg_store store0(settings0);
  wallet_sim w0(on0[0]);
  commit_ok(store0, {w0.handle(open(), t0_)});
  const auto by_notify = notified.value()->await(10s);
  ASSERT_TRUE(by_notify.ok()) << by_notify.error().detail;
  EXPECT_EQ(by_notify.value().shards, std::vector<std::uint32_t>{0});
  const auto heard = local.value()->await(10s);
  ASSERT_TRUE(heard.ok()) << heard.error().detail;
  EXPECT_EQ(heard.value().shards, std::vector<std::uint32_t>{0});

  // Detached (its thread stopped), shard 1 goes back to the NOTIFY.
  wakeups->detach(*signal);
  commit_ok(store1, {w1.handle(engine::deposit{eur(500)}, t0_ + 1us, "k-dep")});
  const auto again = notified.value()->await(10s);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(again.value().shards, std::vector<std::uint32_t>{1});
  EXPECT_TRUE(signal->take().empty()) << "a detached signal was raised";
}

// ADR 0015: a store whose shard has a recording hand-off hands each commit over with the position
// of its outbox row and the events exactly as read_outbox returns them (bodies, times, currency,
// key, command id, trace context), in commit order; a batch without events hands nothing.
TEST_F(outbox_test, a_commit_hands_its_outbox_row_over_as_the_reader_would_return_it) {
  auto wakeups = std::make_shared<outbox_wakeups>();
  auto signal = std::make_shared<outbox_signal>();
  auto handoff = std::make_shared<outbox_handoff>(1'000);
  wakeups->attach({0}, signal, {handoff});
  handoff->arm();
  ASSERT_TRUE(read(0).events.empty());
  ASSERT_TRUE(handoff->establish(0));
  auto settings = store_settings();
  settings.wakeups = wakeups;
  pg_store store(settings);
  wallet_sim a("a");
  wallet_sim b("b");
  commit_ok(store, {b.handle(open(usd(0).ccy), t0_), a.handle(open(), t0_)});
  auto deposited = a.handle(engine::deposit{eur(70)}, t0_ + 1us, "k-a");
  deposited.command_id = "cmd-7";
  deposited.trace_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  commit_ok(store, {deposited, b.handle(engine::deposit{usd(9)}, t0_ + 2us)});
  commit_ok(store, {a.handle(engine::withdraw{eur(1'000)}, t0_ + 3us, "k-poor")});  // refused

  const auto taken = handoff->take(0, 10);
  ASSERT_TRUE(taken.has_value());
  ASSERT_EQ(taken->size(), 2U) << "one entry per commit that appended events";
  const auto rows = sql("SELECT position FROM event_outbox ORDER BY position");
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ((*taken)[0].position, rows[0][0].as<std::int64_t>());
  EXPECT_EQ((*taken)[1].position, rows[1][0].as<std::int64_t>());
  const outbox_batch batch = read(0);
  std::vector<outbox_event> handed;
  for (const auto& e : *taken) handed.insert(handed.end(), e.events.begin(), e.events.end());
  ASSERT_EQ(handed.size(), batch.events.size());
  for (std::size_t i = 0; i < handed.size(); ++i) {
    const auto& h = handed[i];
    const auto& r = batch.events[i];
    EXPECT_EQ(h.wallet_id, r.wallet_id) << i;
    EXPECT_EQ(h.currency, r.currency) << i;
    EXPECT_EQ(h.event, r.event) << i << ": body, time or seq differs from the stored event";
    EXPECT_EQ(h.idempotency_key, r.idempotency_key) << i;
    EXPECT_EQ(h.command_id, r.command_id) << i;
    EXPECT_EQ(h.trace_parent, r.trace_parent) << i;
  }
  EXPECT_EQ(handed[2].command_id, "cmd-7");
}

// ADR 0015: a hand-off batch moves the cursor only when the outbox holds exactly the rows it
// listed up to its position; a row it did not list (here: committed by a store without the
// hand-off, as another process would) fails the move and is neither deleted nor skipped.
TEST_F(outbox_test, a_handoff_batch_moves_the_cursor_only_over_exactly_its_rows) {
  pg_store bare(store_settings());  // no hand-off: its commits reach the outbox only
  wallet_sim a("a");
  wallet_sim b("b");
  commit_ok(bare, {a.handle(open(), t0_)});
  commit_ok(bare, {b.handle(open(), t0_)});
  commit_ok(bare, {a.handle(engine::deposit{eur(5)}, t0_ + 1us)});
  const auto rows = sql("SELECT position FROM event_outbox ORDER BY position");
  ASSERT_EQ(rows.size(), 3U);
  const auto p1 = rows[0][0].as<std::int64_t>();
  const auto p3 = rows[2][0].as<std::int64_t>();
  // A hand-off that listed rows 1 and 3 but not 2: refused, nothing changes.
  const auto refused = advance_outbox(*reader_, 0, p3, 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, errc::rejected);
  EXPECT_NE(refused.error().detail.find("did not list"), std::string::npos)
      << refused.error().detail;
  EXPECT_EQ(lag(0), 3);
  EXPECT_EQ(read(0).position_from, 0);
  // Listing exactly the rows up to a position moves the cursor and deletes them.
  const auto moved = advance_outbox(*reader_, 0, p1, 1);
  ASSERT_TRUE(moved.ok()) << moved.error().detail;
  EXPECT_EQ(moved.value(), p1);
  const auto rest = advance_outbox(*reader_, 0, p3, 2);
  ASSERT_TRUE(rest.ok()) << rest.error().detail;
  EXPECT_EQ(rest.value(), p3);
  EXPECT_EQ(lag(0), 0);
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 0);
  // Repeating a move whose outcome was unknown is still a no-op.
  const auto again = advance_outbox(*reader_, 0, p3, 2);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(again.value(), p3);
}

TEST_F(outbox_test, shards_have_their_own_rows_and_cursors) {
  const auto on0 = ids_on_shard("w", 0, 2, 1);
  const auto on1 = ids_on_shard("w", 1, 2, 1);
  pg_store store0(store_settings(0, 2));
  pg_store store1(store_settings(1, 2));
  wallet_sim a(on0[0]);
  wallet_sim b(on1[0]);
  const auto w0 = commit_ok(store0, {a.handle(open(), t0_)});
  const auto w1 = commit_ok(store1, {b.handle(open(), t0_)});
  commit_ok(store0, {a.handle(engine::deposit{eur(1)}, t0_ + 1us)});

  const outbox_batch s1 = read(1);
  EXPECT_EQ(s1.shard, 1U);
  EXPECT_EQ(listed_in(s1), listed_in(w1));
  ASSERT_EQ(advance(1, s1.position_to), s1.position_to);
  EXPECT_EQ(lag(1), 0);
  EXPECT_EQ(lag(0), 2) << "another shard's cursor moves nothing here";
  const outbox_batch s0 = read(0, 1);
  EXPECT_EQ(s0.position_from, 0);
  EXPECT_EQ(listed_in(s0), listed_in(w0));
  const auto foreign = advance_outbox(*reader_, 0, s1.position_to);
  ASSERT_FALSE(foreign.ok()) << "shard 1's position is no row of shard 0";
  EXPECT_EQ(foreign.error().code, errc::invalid_argument);
  EXPECT_EQ(lag(0), 2);
}

TEST_F(outbox_test, a_listed_event_that_is_missing_stops_the_read) {
  pg_store store(store_settings());
  wallet_sim w("w");
  commit_ok(store, {w.handle(open(), t0_)});
  sql("INSERT INTO event_outbox (shard, wallets, seqs) VALUES (0, '{w}', '{7}')");
  const auto r = read_outbox(*reader_, 0, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::rejected);
  EXPECT_NE(r.error().detail.find("w/7"), std::string::npos) << r.error().detail;
  EXPECT_TRUE(read_outbox(*reader_, 0, 1).ok()) << "the rows before it still read";
  EXPECT_EQ(sqlstate_of("INSERT INTO event_outbox (shard, wallets, seqs) VALUES (0, '{}', '{}')"),
            "23514")
      << "a row lists at least one event";
  EXPECT_EQ(sqlstate_of("INSERT INTO event_outbox (shard, wallets, seqs) VALUES (0, '{w}', '{}')"),
            "23514");
}

// ADR 0016: a shard may have two commits in flight on two connections; a batch draws its outbox
// position only under the shard's outbox lock, which a batch under way holds until it has
// committed, so positions still follow the shard's commit order.
TEST_F(outbox_test, a_commit_draws_its_outbox_position_under_the_shards_outbox_lock) {
  pg_store store(store_settings());
  wallet_sim a("a");
  commit_ok(store, {a.handle(open(), t0_)});
  const std::vector<wallet_write> later{a.handle(engine::deposit{eur(5)}, t0_ + 1us)};
  // Another transaction of shard 0 holds the lock, as the batch ahead would until its commit.
  auto holder = connect();
  pqxx::work held(*holder);
  held.exec("SELECT pg_advisory_xact_lock(1329748034, 0)");
  std::optional<actors::store_error> outcome{actors::store_error{store_errc::unavailable, "-"}};
  std::thread committing([&] { outcome = store.commit(later); });
  const std::string waiting =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
      " AND wait_event_type = 'Lock' AND wait_event = 'advisory'";
  bool waited = false;
  for (int i = 0; i < 1'000 && !waited; ++i) {
    waited = count(waiting) == 1;
    if (!waited) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(waited) << "the commit must wait for the shard's outbox lock";
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 1) << "no position drawn yet";
  held.commit();
  committing.join();
  EXPECT_FALSE(outcome.has_value()) << describe(outcome);
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 2);
  EXPECT_EQ(listed_in(read(0)).size(), 2U);
}

TEST_F(outbox_test, a_dropped_connection_is_unavailable) {
  pqxx::connection& c = *reader_;
  const auto pid = pqxx::nontransaction(c).exec("SELECT pg_backend_pid()")[0][0].as<int>();
  ASSERT_EQ(count("SELECT count(pg_terminate_backend(" + std::to_string(pid) + "))"), 1);
  const auto r = read_outbox(c, 0, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::unavailable) << r.error().detail;
  const auto a = advance_outbox(c, 0, 1);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, errc::unavailable) << a.error().detail;
}

}  // namespace
}  // namespace wallet::postgres::testing
