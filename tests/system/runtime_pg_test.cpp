// The actor runtime over the real PostgreSQL store: concurrent duplicated load, killed
// connections, passivation — then every answered success is durable, nothing is applied twice,
// and the database reconciles.
#include "runtime_pg_fixture.hpp"

namespace wallet::system_test {
namespace {

TEST_F(runtime_pg_test, sixty_four_submitters_every_command_twice) {
  start_runtime();
  constexpr int wallets = 1'000;
  open_wallets(wallets);
  auto plan = random_commands(wallets, 20'000, 42);
  run_twice(plan, 64);
  ASSERT_TRUE(transfers_settled(60s));
  expect_applied_exactly_once(plan);
  expect_reconciled(net_deposits(plan, wallets));
}

TEST_F(runtime_pg_test, killed_database_connections_lose_and_duplicate_nothing) {
  start_runtime();
  constexpr int wallets = 200;
  open_wallets(wallets);
  auto plan = random_commands(wallets, 5'000, 7);
  std::atomic<bool> running{true};
  std::atomic<long> killed{0};
  // Kills every connection each 150 ms, but only once the engine has decided some commands since
  // the last kill: the run always progresses, however slow the machine (reconnecting under load
  // can take longer than the interval), and still loses its connections dozens of times.
  constexpr long progress_between_kills = 100;
  auto killer = std::async(std::launch::async, [&] {
    long decided_at_kill = -progress_between_kills;
    while (running) {
      std::this_thread::sleep_for(150ms);
      if (decided_.load() - decided_at_kill < progress_between_kills) continue;
      decided_at_kill = decided_.load();
      killed += sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND pid <> pg_backend_pid() AND "
                    "backend_type = 'client backend'")[0][0]
                    .as<long>();
    }
  });
  run_twice(plan, 32);
  running = false;
  killer.get();
  EXPECT_GT(killed.load(), 0) << "the test killed no connection";
  EXPECT_GT(refusals_.load(), 0) << "no command saw a killed connection";
  ASSERT_TRUE(transfers_settled(60s));
  expect_applied_exactly_once(plan);
  expect_reconciled(net_deposits(plan, wallets));
}

TEST_F(runtime_pg_test, more_wallets_than_resident_stay_correct) {
  actors::runtime_settings settings;
  settings.wallets_resident_max = 64;  // 16 per shard, 500 wallets
  start_runtime(settings);
  constexpr int wallets = 500;
  open_wallets(wallets);
  auto plan = random_commands(wallets, 3'000, 99);
  run_twice(plan, 16);
  ASSERT_TRUE(transfers_settled(60s));
  expect_applied_exactly_once(plan);
  expect_reconciled(net_deposits(plan, wallets));
}

// The engine cannot see every transfer id a wallet ever used (only its idempotency window); the
// database can: (source, transfer id) is the transfers table's key. A reused id under a new key is
// refused there, alone: the rest of its batch commits.
TEST_F(runtime_pg_test, a_reused_transfer_id_is_refused_alone) {
  actors::runtime_settings settings;
  settings.flush_interval = 50ms;  // the concurrent commands below share batches
  start_runtime(settings);
  constexpr int wallets = 40;
  open_wallets(wallets);
  const engine::money one{1, eur};
  ASSERT_TRUE(
      decide({wallet(0), "first", engine::transfer_debit{"t-1", wallet(1), one}}).accepted());
  std::vector<std::future<submit_outcome>> others;
  auto reused =
      runtime_->submit({wallet(0), "again", engine::transfer_debit{"t-1", wallet(2), one}});
  for (int i = 3; i < wallets; ++i) {
    others.push_back(runtime_->submit(
        {wallet(i), "d", engine::deposit{engine::money{static_cast<std::int64_t>(i), eur}}}));
  }
  EXPECT_EQ(reused.get().error, submit_errc::write_refused);
  for (auto& f : others) {
    EXPECT_TRUE(f.get().accepted());
  }
  // Refused again on a retry, never applied; the wallet still serves its next command.
  EXPECT_EQ(runtime_->submit({wallet(0), "again", engine::transfer_debit{"t-1", wallet(2), one}})
                .get()
                .error,
            submit_errc::write_refused);
  EXPECT_TRUE(
      decide({wallet(0), "next", engine::transfer_debit{"t-2", wallet(2), one}}).accepted());
  ASSERT_TRUE(transfers_settled(60s));
  std::int64_t deposited = opening_balance * wallets;
  for (int i = 3; i < wallets; ++i) deposited += i;
  expect_reconciled(deposited);
  EXPECT_EQ(
      sql("SELECT count(*) FROM wallet_events WHERE idempotency_key = 'again'")[0][0].as<long>(),
      0);
}

// ADR 0017: a hot wallet takes many more commands than its resident window holds (no
// idempotency_window_full); repeats of early keys, evicted from memory, are answered their
// original outcome from PostgreSQL, also after a restart reloads the wallet; nothing applies twice.
TEST_F(runtime_pg_test, a_hot_wallet_takes_more_commands_than_its_window_and_repeats_stay_exact) {
  actors::runtime_settings settings;
  settings.idempotency_keys_resident = 16;
  start_runtime(settings);
  constexpr int wallets = 4;
  open_wallets(wallets);
  const std::string hot = wallet(0);
  std::vector<planned> plan;
  for (int i = 0; i < 150; ++i) {
    // Deposits to the hot wallet, and transfers to it whose credits are saga legs.
    if (i % 3 == 0) {
      plan.push_back({{wallet(1 + i % 3), "c-t-" + std::to_string(i),
                       engine::transfer_debit{"tr-" + std::to_string(i), hot, {7, eur}}},
                      std::nullopt});
    } else {
      plan.push_back(
          {{hot, "c-h-" + std::to_string(i), engine::deposit{{1 + i, eur}}}, std::nullopt});
    }
  }
  for (auto& p : plan) {
    p.outcome = decide(p.cmd);
    ASSERT_TRUE(p.outcome->accepted()) << p.cmd.idempotency_key;
  }
  ASSERT_TRUE(transfers_settled(60s));
  const auto repeat_all = [&](const char* when) {
    for (const auto& p : plan) {
      const submit_outcome again = decide(p.cmd);
      EXPECT_TRUE(again.replayed) << when << ": " << p.cmd.idempotency_key;
      EXPECT_EQ(again.result, p.outcome->result) << when << ": " << p.cmd.idempotency_key;
    }
    const submit_outcome conflict = decide({hot, "c-h-1", engine::deposit{{999, eur}}});
    EXPECT_EQ(conflict.result.rejected, engine::rejection::idempotency_conflict) << when;
  };
  repeat_all("resident");

  // A restart: the wallet is loaded again, 16 keys resident and the rest in its filter.
  runtime_->stop(5s);
  system_->await_all_actors_done();
  runtime_.reset();
  system_.reset();
  start_runtime(settings);
  repeat_all("reloaded");
  // New commands still go through.
  ASSERT_TRUE(decide({hot, "after-restart", engine::deposit{{5, eur}}}).accepted());

  expect_applied_exactly_once(plan);
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_events WHERE wallet_id = '" + hot +
                "' AND idempotency_key = 'after-restart'")[0][0]
                .as<long>(),
            1);
  std::int64_t deposited = opening_balance * wallets + 5;
  for (const auto& p : plan) {
    if (const auto* d = std::get_if<engine::deposit>(&p.cmd.body)) deposited += d->amount.minor;
  }
  expect_reconciled(deposited);
  EXPECT_EQ(sql("SELECT count(*) FROM transfers WHERE status <> 'completed'")[0][0].as<long>(), 0)
      << "every credit to the hot wallet landed";
}

}  // namespace
}  // namespace wallet::system_test
