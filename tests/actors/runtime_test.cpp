// The actor runtime end to end over the in-memory store: answers after commit, replays, sagas
// across shards, failed commits, the circuit breaker, passivation and overload.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <chrono>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "memory_store.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/actors/system_keys.hpp"
#include "wallet/engine/shard.hpp"

namespace wallet::actors {
namespace {

using namespace std::chrono_literals;
using testing::memory_database;
using testing::memory_store;

const engine::currency eur = *engine::currency::from_code("EUR");
const engine::currency usd = *engine::currency::from_code("USD");

engine::money eur_(std::int64_t minor) { return engine::money{minor, eur}; }

class runtime_test : public ::testing::Test {
 protected:
  void start(runtime_settings settings = {}, runtime::remote_submit remote = {}) {
    settings.shards = shards;
    if (settings.flush_interval == runtime_settings{}.flush_interval) {
      settings.flush_interval = 200us;  // quick tests, unless the test chose its own
    }
    settings.recovery_scan_interval = 1s;
    settings.restart.initial = 10ms;
    settings.restart.max = 50ms;
    db = std::make_shared<memory_database>(shards);
    // The system keeps a reference to its config: both live as long as the fixture.
    cfg.set("scheduler.max-threads", std::size_t{2});
    system = std::make_unique<caf::actor_system>(cfg);
    rt = std::make_unique<runtime>(*system, settings, store_factory(), probe, runtime::clock{},
                                   std::move(remote));
  }

  // A second instance beside the first, over the same database (started after start()).
  void start_second(runtime_settings settings, runtime::remote_submit remote) {
    settings.shards = shards;
    settings.flush_interval = 200us;
    settings.recovery_scan_interval = 1s;
    rt2 = std::make_unique<runtime>(*system, settings, store_factory(), probe, runtime::clock{},
                                    std::move(remote));
  }

  [[nodiscard]] runtime::store_factory store_factory() const {
    return [db = db](std::uint32_t shard) { return std::make_unique<memory_store>(db, shard); };
  }

  // A wallet id (stem plus a number) whose shard is `shard`.
  [[nodiscard]] std::string wallet_on(std::uint32_t shard, const std::string& stem) const {
    for (int i = 0;; ++i) {
      std::string id = stem + std::to_string(i);
      if (engine::shard_of(id, shards) == shard) {
        return id;
      }
    }
  }

  void TearDown() override {
    // Both stop before either goes: each may still hand the other a leg until its actors are done.
    for (auto* r : {&rt2, &rt}) {
      if (*r) {
        (*r)->stop(2s);
      }
    }
    if (system) {
      system->await_all_actors_done();
    }
    rt2.reset();
    rt.reset();
  }

  submit_outcome run(engine::command c) {
    auto f = rt->submit(std::move(c));
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  }

  void open(const std::string& id, std::int64_t deposit = 0, engine::currency ccy = eur) {
    ASSERT_TRUE(run({id, "open-" + id, engine::open_wallet{"owner", ccy, 0}}).accepted());
    if (deposit > 0) {
      ASSERT_TRUE(run({id, "dep-" + id, engine::deposit{{deposit, ccy}}}).accepted());
    }
  }

  // Waits until `done` holds or the time runs out.
  template <class Predicate>
  bool eventually(Predicate done, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return done();
  }

  std::int64_t balance(const std::string& id) {
    const auto w = db->wallet(id);
    return w ? w->balance : 0;
  }

  // Counts what the runtime reports that a test may want to see.
  struct counting_probe final : runtime_probe {
    void saga_leg_failed(std::string_view /*transfer_id*/, std::string_view why) override {
      if (why == "overloaded") ++legs_overloaded;
    }
    void command_answered(std::string_view command, const submit_outcome& o) override {
      const std::lock_guard lock{mutex};
      answered.emplace_back(command, o.result.rejected.has_value());
    }
    void wallets_dormant(std::uint32_t shard, std::size_t count) override {
      const std::lock_guard lock{mutex};
      dormant[shard] = count;
      dormant_max[shard] = std::max(dormant_max[shard], count);
    }
    std::size_t dormant_in(std::uint32_t shard) {
      const std::lock_guard lock{mutex};
      return dormant[shard];
    }
    std::size_t dormant_max_in(std::uint32_t shard) {
      const std::lock_guard lock{mutex};
      return dormant_max[shard];
    }
    void keys_evicted(std::uint32_t /*shard*/, std::size_t count) override {
      evicted += static_cast<int>(count);
    }
    void key_lookup(std::uint32_t /*shard*/, std::string_view outcome,
                    const store_error* error) override {
      const std::lock_guard lock{mutex};
      ++lookups[std::string{outcome}];
      if (error != nullptr) ++lookup_errors;
    }
    int lookups_of(const std::string& outcome) {
      const std::lock_guard lock{mutex};
      return lookups[outcome];
    }
    std::atomic<int> legs_overloaded{0};
    std::atomic<int> evicted{0};
    std::map<std::string, int> lookups;  // by outcome
    int lookup_errors = 0;
    std::map<std::uint32_t, std::size_t> dormant;      // per shard, as last reported
    std::map<std::uint32_t, std::size_t> dormant_max;  // per shard, the most ever reported
    std::mutex mutex;
    std::vector<std::pair<std::string, bool>> answered;  // command name, rejected
  };

  std::uint32_t shards = 4;
  void transfer_among_wallets_with_commits_in_flight(std::size_t limit);
  std::shared_ptr<counting_probe> probe = std::make_shared<counting_probe>();
  std::shared_ptr<memory_database> db;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<runtime> rt;
  std::unique_ptr<runtime> rt2;
};

TEST_F(runtime_test, answers_after_the_commit_with_the_committed_event) {
  start();
  open("alice");
  const auto out = run({"alice", "d1", engine::deposit{eur_(1'500)}});
  ASSERT_TRUE(out.accepted());
  ASSERT_TRUE(out.event.has_value());
  EXPECT_EQ(out.event->seq, 2U);
  EXPECT_EQ(out.result.balance, 1'500);
  // Answered means durable: the store already has it.
  EXPECT_EQ(balance("alice"), 1'500);
  EXPECT_EQ(db->events().at("alice").size(), 2U);
}

TEST_F(runtime_test, the_client_context_is_stored_with_the_write) {
  start();
  open("amy");
  std::promise<submit_outcome> answered;
  rt->submit({"amy", "d1", engine::deposit{eur_(5)}},
             command_context{"cmd-1", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
             [&](const submit_outcome& o) { answered.set_value(o); });
  ASSERT_TRUE(answered.get_future().get().accepted());
  const auto stored = db->context_of("amy", "d1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->command_id, "cmd-1");
  EXPECT_EQ(stored->trace_parent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(db->context_of("amy", "open-amy")->command_id, "");
}

TEST_F(runtime_test, business_rejections_are_durable_and_replayed) {
  start();
  open("bob", 100);
  const auto first = run({"bob", "w1", engine::withdraw{eur_(500)}});
  ASSERT_FALSE(first.error);
  ASSERT_EQ(first.result.rejected, engine::rejection::insufficient_funds);
  ASSERT_TRUE(run({"bob", "d2", engine::deposit{eur_(1'000)}}).accepted());
  const auto again = run({"bob", "w1", engine::withdraw{eur_(500)}});
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, first.result);
  EXPECT_EQ(balance("bob"), 1'100);
  // Every answer is reported under its command's name, a committed rejection and a replay too.
  const std::lock_guard lock{probe->mutex};
  const std::vector<std::pair<std::string, bool>> expected{{"open_wallet", false},
                                                           {"deposit", false},
                                                           {"withdraw", true},
                                                           {"deposit", false},
                                                           {"withdraw", true}};
  EXPECT_EQ(probe->answered, expected);
}

TEST_F(runtime_test, refuses_reserved_keys_and_bad_wallet_ids) {
  start();
  EXPECT_EQ(run({"carol", "sys:credit:1:x:y", engine::deposit{eur_(1)}}).error,
            submit_errc::reserved_key);
  EXPECT_EQ(run({"bad id", "k", engine::deposit{eur_(1)}}).error, submit_errc::invalid_wallet);
}

TEST_F(runtime_test, a_transfer_completes_across_shards) {
  start();
  open("src", 1'000);
  open("dst");
  const auto debit = run({"src", "t1", engine::transfer_debit{"tr-1", "dst", eur_(300)}});
  ASSERT_TRUE(debit.accepted());
  EXPECT_TRUE(eventually([&] {
    const auto t = db->transfer("src", "tr-1");
    return t && t->status == transfer_status::completed;
  }));
  EXPECT_EQ(balance("src"), 700);
  EXPECT_EQ(balance("dst"), 300);
}

TEST_F(runtime_test, a_refused_credit_is_reversed) {
  start();
  open("payer", 1'000);
  open("dollar", 0, usd);  // another currency: the credit is refused
  ASSERT_TRUE(run({"payer", "t1", engine::transfer_debit{"tr-2", "dollar", eur_(400)}}).accepted());
  ASSERT_TRUE(run({"payer", "t2", engine::transfer_debit{"tr-3", "nobody", eur_(100)}}).accepted());
  EXPECT_TRUE(eventually([&] {
    const auto a = db->transfer("payer", "tr-2");
    const auto b = db->transfer("payer", "tr-3");
    return a && b && a->status == transfer_status::reversed &&
           b->status == transfer_status::reversed;
  }));
  EXPECT_EQ(balance("payer"), 1'000);
  EXPECT_EQ(balance("dollar"), 0);
}

TEST_F(runtime_test, a_failed_commit_answers_unavailable_and_a_retry_applies_once) {
  start();
  open("dave", 100);
  db->fail_next_commits = 1;
  const auto failed = run({"dave", "d1", engine::deposit{eur_(50)}});
  EXPECT_EQ(failed.error, submit_errc::unavailable);
  EXPECT_EQ(balance("dave"), 100);
  const auto retried = run({"dave", "d1", engine::deposit{eur_(50)}});
  ASSERT_TRUE(retried.accepted()) << (retried.error ? to_string(*retried.error) : "rejected");
  EXPECT_FALSE(retried.replayed) << "the failed attempt must not have left a trace";
  EXPECT_TRUE(run({"dave", "d1", engine::deposit{eur_(50)}}).replayed);
  EXPECT_EQ(balance("dave"), 150);
}

TEST_F(runtime_test, a_write_the_database_refuses_fails_alone) {
  shards = 1;  // every wallet in one store: one batch
  runtime_settings settings;
  settings.flush_interval = 50ms;
  start(settings);
  for (const char* id : {"ann", "ben", "cid", "dan"}) open(id, 100);
  db->refuse_key("poison");
  auto ann = rt->submit({"ann", "a1", engine::deposit{eur_(1)}});
  auto ben1 = rt->submit({"ben", "b1", engine::deposit{eur_(2)}});
  auto poison = rt->submit({"ben", "poison", engine::deposit{eur_(4)}});
  auto ben3 = rt->submit({"ben", "b3", engine::deposit{eur_(8)}});
  auto cid = rt->submit({"cid", "c1", engine::deposit{eur_(16)}});
  auto dan = rt->submit({"dan", "d1", engine::withdraw{eur_(32)}});
  // The other wallets' writes shared the refused batch and commit anyway.
  EXPECT_TRUE(ann.get().accepted());
  EXPECT_TRUE(cid.get().accepted());
  EXPECT_TRUE(dan.get().accepted());
  // So does ben's write before the refused one; the refused one is answered as such, not as a
  // retryable failure; the one after it was not applied, and a retry applies it once.
  EXPECT_TRUE(ben1.get().accepted());
  EXPECT_EQ(poison.get().error, submit_errc::write_refused);
  const auto after = ben3.get();
  EXPECT_TRUE(after.accepted() || after.error == submit_errc::unavailable);
  EXPECT_TRUE(run({"ben", "b3", engine::deposit{eur_(8)}}).accepted());
  EXPECT_EQ(run({"ben", "poison", engine::deposit{eur_(4)}}).error, submit_errc::write_refused);
  EXPECT_EQ(balance("ann"), 101);
  EXPECT_EQ(balance("ben"), 110);
  EXPECT_EQ(balance("cid"), 116);
  EXPECT_EQ(balance("dan"), 68);
  EXPECT_EQ(db->events().at("ben").size(), 4U);  // opened, deposited 100, b1, b3
}

TEST_F(runtime_test,
       without_a_linger_writes_commit_at_once_and_those_made_during_a_commit_share_one) {
  shards = 1;  // every wallet in one store
  runtime_settings settings;
  settings.flush_interval = 0us;
  start(settings);
  constexpr int wallets = 40;
  for (int i = 0; i < wallets; ++i) open("w" + std::to_string(i), 0);
  // A lone write is not held back for company: it commits without a timer.
  EXPECT_TRUE(run({"w0", "lone", engine::deposit{eur_(1)}}).accepted());
  // While a slow commit runs, the writes that arrive wait in the mailbox and form the next batch
  // together, instead of one commit each.
  db->commit_delay_ms = 50;
  const std::size_t before = db->commits;
  std::vector<std::future<submit_outcome>> futures;
  for (int i = 0; i < wallets; ++i) {
    futures.push_back(rt->submit({"w" + std::to_string(i), "d", engine::deposit{eur_(2)}}));
  }
  for (auto& f : futures) EXPECT_TRUE(f.get().accepted());
  EXPECT_LE(db->commits - before, 10U);
  EXPECT_GE(db->largest_batch.load(), 2U);
  EXPECT_EQ(balance("w0"), 3);
  EXPECT_EQ(balance("w39"), 2);
}

TEST_F(runtime_test, the_circuit_opens_fails_fast_and_closes_after_recovery) {
  runtime_settings settings;
  settings.circuit = circuit_breaker_settings{2, 100ms};
  shards = 1;
  start(settings);
  open("erin", 100);
  db->down = true;
  EXPECT_EQ(run({"erin", "d1", engine::deposit{eur_(1)}}).error, submit_errc::unavailable);
  EXPECT_EQ(run({"erin", "d2", engine::deposit{eur_(1)}}).error, submit_errc::unavailable);
  EXPECT_TRUE(eventually([&] { return rt->circuit() == circuit_state::open; }));
  const std::size_t commits = db->commits;
  EXPECT_EQ(run({"erin", "d3", engine::deposit{eur_(1)}}).error, submit_errc::unavailable);
  EXPECT_EQ(db->commits.load(), commits);
  db->down = false;
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(eventually([&] { return run({"erin", "d4", engine::deposit{eur_(1)}}).accepted(); }));
  EXPECT_EQ(rt->circuit(), circuit_state::closed);
  EXPECT_EQ(balance("erin"), 101);
}

TEST_F(runtime_test, pipelined_commands_on_one_wallet_keep_their_order) {
  start();
  open("hot", 0);
  std::vector<std::future<submit_outcome>> futures;
  for (int i = 0; i < 50; ++i) {
    futures.push_back(rt->submit({"hot", "d" + std::to_string(i), engine::deposit{eur_(1)}}));
  }
  std::uint64_t last = 0;
  for (auto& f : futures) {
    const auto o = f.get();
    if (o.error == submit_errc::overloaded) continue;
    ASSERT_TRUE(o.accepted());
    EXPECT_GT(o.event->seq, last);
    last = o.event->seq;
  }
  EXPECT_EQ(balance("hot"), static_cast<std::int64_t>(last - 1));
}

// ADR 0016: a shard commits a second batch while the first is under way, without the first's
// wallets; their later writes wait for it.
TEST_F(runtime_test, a_second_batch_commits_beside_the_first_without_its_wallets) {
  runtime_settings settings;
  settings.commits_in_flight_max = 2;
  start(settings);
  const std::string a = wallet_on(0, "a");
  const std::string b = wallet_on(0, "b");
  open(a, 10);
  open(b, 10);
  db->hold_commits();
  auto a1 = rt->submit({a, "a1", engine::deposit{eur_(1)}});
  ASSERT_TRUE(eventually([&] { return db->committing_in(0) == 1; }));
  auto a2 = rt->submit({a, "a2", engine::deposit{eur_(2)}});  // waits for a1's batch
  auto b1 = rt->submit({b, "b1", engine::deposit{eur_(3)}});  // commits beside it
  ASSERT_TRUE(eventually([&] { return db->committing_in(0) == 2; }));
  EXPECT_EQ(db->writes_committing(), 2U) << "a2 must wait for the batch holding a1";
  db->release_commits();
  for (auto* f : {&a1, &a2, &b1}) {
    ASSERT_EQ(f->wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(f->get().accepted());
  }
  EXPECT_EQ(balance(a), 13);
  EXPECT_EQ(balance(b), 13);
  EXPECT_EQ(db->wallet_overlaps, 0U);
  EXPECT_EQ(db->committing_max_in(0), 2U);
}

// A write queued behind its wallet's failing batch belongs to the failed epoch: it is dropped,
// never committed after the failure, and the wallet answers it unavailable. (A write that
// reaches the wallet only after the failure is decided afresh once it has reloaded: committed
// and accepted. Either way, what is answered unavailable left no trace.)
TEST_F(runtime_test, a_write_waiting_behind_a_failed_batch_is_not_committed) {
  runtime_settings settings;
  settings.commits_in_flight_max = 2;  // a committer idle: the write waits for its wallet only
  start(settings);
  for (int round = 0; round < 5; ++round) {
    const std::string a = wallet_on(0, "a" + std::to_string(round) + "-");
    open(a, 10);
    db->hold_commits();
    db->fail_next_commits = 1;
    auto a1 = rt->submit({a, "a1", engine::deposit{eur_(1)}});
    ASSERT_TRUE(eventually([&] { return db->committing_in(0) == 1; }));
    auto a2 = rt->submit({a, "a2", engine::deposit{eur_(2)}});
    db->release_commits();
    ASSERT_EQ(a1.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(a1.get().error, submit_errc::unavailable);
    ASSERT_EQ(a2.wait_for(10s), std::future_status::ready);
    const auto second = a2.get();
    EXPECT_TRUE(second.accepted() || second.error == submit_errc::unavailable);
    EXPECT_EQ(run({a, "a2", engine::deposit{eur_(2)}}).replayed, second.accepted())
        << "answered unavailable must mean not applied";
    EXPECT_FALSE(run({a, "a1", engine::deposit{eur_(1)}}).replayed);
    EXPECT_EQ(balance(a), 13);
  }
}

// Many wallets of few shards under load, transfers among them: never a wallet in two commits at
// once, never more commits of a shard than the setting, and the money adds up.
void runtime_test::transfer_among_wallets_with_commits_in_flight(std::size_t limit) {
  runtime_settings settings;
  settings.commits_in_flight_max = limit;
  start(settings);
  db->commit_delay_ms = 1;
  constexpr std::uint32_t wallets = 12;
  const auto name = [](std::uint64_t i) { return "w" + std::to_string(i); };
  for (std::uint32_t i = 0; i < wallets; ++i) open(name(i), 1'000);
  std::vector<std::future<submit_outcome>> futures;
  std::mt19937 random{7};
  for (int i = 0; i < 300; ++i) {
    const std::string n = std::to_string(i);
    const std::int64_t amount = 1 + static_cast<std::int64_t>(random() % 5);
    const std::string from = name(random() % wallets);
    const std::string to = name(random() % wallets);
    futures.push_back(
        rt->submit({from, "t" + n, engine::transfer_debit{"tr" + n, to, eur_(amount)}}));
  }
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    const auto o = f.get();
    EXPECT_FALSE(o.error.has_value()) << to_string(*o.error);
  }
  const auto total = [&] {
    std::int64_t sum = 0;
    for (std::uint32_t i = 0; i < wallets; ++i) sum += balance(name(i));
    return sum;
  };
  EXPECT_TRUE(eventually([&] { return total() == 1'000 * wallets; }, 20s))
      << "every credit lands: " << total();
  EXPECT_EQ(db->wallet_overlaps, 0U);
  for (std::uint32_t shard = 0; shard < shards; ++shard) {
    EXPECT_LE(db->committing_max_in(shard), limit);
  }
}

TEST_F(runtime_test, one_commit_in_flight_per_shard_keeps_wallets_apart_and_money_exact) {
  transfer_among_wallets_with_commits_in_flight(1);
}

TEST_F(runtime_test, three_commits_in_flight_per_shard_keep_wallets_apart_and_money_exact) {
  transfer_among_wallets_with_commits_in_flight(3);
}

TEST_F(runtime_test, more_wallets_than_the_resident_limit_stay_correct) {
  runtime_settings settings;
  settings.wallets_resident_max = 8;  // 2 per shard
  start(settings);
  constexpr int wallets = 60;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < wallets; ++i) {
      const std::string id = "p-" + std::to_string(i);
      if (round == 0) {
        open(id);
      }
      const auto o = run({id, "r" + std::to_string(round), engine::deposit{eur_(i + 1)}});
      ASSERT_TRUE(o.accepted()) << id;
      EXPECT_EQ(o.result.balance, (i + 1) * (round + 1));
    }
  }
  // Replays still work after passivation: keys were reloaded with the state.
  EXPECT_TRUE(run({"p-0", "r0", engine::deposit{eur_(1)}}).replayed);
}

TEST_F(runtime_test, holds_expire_by_timer) {
  start();
  open("frank", 500);
  const auto now = std::chrono::time_point_cast<engine::duration>(std::chrono::system_clock::now());
  ASSERT_TRUE(run({"frank", "h", engine::hold_place{"h-1", eur_(200), now + 150ms}}).accepted());
  EXPECT_TRUE(eventually([&] {
    const auto w = db->wallet("frank");
    return w && w->holds.empty() && w->held == 0;
  }));
  EXPECT_EQ(balance("frank"), 500);
}

TEST_F(runtime_test, a_busy_wallet_answers_overloaded_past_its_in_flight_limit) {
  runtime_settings settings;
  settings.wallet_inflight_max = 4;
  settings.flush_interval = 20ms;
  start(settings);
  open("gina", 0);
  db->down = true;  // nothing commits quickly: commands pile up
  std::vector<std::future<submit_outcome>> futures;
  for (int i = 0; i < 40; ++i) {
    futures.push_back(rt->submit({"gina", "x" + std::to_string(i), engine::deposit{eur_(1)}}));
  }
  int overloaded = 0;
  for (auto& f : futures) {
    if (f.get().error == submit_errc::overloaded) ++overloaded;
  }
  EXPECT_GT(overloaded, 0);
}

TEST_F(runtime_test, a_busy_wallet_still_takes_the_credits_of_admitted_transfers) {
  runtime_settings settings;
  settings.wallet_inflight_max = 2;
  settings.flush_interval = 20ms;  // commits are slow: credits pile up on the destination
  start(settings);
  constexpr int payers = 24;
  open("payee", 0);
  for (int i = 0; i < payers; ++i) open("payer" + std::to_string(i), 10);
  std::vector<std::future<submit_outcome>> debits;
  for (int i = 0; i < payers; ++i) {
    debits.push_back(
        rt->submit({"payer" + std::to_string(i), "t",
                    engine::transfer_debit{"t" + std::to_string(i), "payee", eur_(10)}}));
  }
  for (auto& f : debits) ASSERT_TRUE(f.get().accepted());
  ASSERT_TRUE(eventually([&] { return balance("payee") == 10 * payers; }));
  EXPECT_EQ(probe->legs_overloaded.load(), 0) << "a credit was pushed back by the in-flight limit";
}

TEST_F(runtime_test, a_dead_store_actor_marks_the_runtime_failed) {
  start();
  open("ivy", 0);
  EXPECT_FALSE(rt->failure().has_value());
  db->throw_next_commit = true;
  auto pending = rt->submit({"ivy", "d1", engine::deposit{eur_(1)}});
  EXPECT_TRUE(eventually([&] { return rt->failure().has_value(); }));
  EXPECT_NE(rt->failure().value_or("").find("store actor of shard"), std::string::npos);
  // Stopping answers what the dead actor left behind.
  rt->stop(100ms);
  EXPECT_EQ(pending.wait_for(5s), std::future_status::ready);
}

TEST_F(runtime_test, stop_refuses_new_work_and_answers_everything) {
  start();
  open("hank", 0);
  EXPECT_TRUE(rt->stop(2s));
  EXPECT_EQ(run({"hank", "late", engine::deposit{eur_(1)}}).error, submit_errc::shutting_down);
}

runtime_settings owning(std::vector<std::uint32_t> shards) {
  runtime_settings s;
  s.owned_shards = std::move(shards);
  return s;
}

TEST_F(runtime_test, an_instance_refuses_wallets_of_shards_it_does_not_own) {
  start(owning({0, 1}));
  const std::string mine = wallet_on(1, "mine");
  const std::string theirs = wallet_on(2, "theirs");
  open(mine, 10);
  EXPECT_EQ(run({theirs, "open", engine::open_wallet{"owner", eur, 0}}).error,
            submit_errc::not_owner);
  EXPECT_FALSE(db->wallet(theirs).has_value());
}

// The remote port's side of one instance: records every leg and answers it with `answer`.
struct fake_remote {
  std::mutex mutex;
  std::vector<engine::command> legs;
  std::function<submit_outcome(const engine::command&)> answer;

  runtime::remote_submit port() {
    return [this](engine::command cmd, completion done) {
      submit_outcome out = answer(cmd);
      {
        std::lock_guard lock{mutex};
        legs.push_back(std::move(cmd));
      }
      done(std::move(out));
    };
  }
  std::size_t count() {
    std::lock_guard lock{mutex};
    return legs.size();
  }
};

TEST_F(runtime_test, a_credit_to_a_remote_shard_goes_through_the_remote_port) {
  fake_remote remote;
  remote.answer = [](const engine::command&) { return submit_outcome{}; };  // accepted
  start(owning({0}), remote.port());
  const std::string src = wallet_on(0, "src");
  const std::string dst = wallet_on(3, "dst");
  open(src, 1'000);
  ASSERT_TRUE(run({src, "t1", engine::transfer_debit{"tr-r1", dst, eur_(250)}}).accepted());
  ASSERT_TRUE(eventually([&] { return remote.count() > 0; }));
  std::lock_guard lock{remote.mutex};
  const engine::command& leg = remote.legs.front();
  EXPECT_EQ(leg.wallet_id, dst);
  EXPECT_EQ(leg.idempotency_key, credit_key(src, "tr-r1"));
  ASSERT_TRUE(std::holds_alternative<engine::transfer_credit>(leg.body));
  EXPECT_EQ(std::get<engine::transfer_credit>(leg.body).amount, eur_(250));
  EXPECT_EQ(balance(src), 750);  // the money is in flight, with the other instance
}

TEST_F(runtime_test, a_credit_the_remote_instance_rejects_is_reversed_here) {
  fake_remote remote;
  remote.answer = [](const engine::command&) {
    submit_outcome out;
    out.result.rejected = engine::rejection::currency_mismatch;
    return out;
  };
  start(owning({0}), remote.port());
  const std::string src = wallet_on(0, "payer");
  open(src, 1'000);
  ASSERT_TRUE(
      run({src, "t1", engine::transfer_debit{"tr-r2", wallet_on(2, "far"), eur_(400)}}).accepted());
  EXPECT_TRUE(eventually([&] {
    const auto t = db->transfer(src, "tr-r2");
    return t && t->status == transfer_status::reversed;
  }));
  EXPECT_EQ(balance(src), 1'000);
}

TEST_F(runtime_test, two_instances_complete_transfers_between_their_wallets) {
  // Each instance's remote port is the other's internal intake, as NATS would carry it.
  const auto to = [](std::unique_ptr<runtime>& target) -> runtime::remote_submit {
    return [&target](engine::command cmd, completion done) {
      target->submit_internal(std::move(cmd), [done](submit_outcome o) { done(std::move(o)); });
    };
  };
  start(owning({0, 1}), to(rt2));
  start_second(owning({2, 3}), to(rt));
  const std::string a = wallet_on(0, "a");
  const std::string b = wallet_on(3, "b");
  open(a, 1'000);
  ASSERT_TRUE(rt2->submit({b, "open-b", engine::open_wallet{"owner", eur, 0}}).get().accepted());
  ASSERT_TRUE(run({a, "t1", engine::transfer_debit{"tr-x1", b, eur_(300)}}).accepted());
  // b spends what it was sent: only once the credit has crossed over.
  ASSERT_TRUE(eventually([&] { return balance(b) == 300; }));
  ASSERT_TRUE(
      rt2->submit({b, "t2", engine::transfer_debit{"tr-x2", a, eur_(100)}}).get().accepted());
  EXPECT_TRUE(eventually([&] {
    const auto t1 = db->transfer(a, "tr-x1");
    const auto t2 = db->transfer(b, "tr-x2");
    return t1 && t2 && t1->status == transfer_status::completed &&
           t2->status == transfer_status::completed;
  }));
  EXPECT_EQ(balance(a), 800);
  EXPECT_EQ(balance(b), 200);
}

// ---- Compliance: feature flags and the KYC policy, swapped while the runtime runs. ----------

std::shared_ptr<const engine::feature_flags> flags_with(
    const std::function<void(engine::feature_flags&)>& change) {
  engine::feature_flags f;
  change(f);
  return std::make_shared<const engine::feature_flags>(f);
}

TEST_F(runtime_test, a_flag_refuses_new_commands_and_the_same_key_succeeds_once_it_is_on) {
  start();
  open("fa", 1'000);
  open("fb");
  rt->compliance().set_flags(flags_with([](auto& f) {
    f.accept_transfers = false;
    f.accept_new_wallets = false;
  }));
  const engine::command transfer{"fa", "tr-1", engine::transfer_debit{"t-1", "fb", eur_(100)}};
  const submit_outcome off = run(transfer);
  ASSERT_FALSE(off.error.has_value());
  EXPECT_EQ(off.result.rejected, engine::rejection::feature_disabled);
  EXPECT_EQ(off.result.balance, 1'000) << "answered with the wallet's state";
  const submit_outcome no_open = run({"fc", "open-fc", engine::open_wallet{"owner", eur, 0}});
  EXPECT_EQ(no_open.result.rejected, engine::rejection::feature_disabled);
  EXPECT_FALSE(db->wallet("fc").has_value()) << "nothing written";
  // Money may still leave: a withdrawal is never refused by a flag.
  EXPECT_TRUE(run({"fa", "wd-1", engine::withdraw{eur_(10)}}).accepted());

  rt->compliance().set_flags(std::make_shared<const engine::feature_flags>());
  const submit_outcome on = run(transfer);  // the same key: it was not remembered
  EXPECT_TRUE(on.accepted()) << (on.result.rejected ? engine::code(*on.result.rejected) : "");
  EXPECT_FALSE(on.replayed);
  EXPECT_TRUE(run({"fc", "open-fc", engine::open_wallet{"owner", eur, 0}}).accepted());
  EXPECT_TRUE(eventually([&] { return balance("fb") == 100; }));
  std::lock_guard lock{probe->mutex};
  EXPECT_EQ(std::count(probe->answered.begin(), probe->answered.end(),
                       std::pair<std::string, bool>{"transfer_debit", true}),
            1)
      << "the refusal was reported (and counted) under its command";
}

TEST_F(runtime_test, a_repeat_of_an_applied_command_is_its_outcome_even_while_a_flag_is_off) {
  start();
  open("ra", 1'000);
  open("rb");
  const engine::command transfer{"ra", "tr-1", engine::transfer_debit{"t-1", "rb", eur_(100)}};
  const submit_outcome first = run(transfer);
  ASSERT_TRUE(first.accepted());
  rt->compliance().set_flags(flags_with([](auto& f) { f.accept_transfers = false; }));
  const submit_outcome again = run(transfer);
  EXPECT_TRUE(again.replayed) << "a client retrying must learn that the transfer happened";
  EXPECT_EQ(again.result, first.result);
}

TEST_F(runtime_test, a_flag_never_blocks_a_leg_of_a_transfer_already_debited) {
  // The credit crosses to another instance through a port the test holds: the flags of both
  // instances are switched off while it is in flight, and it still lands.
  std::mutex mutex;
  std::vector<std::pair<engine::command, completion>> held;
  start(owning({0, 1}), [&](engine::command cmd, completion done) {
    std::lock_guard lock{mutex};
    held.emplace_back(std::move(cmd), std::move(done));
  });
  start_second(owning({2, 3}), {});
  const std::string a = wallet_on(0, "leg-a");
  const std::string b = wallet_on(3, "leg-b");
  open(a, 1'000);
  ASSERT_TRUE(rt2->submit({b, "open-b", engine::open_wallet{"owner", eur, 0}}).get().accepted());
  ASSERT_TRUE(run({a, "t1", engine::transfer_debit{"tr-leg", b, eur_(300)}}).accepted());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mutex};
    return !held.empty();
  }));
  const auto everything_off = flags_with([](auto& f) {
    f.accept_transfers = false;
    f.accept_new_wallets = false;
    f.currencies_by_default = false;
  });
  rt->compliance().set_flags(everything_off);
  rt2->compliance().set_flags(everything_off);
  std::pair<engine::command, completion> leg;
  {
    std::lock_guard lock{mutex};
    leg = std::move(held.front());
  }
  auto done = std::make_shared<std::promise<submit_outcome>>();
  rt2->submit_internal(std::move(leg.first), [done, answer = leg.second](submit_outcome o) {
    done->set_value(o);
    answer(std::move(o));
  });
  const submit_outcome credited = done->get_future().get();
  EXPECT_TRUE(credited.accepted())
      << (credited.result.rejected ? engine::code(*credited.result.rejected)
                                   : actors::to_string(*credited.error));
  EXPECT_TRUE(eventually([&] {
    const auto t = db->transfer(a, "tr-leg");
    return t && t->status == transfer_status::completed;
  }));
  EXPECT_EQ(balance(b), 300);
}

TEST_F(runtime_test, a_reversal_lands_while_every_flag_is_off) {
  fake_remote remote;
  remote.answer = [](const engine::command&) {
    submit_outcome out;
    out.result.rejected = engine::rejection::kyc_balance_limit_exceeded;  // the payee's ceiling
    return out;
  };
  start(owning({0}), remote.port());
  const std::string src = wallet_on(0, "rev");
  open(src, 1'000);
  // Flags on for the debit itself, off from then on, while its credit is refused and reversed.
  ASSERT_TRUE(run({src, "t1", engine::transfer_debit{"tr-rev", wallet_on(2, "far"), eur_(400)}})
                  .accepted());
  rt->compliance().set_flags(flags_with([](auto& f) {
    f.accept_transfers = false;
    f.currencies_by_default = false;
  }));
  EXPECT_TRUE(eventually([&] {
    const auto t = db->transfer(src, "tr-rev");
    return t && t->status == transfer_status::reversed;
  }));
  EXPECT_EQ(balance(src), 1'000);
}

engine::policy withdrawals_up_to(std::int64_t single_max) {
  engine::policy p = engine::policy::unlimited();
  p.set(engine::kyc::none, eur, engine::kyc_limits{std::nullopt, single_max, std::nullopt});
  return p;
}

TEST_F(runtime_test, a_policy_swap_applies_from_the_next_decision) {
  start();
  open("pa", 10'000);
  rt->compliance().set_policy(std::make_shared<const engine::policy>(withdrawals_up_to(100)));
  EXPECT_EQ(run({"pa", "w1", engine::withdraw{eur_(101)}}).result.rejected,
            engine::rejection::kyc_withdrawal_limit_exceeded);
  EXPECT_TRUE(run({"pa", "w2", engine::withdraw{eur_(100)}}).accepted());
  // A level is per wallet: verified, the same wallet is under full's limits (none here).
  ASSERT_TRUE(run({"pa", "kyc", engine::set_kyc_level{engine::kyc::full, "verified"}}).accepted());
  EXPECT_TRUE(run({"pa", "w3", engine::withdraw{eur_(5'000)}}).accepted());
  ASSERT_TRUE(run({"pa", "kyc2", engine::set_kyc_level{engine::kyc::none, "expired"}}).accepted());
  rt->compliance().set_policy(std::make_shared<const engine::policy>(engine::policy::unlimited()));
  EXPECT_TRUE(run({"pa", "w4", engine::withdraw{eur_(1'000)}}).accepted());
  EXPECT_EQ(balance("pa"), 10'000 - 100 - 5'000 - 1'000);
}

TEST_F(runtime_test, policy_swaps_under_load_leave_every_command_answered_and_money_exact) {
  start();
  constexpr int wallets = 8;
  constexpr int per_wallet = 40;
  for (int w = 0; w < wallets; ++w) open("load-" + std::to_string(w), 100'000);
  std::atomic<bool> swapping{true};
  std::thread swapper{[&] {
    bool tight = false;
    while (swapping) {
      tight = !tight;
      rt->compliance().set_policy(std::make_shared<const engine::policy>(
          tight ? withdrawals_up_to(50) : engine::policy::unlimited()));
      std::this_thread::sleep_for(200us);
    }
  }};
  std::vector<std::future<submit_outcome>> answers;
  std::vector<std::int64_t> amounts;
  for (int i = 0; i < per_wallet; ++i) {
    for (int w = 0; w < wallets; ++w) {
      const std::int64_t amount = 1 + (i * 7 + w) % 100;  // half above the tight limit
      amounts.push_back(amount);
      answers.push_back(rt->submit(
          {"load-" + std::to_string(w), "w-" + std::to_string(i), engine::withdraw{eur_(amount)}}));
    }
  }
  std::int64_t withdrawn = 0;
  int limited = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    ASSERT_EQ(answers[i].wait_for(10s), std::future_status::ready);
    const submit_outcome o = answers[i].get();
    if (o.error) {
      EXPECT_EQ(*o.error, submit_errc::overloaded) << "only the wallet's bound may refuse";
      continue;
    }
    if (o.accepted()) {
      withdrawn += amounts[i];
    } else {
      EXPECT_EQ(o.result.rejected, engine::rejection::kyc_withdrawal_limit_exceeded);
      EXPECT_GT(amounts[i], 50) << "only an amount above the tight limit can be refused";
      ++limited;
    }
  }
  swapping = false;
  swapper.join();
  std::int64_t left = 0;
  for (int w = 0; w < wallets; ++w) left += balance("load-" + std::to_string(w));
  EXPECT_EQ(left, std::int64_t{wallets} * 100'000 - withdrawn)
      << "every accepted withdrawal, exactly once";
  RecordProperty("limited", limited);
}

TEST_F(runtime_test, the_kyc_level_and_the_days_total_survive_a_restart) {
  start();
  rt->compliance().set_policy(std::make_shared<const engine::policy>([] {
    engine::policy p = engine::policy::unlimited();
    p.set(engine::kyc::basic, eur, engine::kyc_limits{std::nullopt, std::nullopt, 500});
    return p;
  }()));
  open("ka", 10'000);
  ASSERT_TRUE(run({"ka", "kyc", engine::set_kyc_level{engine::kyc::basic, "verified"}}).accepted());
  ASSERT_TRUE(run({"ka", "w1", engine::withdraw{eur_(500)}}).accepted());
  const auto stored = db->wallet("ka");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->kyc_level, engine::kyc::basic);
  EXPECT_EQ(stored->outgoing_today, 500);
  // A fresh runtime over the same store loads the wallet again: the day is already used up (if
  // the test runs across UTC midnight, the new day allows it: then the level is what is checked).
  const auto policy = rt->compliance().policy();
  rt->stop(2s);
  runtime_settings settings;
  settings.shards = shards;
  rt = std::make_unique<runtime>(*system, settings, store_factory(), probe);
  rt->compliance().set_policy(policy);
  const submit_outcome after = run({"ka", "w2", engine::withdraw{eur_(1)}});
  const auto reloaded = db->wallet("ka");
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ(reloaded->kyc_level, engine::kyc::basic);
  if (reloaded->outgoing_day == stored->outgoing_day) {
    EXPECT_EQ(after.result.rejected, engine::rejection::kyc_daily_limit_exceeded);
  }
}

// ---- dormant wallets (ADR 0010)

TEST_F(runtime_test, an_idle_wallet_goes_dormant_and_wakes_with_its_state_without_a_load) {
  runtime_settings settings;
  settings.wallets_live_max = 0;  // every idle wallet goes dormant
  start(settings);
  const std::uint32_t shard = engine::shard_of("dora", shards);
  open("dora", 500);
  ASSERT_TRUE(eventually([&] { return probe->dormant_in(shard) == 1; }));
  const std::size_t loads = db->loads;
  const std::size_t commits = db->commits;

  // A repeated key after waking is a replay, answered from the kept window: no load, no write.
  const auto again = run({"dora", "dep-dora", engine::deposit{eur_(500)}});
  EXPECT_TRUE(again.accepted());
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result.balance, 500);
  EXPECT_EQ(db->loads, loads);
  EXPECT_EQ(db->commits, commits);

  // A new command after waking again continues from the kept balance and version.
  ASSERT_TRUE(eventually([&] { return probe->dormant_in(shard) == 1; }));
  const auto next = run({"dora", "d2", engine::deposit{eur_(250)}});
  ASSERT_TRUE(next.accepted());
  EXPECT_FALSE(next.replayed);
  EXPECT_EQ(next.result.balance, 750);
  ASSERT_TRUE(next.event.has_value());
  EXPECT_EQ(next.event->seq, 3U);  // open 1, deposit 2
  EXPECT_EQ(db->loads, loads) << "woken from the kept state, not from the store";
  EXPECT_EQ(db->commits, commits + 1);
  const auto stored = db->wallet("dora");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->version, 3U);
  EXPECT_EQ(stored->balance, 750);
  EXPECT_TRUE(eventually([&] { return probe->dormant_in(shard) == 1; }));
}

TEST_F(runtime_test, commands_racing_the_hand_over_are_neither_lost_nor_applied_twice) {
  runtime_settings settings;
  settings.wallets_live_max = 0;
  settings.wallet_inflight_max = 1'024;
  start(settings);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(wallet_on(0, "race" + std::to_string(i) + "-"));
    open(ids.back());
  }
  // Bursts with short pauses: a wallet goes idle and is asked to go dormant while the next
  // burst's commands reach the router.
  constexpr int commands = 3'000;
  std::mt19937 rng(7);
  std::vector<std::pair<std::size_t, std::future<submit_outcome>>> futures;
  for (int i = 0; i < commands; ++i) {
    const std::size_t w = static_cast<std::size_t>(i) % ids.size();
    futures.emplace_back(
        w, rt->submit({ids[w], "k" + std::to_string(i), engine::deposit{eur_(i + 1)}}));
    if (i % 5 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds{rng() % 400});
    }
  }
  std::vector<std::int64_t> expected(ids.size(), 0);
  std::vector<std::uint64_t> last_seq(ids.size(), 1);  // the open is seq 1
  for (std::size_t i = 0; i < futures.size(); ++i) {
    auto& [w, f] = futures[i];
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready) << "command " << i << " lost";
    const auto o = f.get();
    ASSERT_TRUE(o.accepted()) << "command " << i;
    ASSERT_TRUE(o.event.has_value());
    EXPECT_EQ(o.event->seq, last_seq[w] + 1) << "command " << i << " out of order";
    last_seq[w] = o.event->seq;
    expected[w] += static_cast<std::int64_t>(i) + 1;
  }
  for (std::size_t w = 0; w < ids.size(); ++w) {
    EXPECT_EQ(balance(ids[w]), expected[w]) << ids[w];
    EXPECT_EQ(db->events()[ids[w]].size(), last_seq[w]) << ids[w] << ": one event per command";
  }
  EXPECT_GE(probe->dormant_max_in(0), 1U) << "the wallets did go dormant";
  EXPECT_EQ(db->loads, ids.size()) << "every wake-up came from the kept state";
  // Every key applied once: the repeats change nothing.
  const std::size_t commits = db->commits;
  for (int i = 0; i < commands; i += 50) {
    const std::size_t w = static_cast<std::size_t>(i) % ids.size();
    EXPECT_TRUE(run({ids[w], "k" + std::to_string(i), engine::deposit{eur_(i + 1)}}).replayed);
  }
  EXPECT_EQ(db->commits, commits);
}

TEST_F(runtime_test, a_wallet_with_a_hold_never_goes_dormant) {
  runtime_settings settings;
  settings.wallets_live_max = 0;
  start(settings);
  const std::string holder = wallet_on(1, "holder");
  const std::string other = wallet_on(1, "other");
  open(holder, 500);
  ASSERT_TRUE(eventually([&] { return probe->dormant_in(1) == 1; }));
  const auto now = std::chrono::time_point_cast<engine::duration>(std::chrono::system_clock::now());
  ASSERT_TRUE(run({holder, "h", engine::hold_place{"h-1", eur_(200), now + 2s}}).accepted());
  // The other wallet of the shard goes dormant; the holder, asked too, declines.
  open(other);
  ASSERT_TRUE(eventually([&] { return probe->dormant_in(1) == 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(probe->dormant_in(1), 1U) << "the holder went dormant with a hold";
  const auto held = db->wallet(holder);
  ASSERT_TRUE(held.has_value());
  ASSERT_EQ(held->holds.size(), 1U) << "the hold expired too early for this test";
  // Its timer still fires; once the hold is gone the holder goes dormant like any other.
  EXPECT_TRUE(eventually(
      [&] {
        const auto w = db->wallet(holder);
        return w && w->holds.empty() && probe->dormant_in(1) == 2;
      },
      10s));
  EXPECT_EQ(balance(holder), 500);
}

TEST_F(runtime_test, dormant_wallets_are_evicted_past_the_resident_limit) {
  runtime_settings settings;
  settings.wallets_resident_max = 8;  // 2 per shard
  settings.wallets_live_max = 0;
  start(settings);
  constexpr int wallets = 40;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < wallets; ++i) {
      const std::string id = "ev-" + std::to_string(i);
      if (round == 0) {
        open(id);
      }
      const auto o = run({id, "r" + std::to_string(round), engine::deposit{eur_(i + 1)}});
      ASSERT_TRUE(o.accepted()) << id;
      EXPECT_EQ(o.result.balance, (i + 1) * (round + 1));
    }
  }
  // Round two found few wallets resident: the others were evicted and loaded again.
  EXPECT_GE(db->loads, std::size_t{2 * wallets - 8});
  for (std::uint32_t shard = 0; shard < shards; ++shard) {
    EXPECT_LE(probe->dormant_max_in(shard), 2U) << "shard " << shard;
  }
  // Replays still work after eviction: the keys were loaded with the state.
  EXPECT_TRUE(run({"ev-0", "r0", engine::deposit{eur_(1)}}).replayed);
}

// ADR 0017: a hot wallet takes more commands than its resident window holds; a repeat of an
// evicted key waits for the store's lookup and is answered its original outcome, in order.
TEST_F(runtime_test, a_repeat_of_an_evicted_key_waits_for_its_lookup_and_answers_in_order) {
  runtime_settings settings;
  settings.idempotency_keys_resident = 4;
  start(settings);
  open("hot", 0);
  std::vector<submit_outcome> firsts;
  for (int i = 0; i < 10; ++i) {
    firsts.push_back(run({"hot", "d" + std::to_string(i), engine::deposit{eur_(1 + i)}}));
    ASSERT_TRUE(firsts.back().accepted()) << i;  // never idempotency_window_full
  }
  EXPECT_EQ(balance("hot"), 55);
  EXPECT_EQ(probe->evicted.load(), 7);  // open-hot, d0 .. d5
  const std::size_t lookups_before = db->key_lookups.load();

  db->hold_lookups();
  auto repeat = rt->submit({"hot", "d0", engine::deposit{eur_(1)}});
  std::vector<std::future<submit_outcome>> later;
  for (int i = 0; i < 3; ++i) {
    later.push_back(rt->submit({"hot", "n" + std::to_string(i), engine::deposit{eur_(100)}}));
  }
  auto resident_repeat = rt->submit({"hot", "d9", engine::deposit{eur_(10)}});
  ASSERT_TRUE(eventually([&] { return db->lookups_waiting() == 1; }));
  // Everything behind the lookup waits for it: nothing is decided or answered out of order.
  EXPECT_NE(repeat.wait_for(0s), std::future_status::ready);
  for (auto& f : later) EXPECT_NE(f.wait_for(0s), std::future_status::ready);
  EXPECT_NE(resident_repeat.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(balance("hot"), 55);
  db->release_lookups();

  const submit_outcome again = repeat.get();
  ASSERT_FALSE(again.error);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, firsts[0].result) << "the original outcome, from the store";
  std::uint64_t seq = firsts.back().event->seq;
  for (auto& f : later) {
    const submit_outcome o = f.get();
    ASSERT_TRUE(o.accepted());
    ASSERT_FALSE(o.replayed);
    EXPECT_EQ(o.event->seq, seq + 1);
    seq = o.event->seq;
  }
  EXPECT_TRUE(resident_repeat.get().replayed);
  EXPECT_EQ(balance("hot"), 355) << "the repeat applied nothing";
  EXPECT_EQ(db->key_lookups.load(), lookups_before + 1);
  EXPECT_EQ(probe->lookups_of("found"), 1);

  // Other content under an evicted key is a conflict, and changes nothing.
  const auto conflict = run({"hot", "d1", engine::deposit{eur_(999)}});
  EXPECT_EQ(conflict.result.rejected, engine::rejection::idempotency_conflict);
  EXPECT_EQ(balance("hot"), 355);
  EXPECT_EQ(probe->lookups_of("found"), 2);
}

TEST_F(runtime_test, a_failed_key_lookup_answers_unavailable_and_applies_nothing) {
  runtime_settings settings;
  settings.idempotency_keys_resident = 2;
  start(settings);
  open("hot", 0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(run({"hot", "d" + std::to_string(i), engine::deposit{eur_(1)}}).accepted());
  }
  db->lookups_down = true;
  const auto failed = run({"hot", "d0", engine::deposit{eur_(1)}});
  EXPECT_EQ(failed.error, submit_errc::unavailable);
  EXPECT_EQ(balance("hot"), 5);
  EXPECT_EQ(probe->lookups_of("failed"), 1);
  // The wallet goes on: a new key needs no lookup.
  ASSERT_TRUE(run({"hot", "d5", engine::deposit{eur_(1)}}).accepted());
  EXPECT_EQ(balance("hot"), 6);
  // The sender's retry, once the database answers, is the original outcome.
  db->lookups_down = false;
  const auto retried = run({"hot", "d0", engine::deposit{eur_(1)}});
  ASSERT_FALSE(retried.error);
  EXPECT_TRUE(retried.replayed);
  EXPECT_EQ(balance("hot"), 6);
}

TEST_F(runtime_test, a_reloaded_wallet_finds_its_older_keys_through_the_filter) {
  runtime_settings settings;
  settings.idempotency_keys_resident = 3;
  start(settings);
  open("hot", 0);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(run({"hot", "d" + std::to_string(i), engine::deposit{eur_(1)}}).accepted());
  }
  // A failed commit drops the wallet's state: it reloads the newest 3 keys, the others into its
  // filter.
  const std::size_t loads = db->loads.load();
  db->fail_next_commits = 1;
  EXPECT_EQ(run({"hot", "x", engine::deposit{eur_(1)}}).error, submit_errc::unavailable);
  ASSERT_TRUE(eventually([&] { return db->loads.load() > loads; }));
  for (int i = 0; i < 8; ++i) {
    const auto o = run({"hot", "d" + std::to_string(i), engine::deposit{eur_(1)}});
    ASSERT_FALSE(o.error) << i;
    EXPECT_TRUE(o.replayed) << i;
  }
  EXPECT_EQ(run({"hot", "open-hot", engine::open_wallet{"owner", eur, 0}}).replayed, true);
  EXPECT_EQ(balance("hot"), 8);
  EXPECT_GE(probe->lookups_of("found"), 6);
}

}  // namespace
}  // namespace wallet::actors
