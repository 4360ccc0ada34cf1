// PostgreSQL stopped and started again in the middle of a run (it stops the shared server, so CTest
// runs it alone): commands fail over to `unavailable`, the circuit opens and closes, and after
// recovery every answered success is durable, nothing is applied twice, and the database
// reconciles.
#include "runtime_pg_fixture.hpp"

namespace wallet::system_test {
namespace {

int services(const std::string& what) {
  const std::string command =
      std::string{"bash "} + WALLET_SOURCE_DIR + "/scripts/services.sh " + what;
  return std::system(command.c_str());  // NOLINT(cert-env33-c): the test drives its own server
}

TEST_F(runtime_pg_test, a_database_restart_loses_and_duplicates_nothing) {
  start_runtime();
  constexpr int wallets = 200;
  open_wallets(wallets);
  // Enough commands to outlast the stop even on a fast store (a batch is one round trip), and the
  // stop early in the run: the restart must fall inside it, not after it.
  auto plan = random_commands(wallets, 8'000, 2026);
  auto restart = std::async(std::launch::async, [] {
    std::this_thread::sleep_for(200ms);
    const int stopped = services("pg-stop");
    std::this_thread::sleep_for(3s);
    const int started = services("pg-start");
    return std::make_pair(stopped, started);
  });
  run_twice(plan, 32);
  const auto [stopped, started] = restart.get();
  ASSERT_EQ(stopped, 0);
  ASSERT_EQ(started, 0);
  EXPECT_GT(refusals_.load(), 0) << "the restart happened outside the run";
  ASSERT_TRUE(transfers_settled(90s));
  expect_applied_exactly_once(plan);
  expect_reconciled(net_deposits(plan, wallets));
}

}  // namespace
}  // namespace wallet::system_test
