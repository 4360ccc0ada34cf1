// Commit planning without a server: coalescing per wallet, hold netting, transfer rows, records.
#include <gtest/gtest.h>

#include "commit_plan.hpp"
#include "wallet_sim.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::wallet_write;

engine::command_body open() { return engine::open_wallet{"owner", eur(0).ccy, 0}; }

TEST(commit_plan, coalesces_the_writes_of_each_wallet) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  wallet_sim b("b");
  b.handle(open(), t);  // committed earlier: b is stored at version 1
  const std::vector<wallet_write> writes{
      a.handle(open(), t), b.handle(engine::deposit{eur(5)}, t),
      a.handle(engine::deposit{eur(7)}, t),
      b.handle(engine::withdraw{eur(9)}, t),  // insufficient funds: a record, no event
  };
  auto plan = detail::plan_commit(writes, 0, 1);
  EXPECT_EQ(plan.created.keys, std::vector<std::string>{"a"});
  EXPECT_EQ(plan.updated.keys, std::vector<std::string>{"b"});
  EXPECT_TRUE(plan.absent.empty());
  EXPECT_EQ(plan.events.size(), 3U);
  EXPECT_EQ(plan.records.size(), 4U);
  const auto created = std::move(plan.created).literals();
  EXPECT_EQ(created[0], R"({"a"})");
  EXPECT_EQ(created[3], "{7}") << "the final balance";
  EXPECT_EQ(created[6], "{2}") << "the final version";
  const auto updated = std::move(plan.updated).literals();
  EXPECT_EQ(updated[1], "{1}") << "fenced on the first write's expected version";
  EXPECT_EQ(updated[5], "{2}");
}

TEST(commit_plan, nets_holds_placed_and_closed_in_one_batch) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  a.handle(open(), t);
  a.handle(engine::deposit{eur(100)}, t);
  a.handle(engine::hold_place{"old", eur(10), t + 1h}, t);  // stored before this batch
  const std::vector<wallet_write> writes{
      a.handle(engine::hold_place{"tmp", eur(5), t + 1h}, t),
      a.handle(engine::hold_release{"tmp"}, t),
      a.handle(engine::hold_release{"old"}, t),
      a.handle(engine::hold_place{"old", eur(20), t + 2h}, t),
      a.handle(engine::hold_place{"new", eur(30), t + 3h}, t),
  };
  auto plan = detail::plan_commit(writes, 0, 1);
  EXPECT_EQ(plan.holds_closed.keys, std::vector<std::string>{"a/old"});
  EXPECT_EQ(plan.holds_opened.keys, (std::vector<std::string>{"a/new", "a/old"}));
  const auto opened = std::move(plan.holds_opened).literals();
  EXPECT_EQ(opened[2], "{30,20}") << "amounts from the placing events";
}

TEST(commit_plan, derives_transfer_rows_and_absent_wallets) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  wallet_sim ghost("ghost");
  a.handle(open(), t);
  a.handle(engine::deposit{eur(100)}, t);
  const std::vector<wallet_write> writes{
      a.handle(engine::transfer_debit{"t1", "b", eur(10)}, t),
      a.handle(engine::transfer_reversal{"t0", eur(3)}, t),
      ghost.handle(engine::deposit{eur(1)}, t),
  };
  auto plan = detail::plan_commit(writes, 0, 1);
  EXPECT_EQ(plan.debits.keys, std::vector<std::string>{"a/t1"});
  EXPECT_EQ(plan.reversals.keys, std::vector<std::string>{"a/t0"});
  EXPECT_TRUE(plan.credits.empty());
  EXPECT_EQ(plan.absent.keys, std::vector<std::string>{"ghost"});
  const auto debits = std::move(plan.debits).literals();
  EXPECT_EQ(debits[3], R"({"EUR"})");
}

TEST(commit_plan, a_broken_chain_is_a_programming_error) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  std::vector<wallet_write> writes{a.handle(open(), t), a.handle(engine::deposit{eur(1)}, t)};
  writes[1].expected_version = 5;
  EXPECT_DEATH((void)detail::plan_commit(writes, 0, 1), "expected_version");
}

TEST(commit_plan, a_wallet_of_another_shard_is_a_programming_error) {
  wallet_sim a(ids_on_shard("x", 1, 2, 1)[0]);
  const std::vector<wallet_write> writes{a.handle(open(), now_us())};
  EXPECT_DEATH((void)detail::plan_commit(writes, 0, 2), "shard_of");
}

}  // namespace
}  // namespace wallet::postgres::testing
