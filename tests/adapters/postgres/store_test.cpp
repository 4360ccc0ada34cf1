// pg_store against a real PostgreSQL: round trips, the fence, sagas, holds, scans, failures.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "pg_fixture.hpp"
#include "wallet/engine/shard.hpp"
#include "wallet/postgres/database.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::store_errc;
using actors::wallet_write;

class store_test : public pg_test {
 protected:
  void SetUp() override {
    pg_test::SetUp();
    if (!HasFatalFailure()) {
      db();
    }
  }

  std::int64_t count(const std::string& query) { return sql(query)[0][0].as<std::int64_t>(); }

  // Commits and expects success.
  static void commit_ok(pg_store& store, std::vector<wallet_write> writes) {
    const auto e = store.commit(writes);
    ASSERT_FALSE(e.has_value()) << describe(e);
  }

  static engine::command_body open(std::int64_t overdraft = 0) {
    return engine::open_wallet{"owner-1", eur(0).ccy, overdraft};
  }

  const engine::timestamp t0_ = now_us();
};

TEST_F(store_test, a_missing_wallet_loads_empty) {
  pg_store store(store_settings());
  const auto loaded = store.load_wallet("nobody", t0_ - 24h, {24h});
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  EXPECT_EQ(loaded.value().state, engine::empty_wallet("nobody"));
  EXPECT_TRUE(loaded.value().keys.empty());
}

TEST_F(store_test, commit_then_load_round_trips_state_holds_and_keys) {
  pg_store store(store_settings());
  wallet_sim w("w-1");
  std::vector<wallet_write> batch;
  batch.push_back(w.handle(open(500), t0_));
  batch.push_back(w.handle(engine::deposit{eur(10'000)}, t0_ + 1us));
  commit_ok(store, batch);
  batch.clear();
  batch.push_back(w.handle(engine::hold_place{"h1", eur(1'500), t0_ + 1h}, t0_ + 2us));
  batch.push_back(w.handle(engine::hold_place{"h2", eur(2'500), t0_ + 2h}, t0_ + 3us));
  batch.push_back(w.handle(engine::withdraw{eur(1'000'000)}, t0_ + 4us));  // insufficient funds
  batch.push_back(w.handle(engine::freeze{"audit"}, t0_ + 5us));
  commit_ok(store, batch);

  const auto loaded = store.load_wallet("w-1", t0_ - 24h, {24h});
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  EXPECT_EQ(loaded.value().state, w.state());
  EXPECT_EQ(loaded.value().state.holds.size(), 2U);
  EXPECT_EQ(loaded.value().keys, w.keys());
  ASSERT_EQ(loaded.value().keys.size(), 6U);
  EXPECT_EQ(loaded.value().keys[4].second.result.rejected, engine::rejection::insufficient_funds);

  // keys_since filters by recording time.
  const auto recent = store.load_wallet("w-1", t0_ + 3us, {24h});
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent.value().keys.size(), 2U);
  EXPECT_EQ(recent.value().keys[0], w.keys()[4]);
}

TEST_F(store_test, the_kyc_level_and_the_days_outgoing_total_survive_a_reload) {
  pg_store store(store_settings());
  wallet_sim w("w-kyc");
  commit_ok(store, {w.handle(open(), t0_), w.handle(engine::deposit{eur(10'000)}, t0_ + 1us)});
  // Created and then updated: both statements carry the level and the day's total.
  commit_ok(store, {w.handle(engine::set_kyc_level{engine::kyc::basic, "id checked"}, t0_ + 2us),
                    w.handle(engine::withdraw{eur(700)}, t0_ + 3us),
                    w.handle(engine::transfer_debit{"t-1", "w-other", eur(300)}, t0_ + 4us)});
  ASSERT_EQ(w.state().kyc_level, engine::kyc::basic);
  ASSERT_EQ(w.state().outgoing_today, 1'000);
  const auto loaded = store.load_wallet("w-kyc", t0_ - 24h, {24h});
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  EXPECT_EQ(loaded.value().state, w.state());
  EXPECT_EQ(loaded.value().state.kyc_level, engine::kyc::basic);
  EXPECT_EQ(loaded.value().state.outgoing_day, std::chrono::floor<std::chrono::days>(t0_ + 4us));
  EXPECT_EQ(loaded.value().state.outgoing_today, 1'000);
  EXPECT_EQ(count("SELECT kyc_level FROM wallets WHERE id = 'w-kyc'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events WHERE type = 'kyc_level_set'"), 1);

  // A new wallet is created with level none and nothing out; a wallet opened in the same batch
  // as its first outgoing move is created with that move counted.
  wallet_sim fresh("w-fresh");
  commit_ok(store, {fresh.handle(open(), t0_), fresh.handle(engine::deposit{eur(50)}, t0_),
                    fresh.handle(engine::withdraw{eur(20)}, t0_)});
  const auto created = store.load_wallet("w-fresh", t0_ - 24h, {24h});
  ASSERT_TRUE(created.ok()) << created.error().detail;
  EXPECT_EQ(created.value().state, fresh.state());
  EXPECT_EQ(created.value().state.kyc_level, engine::kyc::none);
  EXPECT_EQ(created.value().state.outgoing_today, 20);
}

TEST_F(store_test, the_table_refuses_a_kyc_level_or_a_daily_total_out_of_range) {
  pg_store store(store_settings());
  wallet_sim w("w-bad-kyc");
  commit_ok(store, {w.handle(open(), t0_)});
  // The CHECK constraints of migration 0005 keep impossible values out of the table.
  EXPECT_THROW(sql("UPDATE wallets SET kyc_level = 3 WHERE id = 'w-bad-kyc'"), std::exception);
  EXPECT_THROW(sql("UPDATE wallets SET outgoing_today = -1 WHERE id = 'w-bad-kyc'"),
               std::exception);
}

TEST_F(store_test, several_writes_of_a_wallet_in_one_batch_coalesce) {
  pg_store store(store_settings());
  wallet_sim a("a");
  wallet_sim b("b");
  std::vector<wallet_write> batch;
  batch.push_back(a.handle(open(), t0_));
  batch.push_back(b.handle(open(), t0_));
  batch.push_back(a.handle(engine::deposit{eur(100)}, t0_ + 1us));
  batch.push_back(a.handle(engine::hold_place{"h", eur(40), t0_ + 1h}, t0_ + 2us));
  batch.push_back(a.handle(engine::hold_capture{"h", eur(10)}, t0_ + 3us));  // placed and closed
  batch.push_back(a.handle(engine::hold_place{"h", eur(20), t0_ + 1h}, t0_ + 4us));  // reused id
  batch.push_back(b.handle(engine::deposit{eur(7)}, t0_ + 5us));
  commit_ok(store, batch);
  EXPECT_EQ(store.load_wallet("a", t0_ - 1h, {24h}).value().state, a.state());
  EXPECT_EQ(store.load_wallet("b", t0_ - 1h, {24h}).value().state, b.state());
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), 7);
  EXPECT_EQ(count("SELECT sum(delta) FROM wallet_events WHERE wallet_id = 'a'"), a.state().balance);
  EXPECT_EQ(count("SELECT sum(held_delta) FROM wallet_events WHERE wallet_id = 'a'"),
            a.state().held);
}

TEST_F(store_test, a_stale_writer_gets_fence_conflict_and_nothing_is_written) {
  pg_store store(store_settings());
  wallet_sim w("w");
  wallet_sim other("other");
  commit_ok(store, {w.handle(open(), t0_), other.handle(open(), t0_)});
  wallet_sim stale = w;  // a second writer that loaded the same state
  commit_ok(store, {w.handle(engine::deposit{eur(5)}, t0_ + 1us)});

  const auto events_before = count("SELECT count(*) FROM wallet_events");
  const auto keys_before = count("SELECT count(*) FROM idempotency_records");
  const auto e = store.commit(
      std::vector<wallet_write>{other.handle(engine::deposit{eur(1)}, t0_ + 2us),
                                stale.handle(engine::deposit{eur(9)}, t0_ + 2us, "stale-key")});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::fence_conflict) << e->detail;
  EXPECT_EQ(e->detail, "wallets not at the expected version (another writer): w");
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), events_before);
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_records"), keys_before);
  EXPECT_EQ(count("SELECT balance FROM wallets WHERE id = 'other'"), 0) << "the whole batch";
  EXPECT_EQ(count("SELECT balance FROM wallets WHERE id = 'w'"), 5);
  // The stale deposit was seq 2 again: the fence alone keeps (wallet_id, seq) unique (ADR 0013).
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events WHERE wallet_id = 'w' AND seq = 2"), 1);
}

TEST_F(store_test, opening_a_wallet_twice_is_a_fence_conflict) {
  pg_store store(store_settings());
  wallet_sim first("w");
  wallet_sim second("w");
  commit_ok(store, {first.handle(open(), t0_)});
  const auto e = store.commit(std::vector<wallet_write>{second.handle(open(), t0_ + 1us)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::fence_conflict) << e->detail;
  EXPECT_EQ(e->detail, "new wallets already exist (another writer): w");
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), 1);
}

TEST_F(store_test, a_rejection_on_a_never_opened_wallet_is_remembered_and_fenced) {
  pg_store store(store_settings());
  wallet_sim ghost("ghost");
  commit_ok(store, {ghost.handle(engine::deposit{eur(5)}, t0_)});  // wallet_not_found
  const auto loaded = store.load_wallet("ghost", t0_ - 1h, {24h});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value().state, engine::empty_wallet("ghost"));
  ASSERT_EQ(loaded.value().keys.size(), 1U);
  EXPECT_EQ(loaded.value().keys[0].second.result.rejected, engine::rejection::wallet_not_found);
  EXPECT_EQ(count("SELECT count(*) FROM wallets"), 0);

  wallet_sim opener("ghost");
  commit_ok(store, {opener.handle(open(), t0_ + 1us)});
  const auto e =
      store.commit(std::vector<wallet_write>{ghost.handle(engine::deposit{eur(5)}, t0_ + 2us)});
  ASSERT_TRUE(e.has_value()) << "the stale view still believes the wallet does not exist";
  EXPECT_EQ(e->code, store_errc::fence_conflict) << e->detail;
  EXPECT_EQ(e->detail, "wallets expected not to exist were opened by another writer: ghost");
}

TEST_F(store_test, transfers_follow_the_events) {
  pg_store store(store_settings());
  wallet_sim a("a");
  wallet_sim b("b");
  commit_ok(store, {a.handle(open(), t0_), b.handle(open(), t0_),
                    a.handle(engine::deposit{eur(1'000)}, t0_ + 1us)});
  commit_ok(store, {a.handle(engine::transfer_debit{"t1", "b", eur(100)}, t0_ + 2us),
                    a.handle(engine::transfer_debit{"t2", "b", eur(200)}, t0_ + 3us)});
  auto t1 = store.find_transfer("a", "t1");
  ASSERT_TRUE(t1.ok() && t1.value().has_value());
  EXPECT_EQ(t1.value()->status, actors::transfer_status::pending);
  EXPECT_EQ(t1.value()->amount, eur(100));
  EXPECT_EQ(t1.value()->destination, "b");
  EXPECT_EQ(t1.value()->created_at, t0_ + 2us);
  EXPECT_FALSE(store.find_transfer("b", "t1").value().has_value()) << "ids are per source";

  commit_ok(store, {b.handle(engine::transfer_credit{"t1", "a", eur(100)}, t0_ + 4us),
                    a.handle(engine::transfer_reversal{"t2", eur(200)}, t0_ + 5us)});
  EXPECT_EQ(store.find_transfer("a", "t1").value()->status, actors::transfer_status::completed);
  EXPECT_EQ(store.find_transfer("a", "t2").value()->status, actors::transfer_status::reversed);
  EXPECT_EQ(count("SELECT sum(balance) FROM wallets"), 1'000) << "no money created or lost";

  // A credit of a transfer that is not pending would create money: refused, nothing written.
  const auto before = count("SELECT count(*) FROM wallet_events");
  const auto e = store.commit(
      std::vector<wallet_write>{b.handle(engine::transfer_credit{"t2", "a", eur(200)}, t0_ + 6us)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected);
  EXPECT_EQ(e->detail, "credits matching no pending transfer (parties, currency, amount): a/t2");
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), before);
}

TEST_F(store_test, a_reused_transfer_id_is_rejected) {
  pg_store store(store_settings());
  wallet_sim a("a");
  commit_ok(store, {a.handle(open(), t0_), a.handle(engine::deposit{eur(1'000)}, t0_)});
  commit_ok(store, {a.handle(engine::transfer_debit{"t1", "b", eur(1)}, t0_ + 1us)});
  // Forge the same debit again on top of the committed state.
  wallet_write again = a.handle(engine::transfer_debit{"t1", "c", eur(1)}, t0_ + 2us);
  const auto e = store.commit(std::vector<wallet_write>{again});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected) << e->detail;
  EXPECT_EQ(e->detail, "transfer ids already used: a/t1");
  EXPECT_EQ(count("SELECT count(*) FROM transfers"), 1);
  EXPECT_EQ(count("SELECT version FROM wallets WHERE id = 'a'"), 3) << "nothing written";
}

TEST_F(store_test, a_reused_transfer_id_fails_the_whole_batch_and_only_it_is_named) {
  pg_store store(store_settings());
  wallet_sim a("a");
  commit_ok(store, {a.handle(open(), t0_), a.handle(engine::deposit{eur(1'000)}, t0_)});
  commit_ok(store, {a.handle(engine::transfer_debit{"t1", "b", eur(1)}, t0_ + 1us)});
  const auto transfers_before = count("SELECT count(*) FROM transfers");
  const auto events_before = count("SELECT count(*) FROM wallet_events");
  // A fresh debit, then the forged reuse of t1, in one batch.
  wallet_sim forged = a;
  std::vector<wallet_write> batch;
  batch.push_back(forged.handle(engine::transfer_debit{"t2", "b", eur(1)}, t0_ + 2us));
  batch.push_back(forged.handle(engine::transfer_debit{"t1", "c", eur(1)}, t0_ + 3us));
  const auto e = store.commit(batch);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected) << e->detail;
  EXPECT_NE(e->detail.find("a/t1"), std::string::npos) << e->detail;
  EXPECT_EQ(e->detail.find("a/t2"), std::string::npos) << "t2 is new: " << e->detail;
  EXPECT_EQ(count("SELECT count(*) FROM transfers"), transfers_before);
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), events_before);
  EXPECT_EQ(count("SELECT count(*) FROM transfers WHERE id = 't2'"), 0);
}

// ---- refusals raised inside the one-call commit (migration 0011, ADR 0012)

TEST_F(store_test, a_fence_conflict_names_five_culprits_in_id_order_and_the_store_carries_on) {
  pg_store store(store_settings());
  std::vector<wallet_sim> wallets;
  std::vector<wallet_write> batch;
  for (int i = 1; i <= 7; ++i) {
    wallets.emplace_back("w" + std::to_string(i));
    batch.push_back(wallets.back().handle(open(), t0_));
  }
  commit_ok(store, batch);
  std::vector<wallet_sim> stale = wallets;  // a second writer that loaded the same states
  batch.clear();
  for (wallet_sim& w : wallets) {
    batch.push_back(w.handle(engine::deposit{eur(5)}, t0_ + 1us));
  }
  commit_ok(store, batch);
  const auto events_before = count("SELECT count(*) FROM wallet_events");
  batch.clear();
  for (std::size_t i = stale.size(); i-- > 0;) {  // in reverse: listed in id order all the same
    batch.push_back(stale[i].handle(engine::deposit{eur(9)}, t0_ + 2us, "late-" + stale[i].id()));
  }
  const auto e = store.commit(batch);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::fence_conflict) << e->detail;
  EXPECT_EQ(e->detail,
            "wallets not at the expected version (another writer): w1, w2, w3, w4, w5 and 2 more");
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), events_before);
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_records WHERE key LIKE 'late-%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM event_outbox"), 2);
  EXPECT_EQ(count("SELECT sum(balance) FROM wallets"), 35);
  // The refusal rolled back the call alone: the connection takes the next batch.
  commit_ok(store, {wallets[0].handle(engine::deposit{eur(1)}, t0_ + 3us)});
  EXPECT_EQ(count("SELECT sum(balance) FROM wallets"), 36);
}

TEST_F(store_test, a_hold_deleted_behind_the_stores_back_refuses_its_capture_atomically) {
  pg_store store(store_settings());
  wallet_sim w("w");
  commit_ok(store, {w.handle(open(), t0_), w.handle(engine::deposit{eur(100)}, t0_),
                    w.handle(engine::hold_place{"h1", eur(40), t0_ + 1h}, t0_ + 1us)});
  sql("DELETE FROM wallet_holds WHERE hold_id = 'h1'");
  const auto events_before = count("SELECT count(*) FROM wallet_events");
  const auto e = store.commit(
      std::vector<wallet_write>{w.handle(engine::hold_capture{"h1", eur(40)}, t0_ + 2us, "k")});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected) << e->detail;
  EXPECT_EQ(e->detail, "closed holds with no stored row: w/h1");
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), events_before);
  EXPECT_EQ(count("SELECT version FROM wallets WHERE id = 'w'"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_records WHERE key = 'k'"), 0);
}

TEST_F(store_test, reversing_a_completed_transfer_is_refused_atomically) {
  pg_store store(store_settings());
  wallet_sim a("a");
  wallet_sim b("b");
  commit_ok(store, {a.handle(open(), t0_), b.handle(open(), t0_),
                    a.handle(engine::deposit{eur(100)}, t0_)});
  commit_ok(store, {a.handle(engine::transfer_debit{"t1", "b", eur(10)}, t0_ + 1us)});
  commit_ok(store, {b.handle(engine::transfer_credit{"t1", "a", eur(10)}, t0_ + 2us)});
  const auto events_before = count("SELECT count(*) FROM wallet_events");
  const auto e = store.commit(
      std::vector<wallet_write>{a.handle(engine::transfer_reversal{"t1", eur(10)}, t0_ + 3us)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected) << e->detail;
  EXPECT_EQ(e->detail, "reversals matching no pending transfer (source, amount): a/t1");
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), events_before);
  EXPECT_EQ(store.find_transfer("a", "t1").value()->status, actors::transfer_status::completed);
  EXPECT_EQ(count("SELECT sum(balance) FROM wallets"), 100) << "no money created";
}

// The partial index transfers_pending serves the recovery scan only. A credit or reversal finds
// its transfer by the primary key, even when the statistics call the partial index empty while it
// is full of dead entries (migration 0013): scanning all of it per batch cost 16 ms under load.
TEST_F(store_test, credits_and_reversals_find_their_transfer_by_key_not_by_the_pending_index) {
  pg_store store(store_settings());
  wallet_sim a("a");
  wallet_sim b("b");
  engine::timestamp at = t0_;
  commit_ok(store, {a.handle(open(), at), b.handle(open(), at),
                    a.handle(engine::deposit{eur(1'000'000)}, at)});
  // Round r debits `count` transfers in one batch, then credits (or, for the last one, reverses)
  // them in another.
  int transfers = 0;
  int updated = 0;
  const auto round = [&](int count, bool reverse) {
    std::vector<wallet_write> debits;
    std::vector<wallet_write> settles;
    const int first = transfers;
    for (int i = 0; i < count; ++i) {
      at += 1us;
      debits.push_back(
          a.handle(engine::transfer_debit{"t" + std::to_string(transfers++), "b", eur(1)}, at));
    }
    for (int i = first; i < transfers; ++i) {
      const std::string id = "t" + std::to_string(i);
      at += 1us;
      settles.push_back(reverse ? a.handle(engine::transfer_reversal{id, eur(1)}, at)
                                : b.handle(engine::transfer_credit{id, "a", eur(1)}, at));
    }
    commit_ok(store, std::move(debits));
    commit_ok(store, std::move(settles));
    updated += count;
  };
  // Enough completed transfers that reading the table costs more than reading an index said to
  // be empty, then, as after an autovacuum that found no transfer pending, statistics that say so.
  round(3'000, false);
  sql("VACUUM ANALYZE transfers");
  round(300, false);  // 300 dead entries in the index, which its statistics do not know of
  round(300, false);
  round(50, true);

  // A session's statistics reach the shared counters when it goes idle at least a second after
  // its previous flush (else some 10 s later): one more statement on the store's session after a
  // pause, then wait until its updates of transfers are counted and read the index's scans, which
  // the same flush carries.
  std::this_thread::sleep_for(1100ms);
  ASSERT_TRUE(store.find_transfer("a", "t0").ok());
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (count("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'transfers'") < updated) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the store's statistics never came";
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(count("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = "
                  "'transfers_pending'"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM transfers WHERE status = 'completed'"), 3'600);
  EXPECT_EQ(count("SELECT count(*) FROM transfers WHERE status = 'reversed'"), 50);
  EXPECT_EQ(count("SELECT sum(balance) FROM wallets"), 1'000'000) << "no money created or lost";
}

TEST_F(store_test, a_stored_key_older_than_the_window_is_overwritten_with_the_new_answer) {
  pg_store store(store_settings());
  wallet_sim w("w-1");
  commit_ok(store, {w.handle(open(), t0_)});
  // A record the wallet no longer remembers (beyond its window) but the purge has not deleted yet.
  sql("INSERT INTO idempotency_records VALUES ('w-1', 'again', 7, 3, 0, 0, 0,"
      " now() - interval '30 days', 0)");
  const auto events_before = count("SELECT count(*) FROM wallet_events");
  commit_ok(store, {w.handle(engine::deposit{eur(10)}, t0_ + 1us, "again"),
                    w.handle(engine::deposit{eur(20)}, t0_ + 2us, "new-key")});
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events"), events_before + 2)
      << "the conflict's retry kept every other row of the batch";
  const auto loaded = store.load_wallet("w-1", t0_ - 24h, {24h});
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  EXPECT_EQ(loaded.value().keys, w.keys()) << "the stored answer is the new one";
  EXPECT_EQ(count("SELECT count(*) FROM idempotency_records WHERE wallet_id = 'w-1'"
                  " AND key = 'again' AND rejection IS NULL AND seq = 2"),
            1);
}

// ADR 0017: a load keeps the newest keys resident and streams the older ones (more than one
// cursor fetch of them here) into the evicted-key filter; find_key reads one record.
TEST_F(store_test, a_load_streams_keys_older_than_the_resident_ones_into_the_filter) {
  pg_store store(store_settings());
  sql("INSERT INTO idempotency_records SELECT 'w-1', 'k-' || n, n, NULL, n, n, 0,"
      " now() - interval '1 hour' + n * interval '1 millisecond', 0"
      " FROM generate_series(1, 20000) AS n");
  sql("INSERT INTO idempotency_records VALUES ('w-1', 'expired', 1, NULL, 1, 0, 0,"
      " now() - interval '25 hours', 0)");
  const engine::idempotency_bounds bounds{24h, 100};
  const auto loaded = store.load_wallet("w-1", now_us() - 24h, bounds);
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  const auto& l = loaded.value();
  ASSERT_EQ(l.keys.size(), 100U);
  EXPECT_EQ(l.keys.front().first, "k-19901");
  EXPECT_EQ(l.keys.back().first, "k-20000");
  EXPECT_EQ(l.evicted.keys(), 19'900U);
  for (int n = 1; n <= 19'900; n += 37) {
    ASSERT_TRUE(l.evicted.may_contain("k-" + std::to_string(n))) << n;
  }
  EXPECT_FALSE(l.evicted.may_contain("k-19901") && l.evicted.may_contain("k-19902") &&
               l.evicted.may_contain("k-19903"))
      << "resident keys are not in the filter";

  const auto found = store.find_key("w-1", "k-5", now_us() - 24h);
  ASSERT_TRUE(found.ok()) << found.error().detail;
  ASSERT_TRUE(found.value().has_value());
  EXPECT_EQ(found.value()->fingerprint, 5U);
  EXPECT_EQ(found.value()->result.seq, 5U);
  const auto absent = store.find_key("w-1", "never", now_us() - 24h);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent.value().has_value());
  const auto expired = store.find_key("w-1", "expired", now_us() - 24h);
  ASSERT_TRUE(expired.ok());
  EXPECT_FALSE(expired.value().has_value()) << "a record past the retention is not answered";

  // A wallet with fewer keys than the window keeps them all, and no filter.
  const auto small =
      store.load_wallet("w-1", now_us() - 24h, engine::idempotency_bounds{24h, 50'000});
  ASSERT_TRUE(small.ok()) << small.error().detail;
  EXPECT_EQ(small.value().keys.size(), 20'000U);
  EXPECT_TRUE(small.value().evicted.empty());
}

TEST_F(store_test, pending_transfers_lists_this_shards_old_pending_transfers) {
  constexpr std::uint32_t shards = 2;
  const auto ids0 = ids_on_shard("s0", 0, shards, 2);
  const auto ids1 = ids_on_shard("s1", 1, shards, 1);
  pg_store store0(store_settings(0, shards));
  pg_store store1(store_settings(1, shards));
  wallet_sim a(ids0[0]);
  wallet_sim c(ids1[0]);
  commit_ok(store0, {a.handle(open(), t0_), a.handle(engine::deposit{eur(100)}, t0_)});
  commit_ok(store1, {c.handle(open(), t0_), c.handle(engine::deposit{eur(100)}, t0_)});
  commit_ok(store0, {a.handle(engine::transfer_debit{"x1", ids0[1], eur(1)}, t0_ + 1s),
                     a.handle(engine::transfer_debit{"x2", ids0[1], eur(1)}, t0_ + 2s),
                     a.handle(engine::transfer_debit{"x3", ids0[1], eur(1)}, t0_ + 3s)});
  commit_ok(store1, {c.handle(engine::transfer_debit{"y1", ids0[1], eur(1)}, t0_ + 1s)});
  commit_ok(store0, {a.handle(engine::transfer_reversal{"x1", eur(1)}, t0_ + 4s)});

  const auto pending = store0.pending_transfers(t0_ + 3s, 10);
  ASSERT_TRUE(pending.ok()) << pending.error().detail;
  ASSERT_EQ(pending.value().size(), 1U) << "x1 reversed, x3 not older than the cut, y1 shard 1";
  EXPECT_EQ(pending.value()[0].transfer_id, "x2");
  EXPECT_EQ(pending.value()[0].source, ids0[0]);
  EXPECT_EQ(store0.pending_transfers(t0_ + 1h, 1).value().size(), 1U) << "limit";
  EXPECT_EQ(store0.pending_transfers(t0_ + 1h, 10).value().size(), 2U);
  const auto other = store1.pending_transfers(t0_ + 1h, 10);
  ASSERT_EQ(other.value().size(), 1U);
  EXPECT_EQ(other.value()[0].transfer_id, "y1");
}

TEST_F(store_test, due_holds_lists_this_shards_expired_holds) {
  constexpr std::uint32_t shards = 2;
  const auto ids0 = ids_on_shard("h0", 0, shards, 1);
  const auto ids1 = ids_on_shard("h1", 1, shards, 1);
  pg_store store0(store_settings(0, shards));
  pg_store store1(store_settings(1, shards));
  wallet_sim a(ids0[0]);
  wallet_sim b(ids1[0]);
  commit_ok(store0, {a.handle(open(), t0_), a.handle(engine::deposit{eur(100)}, t0_),
                     a.handle(engine::hold_place{"late", eur(1), t0_ + 3h}, t0_),
                     a.handle(engine::hold_place{"soon", eur(1), t0_ + 1h}, t0_),
                     a.handle(engine::hold_place{"sooner", eur(1), t0_ + 30min}, t0_)});
  commit_ok(store1, {b.handle(open(), t0_), b.handle(engine::deposit{eur(100)}, t0_),
                     b.handle(engine::hold_place{"other", eur(1), t0_ + 1min}, t0_)});
  const auto due = store0.due_holds(t0_ + 1h, 10);
  ASSERT_TRUE(due.ok()) << due.error().detail;
  ASSERT_EQ(due.value().size(), 2U);
  EXPECT_EQ(due.value()[0].hold_id, "sooner");
  EXPECT_EQ(due.value()[0].expires_at, t0_ + 30min);
  EXPECT_EQ(due.value()[1].hold_id, "soon") << "expiry at `now` is due";
  EXPECT_EQ(due.value()[1].wallet_id, ids0[0]);

  commit_ok(store0, {a.handle(engine::hold_expire{"sooner"}, t0_ + 2h),
                     a.handle(engine::hold_release{"soon"}, t0_ + 2h)});
  EXPECT_TRUE(store0.due_holds(t0_ + 2h, 10).value().empty());
  EXPECT_EQ(store0.load_wallet(ids0[0], t0_ - 1h, {24h}).value().state, a.state());
  EXPECT_EQ(store1.due_holds(t0_ + 2h, 10).value().size(), 1U);
}

TEST_F(store_test, every_event_type_reads_back_exactly) {
  pg_store store(store_settings());
  wallet_sim a("a");
  wallet_sim b("b");
  const std::string odd_reason = R"(he said "hi", {x} \ NULL ' é€😀)";
  std::vector<wallet_write> batch{
      a.handle(open(250), t0_),
      b.handle(open(), t0_),
      a.handle(engine::deposit{eur(1'000)}, t0_ + 1us),
      a.handle(engine::withdraw{eur(100)}, t0_ + 2us),
      a.handle(engine::transfer_debit{"t1", "b", eur(100)}, t0_ + 3us),
      a.handle(engine::transfer_debit{"t2", "b", eur(50)}, t0_ + 4us),
      b.handle(engine::transfer_credit{"t1", "a", eur(100)}, t0_ + 5us),
      a.handle(engine::transfer_reversal{"t2", eur(50)}, t0_ + 6us),
      a.handle(engine::hold_place{"h1", eur(300), t0_ + 1h}, t0_ + 7us),
      a.handle(engine::hold_place{"h2", eur(200), t0_ + 24h * 365 * 200}, t0_ + 8us),
      a.handle(engine::hold_place{"h3", eur(10), t0_ + 1s}, t0_ + 9us),
      a.handle(engine::hold_capture{"h1", eur(120)}, t0_ + 10us),
      a.handle(engine::hold_release{"h2"}, t0_ + 11us),
      a.handle(engine::hold_expire{"h3"}, t0_ + 2s),
      a.handle(engine::freeze{odd_reason}, t0_ + 3s),
      a.handle(engine::unfreeze{"ok"}, t0_ + 4s),
      a.handle(engine::withdraw{eur(680)}, t0_ + 5s),
      a.handle(engine::close_wallet{}, t0_ + 6s),
  };
  // The commit's transfer update needs t1's row before its credit: two commits, as in a saga.
  commit_ok(store, std::vector<wallet_write>(batch.begin(), batch.begin() + 6));
  commit_ok(store, std::vector<wallet_write>(batch.begin() + 6, batch.end()));
  ASSERT_EQ(a.state().status, engine::wallet_status::closed) << "every command was accepted";

  std::vector<engine::event> expected;
  for (const auto& w : batch) {
    if (w.wallet_id == "a") {
      expected.insert(expected.end(), w.events.begin(), w.events.end());
    }
  }
  ASSERT_EQ(expected.size(), 16U);
  const auto events = read_events(db(), "a", 0, 100);
  ASSERT_TRUE(events.ok()) << events.error().detail;
  EXPECT_EQ(events.value(), expected);
  const auto tail = read_events(db(), "a", 14, 1);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail.value().size(), 1U);
  EXPECT_EQ(tail.value()[0], expected[14]);
  EXPECT_EQ(store.load_wallet("a", t0_, {24h}).value().state, a.state());
}

TEST_F(store_test, an_event_outside_every_partition_fails_the_commit_loudly) {
  pg_store store(store_settings());
  wallet_sim w("w");
  const auto far = t0_ + 24h * 365 * 3;
  const auto e = store.commit(std::vector<wallet_write>{w.handle(open(), far)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected);
  EXPECT_NE(e->detail.find("no partition"), std::string::npos) << e->detail;
  EXPECT_EQ(count("SELECT count(*) FROM wallets"), 0);
}

TEST_F(store_test, invalid_utf8_in_event_data_is_rejected_atomically) {
  // The engine accepts any reason without control characters; jsonb refuses invalid UTF-8.
  pg_store store(store_settings());
  wallet_sim w("w");
  commit_ok(store, {w.handle(open(), t0_)});
  const auto e = store.commit(
      std::vector<wallet_write>{w.handle(engine::freeze{std::string("bad \xff byte")}, t0_ + 1us)});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::rejected) << e->detail;
  EXPECT_EQ(count("SELECT version FROM wallets WHERE id = 'w'"), 1);
}

TEST_F(store_test, a_dropped_connection_is_unavailable_then_reconnects) {
  pg_store store(store_settings());
  wallet_sim w("w");
  commit_ok(store, {w.handle(open(), t0_)});
  const auto killed = count(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
      database_ + "/shard-0'");
  ASSERT_EQ(killed, 1);
  const auto e =
      store.commit(std::vector<wallet_write>{w.handle(engine::deposit{eur(5)}, t0_ + 1us)});
  ASSERT_TRUE(e.has_value()) << "the commit on the dead connection fails";
  EXPECT_EQ(e->code, store_errc::unavailable) << e->detail;
  EXPECT_FALSE(store.connected());

  // The wallet actor reloads and retries: the next call reconnects.
  const auto loaded = store.load_wallet("w", t0_ - 1h, {24h});
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  EXPECT_TRUE(store.connected());
  EXPECT_EQ(loaded.value().state.version, 1U) << "the failed deposit was not committed";
  wallet_sim reloaded("w");
  reloaded.handle(open(), t0_);  // the committed history, replayed to the same state
  ASSERT_EQ(reloaded.state(), loaded.value().state);
  commit_ok(store, {reloaded.handle(engine::deposit{eur(5)}, t0_ + 2us)});
  EXPECT_EQ(count("SELECT balance FROM wallets WHERE id = 'w'"), 5);
}

TEST_F(store_test, an_unreachable_server_is_unavailable_and_the_password_stays_secret) {
  pg_store_settings settings = store_settings();
  settings.conninfo = "postgresql://wallet:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=2";
  pg_store store(settings);
  const auto e = store.connect();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, store_errc::unavailable);
  EXPECT_EQ(e->detail.find("s3cr3t-pw"), std::string::npos) << e->detail;
  const auto loaded = store.load_wallet("w", t0_, {24h});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, store_errc::unavailable);
  EXPECT_FALSE(store.connected());
}

TEST_F(store_test, a_missing_database_error_does_not_carry_the_password) {
  const std::string password = "pw-Zq9-secret";
  std::string url = url_;
  url.insert(url.find('@'), ":" + password);
  url.replace(url.rfind('/') + 1, std::string::npos, "no_such_database_here");
  pg_store_settings settings = store_settings();
  settings.conninfo = url;
  pg_store store(settings);
  const auto e = store.connect();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->detail.find(password), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("no_such_database_here"), std::string::npos) << e->detail;
}

}  // namespace
}  // namespace wallet::postgres::testing
