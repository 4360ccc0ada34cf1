// Commit planning without a server: coalescing per wallet, hold netting, transfer rows, records.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "commit_plan.hpp"
#include "wallet/engine/review.hpp"
#include "wallet_sim.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::wallet_write;

engine::command_body open() { return engine::open_wallet{"owner", eur(0).ccy, 0}; }

// The texts of column `i`, read back from a copy of its literal (the ids in these tests hold no
// quote, backslash or comma).
template <std::size_t N>
std::vector<std::string> column(const detail::rows<N>& r, std::size_t i) {
  detail::array_literal copy = r.columns.at(i);
  const std::string text = std::move(copy).finish();
  std::vector<std::string> out;
  std::size_t pos = 1;  // past '{'
  while (pos + 1 < text.size()) {
    const std::size_t end = text.find_first_of(",}", pos);
    std::string item = text.substr(pos, end - pos);
    if (item.size() >= 2 && item.front() == '"') item = item.substr(1, item.size() - 2);
    out.push_back(std::move(item));
    pos = end + 1;
  }
  return out;
}

// Each row named by one column, or by two joined with '/' (wallet/hold, source/transfer).
template <std::size_t N>
std::vector<std::string> keys_of(const detail::rows<N>& r, std::size_t a) {
  return column(r, a);
}
template <std::size_t N>
std::vector<std::string> keys_of(const detail::rows<N>& r, std::size_t a, std::size_t b) {
  const auto first = column(r, a);
  const auto second = column(r, b);
  EXPECT_EQ(first.size(), second.size());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < std::min(first.size(), second.size()); ++i) {
    out.push_back(first[i] + "/" + second[i]);
  }
  return out;
}

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
  EXPECT_EQ(keys_of(plan.created, 0), std::vector<std::string>{"a"});
  EXPECT_EQ(keys_of(plan.updated, 0), std::vector<std::string>{"b"});
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
  EXPECT_EQ(keys_of(plan.holds_closed, 0, 1), std::vector<std::string>{"a/old"});
  EXPECT_EQ(keys_of(plan.holds_opened, 0, 1), (std::vector<std::string>{"a/new", "a/old"}));
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
  EXPECT_EQ(keys_of(plan.debits, 1, 0), std::vector<std::string>{"a/t1"});
  EXPECT_EQ(keys_of(plan.reversals, 1, 0), std::vector<std::string>{"a/t0"});
  EXPECT_TRUE(plan.credits.empty());
  EXPECT_EQ(keys_of(plan.absent, 0), std::vector<std::string>{"ghost"});
  const auto debits = std::move(plan.debits).literals();
  EXPECT_EQ(debits[3], R"({"EUR"})");
}

TEST(commit_plan, audit_records_carry_the_outcome_of_their_command) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  a.handle(open(), t);
  std::vector<wallet_write> writes{a.handle(engine::freeze{"fraud review"}, t, "k-freeze"),
                                   a.handle(engine::freeze{"again"}, t, "k-again")};
  ASSERT_TRUE(writes[1].record.result.rejected) << "a frozen wallet cannot be frozen again";
  writes[0].audit = actors::audit_entry{"admin-1",
                                        "freeze",
                                        "a",
                                        "fraud review",
                                        "0af7651916cd43dd8448eb211c80319c",
                                        {{"idempotency_key", "k-freeze"}}};
  writes[1].audit = actors::audit_entry{"admin-1", "freeze", "a", "again", "", {}};
  auto plan = detail::plan_commit(writes, 0, 1);
  ASSERT_EQ(plan.audits.size(), 2U);
  const auto audits = std::move(plan.audits).literals();
  EXPECT_EQ(audits[0], R"({"admin-1","admin-1"})");
  EXPECT_EQ(audits[4], R"({"0af7651916cd43dd8448eb211c80319c",NULL})") << "no trace: NULL";
  EXPECT_NE(audits[5].find(R"(\"outcome\":\"applied\",\"seq\":\"2\")"), std::string::npos)
      << audits[5];
  EXPECT_NE(audits[5].find(R"(\"outcome\":\"rejected\",\"rejection\":\"wallet_frozen\")"),
            std::string::npos)
      << audits[5];
}

// AML reviews (ADR 0009): placing a review hold opens its row, settling it closes the row with the
// decision's principal and reason; an ordinary hold touches no review.
TEST(commit_plan, review_holds_open_and_close_their_review_rows) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  a.handle(open(), t);
  a.handle(engine::deposit{eur(100)}, t);
  wallet_write opened = a.hold_for_review(eur(60), t, "wd-1", t + 1h);
  opened.review_reasons = 1;  // amount
  const std::string id = engine::review_id_of("a", "wd-1");
  wallet_write decided = a.handle(engine::hold_release{engine::review_hold_id(id)}, t,
                                  engine::review_decision_key(id));
  ASSERT_FALSE(decided.record.result.rejected);
  decided.audit = actors::audit_entry{"ops", "aml_review_rejected", "a", "false positive", "", {}};
  const std::vector<wallet_write> writes{opened, decided,
                                         a.handle(engine::hold_place{"h", eur(5), t + 1h}, t)};
  auto plan = detail::plan_commit(writes, 0, 1);
  EXPECT_EQ(keys_of(plan.reviews_opened, 0), std::vector<std::string>{id});
  const auto rows_opened = std::move(plan.reviews_opened).literals();
  EXPECT_EQ(rows_opened[2], "{\"aml:" + id + "\"}");
  EXPECT_EQ(rows_opened[3], R"({"wd-1"})");
  EXPECT_EQ(rows_opened[4], "{60}");
  EXPECT_EQ(rows_opened[6], R"({"amount"})");
  EXPECT_EQ(keys_of(plan.reviews_closed, 0, 1), std::vector<std::string>{"a/aml:" + id});
  const auto rows_closed = std::move(plan.reviews_closed).literals();
  EXPECT_EQ(rows_closed[2], R"({"rejected"})");
  EXPECT_EQ(rows_closed[4], R"({"ops"})");
  EXPECT_EQ(rows_closed[5], R"({"false positive"})");
}

// A transfer under review (ADR 0009): its row names the transfer; the approval is one debit
// event that deletes the stored hold, closes the review as approved and inserts the pending
// transfer, all in the same plan.
TEST(commit_plan, an_approved_transfer_under_review_takes_its_hold_in_the_debit) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  a.handle(open(), t);
  a.handle(engine::deposit{eur(100)}, t);
  wallet_write opened =
      a.transfer_for_review(engine::transfer_debit{"t-1", "b", eur(60)}, t, "tr-1", t + 1h);
  opened.review_reasons = 1;
  const std::string id = engine::review_id_of("a", "tr-1");
  {
    auto plan = detail::plan_commit(std::vector<wallet_write>{opened}, 0, 1);
    const auto rows = std::move(plan.reviews_opened).literals();
    EXPECT_EQ(rows[3], R"({"tr-1"})");
    EXPECT_EQ(rows[9], R"({"transfer_debit"})");
    EXPECT_EQ(rows[10], R"({"t-1"})");
    EXPECT_EQ(rows[11], R"({"b"})");
    EXPECT_TRUE(plan.debits.empty()) << "no saga before the approval";
  }
  wallet_write approved =
      a.handle(engine::transfer_debit{"t-1", "b", eur(60), engine::review_hold_id(id)}, t,
               engine::review_decision_key(id));
  ASSERT_FALSE(approved.record.result.rejected);
  ASSERT_EQ(approved.events.size(), 1U);
  approved.audit = actors::audit_entry{"ops", "aml_review_approved", "a", "checked", "", {}};
  auto plan = detail::plan_commit(std::vector<wallet_write>{approved}, 0, 1);
  EXPECT_EQ(keys_of(plan.holds_closed, 0, 1), std::vector<std::string>{"a/aml:" + id});
  EXPECT_EQ(keys_of(plan.reviews_closed, 0, 1), std::vector<std::string>{"a/aml:" + id});
  EXPECT_EQ(std::move(plan.reviews_closed).literals()[2], R"({"approved"})");
  EXPECT_EQ(keys_of(plan.debits, 1, 0), std::vector<std::string>{"a/t-1"});
  const auto events = std::move(plan.events).literals();
  EXPECT_EQ(events[5], "{-60}") << "held_delta";
  // Placed and approved in one batch: no hold row comes or goes.
  auto both = detail::plan_commit(std::vector<wallet_write>{opened, approved}, 0, 1);
  EXPECT_TRUE(both.holds_closed.empty());
  EXPECT_TRUE(both.holds_opened.empty());
  EXPECT_EQ(keys_of(both.reviews_opened, 0), std::vector<std::string>{id});
  EXPECT_EQ(keys_of(both.reviews_closed, 0, 1), std::vector<std::string>{"a/aml:" + id});
}

TEST(commit_plan, writes_without_an_audit_record_add_no_row) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  const std::vector<wallet_write> writes{a.handle(open(), t), a.handle(engine::freeze{"r"}, t)};
  EXPECT_TRUE(detail::plan_commit(writes, 0, 1).audits.empty())
      << "the wallet actor attaches the record; the planner invents none";
}

TEST(commit_plan, a_broken_chain_is_a_programming_error) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  std::vector<wallet_write> writes{a.handle(open(), t), a.handle(engine::deposit{eur(1)}, t)};
  writes[1].expected_version = 5;
  EXPECT_DEATH((void)detail::plan_commit(writes, 0, 1), "expected_version");
}

// What keeps (wallet_id, seq) unique with the fence (ADR 0013): a write's events number exactly the
// versions it moves its wallet through.
TEST(commit_plan, an_event_seq_off_its_wallets_versions_is_a_programming_error) {
  const engine::timestamp t = now_us();
  wallet_sim a("a");
  std::vector<wallet_write> writes{a.handle(open(), t), a.handle(engine::deposit{eur(1)}, t)};
  ASSERT_EQ(writes[1].events.size(), 1U);
  writes[1].events[0].seq = 1;  // the seq of wallet_opened again
  EXPECT_DEATH((void)detail::plan_commit(writes, 0, 1), "e.seq");
  writes[1].events[0].seq = 2;
  writes[1].after.version = 3;  // a version the events do not reach
  EXPECT_DEATH((void)detail::plan_commit(writes, 0, 1), "after.version");
}

TEST(commit_plan, a_wallet_of_another_shard_is_a_programming_error) {
  wallet_sim a(ids_on_shard("x", 1, 2, 1)[0]);
  const std::vector<wallet_write> writes{a.handle(open(), now_us())};
  EXPECT_DEATH((void)detail::plan_commit(writes, 0, 2), "shard_of");
}

}  // namespace
}  // namespace wallet::postgres::testing
