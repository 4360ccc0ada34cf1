// The verify phase's checks: a consistent run passes all of them, and each kind of damage (a
// balance changed behind the service's back, money created, a gap in the events, a duplicate
// applied twice, a wrong rejection code, a failed reconciliation) fails the check that owns it.
#include <gtest/gtest.h>

#include "verify.hpp"

namespace wallet::loadtest {
namespace {

// Three wallets funded with 1000 each (before), then: wallet 1 deposits 50, wallet 2 transfers 30
// to wallet 3, wallet 3 places a hold of 20. Rows, events and expectations agree.
struct scenario {
  expectations expected{3};
  event_fold events{3};
  invalid_tracker invalid;
  std::vector<wallet_row> before{{1, 1'000, 0, 0, 2}, {2, 1'000, 0, 0, 2}, {3, 1'000, 0, 0, 2}};
  std::vector<wallet_row> after{{1, 1'050, 0, 0, 3}, {2, 970, 0, 0, 3}, {3, 1'030, 20, 0, 4}};

  scenario() {
    events.start_from(before);
    command deposit;
    deposit.what = op::deposit;
    deposit.wallet = 1;
    deposit.amount = 50;
    command transfer;
    transfer.what = op::transfer;
    transfer.wallet = 2;
    transfer.destination = 3;
    transfer.amount = 30;
    command hold;
    hold.what = op::hold_place;
    hold.wallet = 3;
    hold.amount = 20;
    for (const command& c : {deposit, transfer, hold}) expected.applied(c);
    events.add(1, 3, 50, 0);
    events.add(2, 3, -30, 0);
    events.add(3, 3, 30, 0);
    events.add(3, 4, 0, 20);
  }

  verify_input input() {
    verify_input in;
    in.wallets = 3;
    in.before = before;
    in.after = after;
    in.expected = &expected;
    in.events = &events;
    in.sent = 3;
    in.invalid = &invalid;
    in.reconcile_exit = 0;
    return in;
  }
};

check_result find(const verify_report& r, const std::string& prefix) {
  for (const check_result& c : r.checks) {
    if (c.name.starts_with(prefix)) return c;
  }
  ADD_FAILURE() << "no check " << prefix;
  return {};
}

bool only_failure_is(const verify_report& r, const std::string& prefix) {
  for (const check_result& c : r.checks) {
    const bool failed = c.outcome == check_result::state::failed;
    if (failed != c.name.starts_with(prefix)) return false;
  }
  return true;
}

TEST(verify, a_consistent_run_passes) {
  scenario s;
  const verify_report r = verify(s.input());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(find(r, "balances").checked, 3U);
  EXPECT_EQ(find(r, "event stream").checked, 3U);
  EXPECT_EQ(find(r, "every duplicate").outcome, check_result::state::skipped);
}

TEST(verify, a_balance_changed_behind_the_service_fails) {
  scenario s;
  s.after[1].balance += 1;  // what the tamper test does to the database
  const verify_report r = verify(s.input());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(find(r, "balances").failures, 1U);
  EXPECT_EQ(find(r, "event stream").failures, 1U);
  EXPECT_EQ(find(r, "money conserved").outcome, check_result::state::failed);
  EXPECT_NE(find(r, "balances").examples.at(0).find("wallet 2"), std::string::npos);
}

TEST(verify, money_in_flight_counts_but_must_land) {
  scenario s;
  s.after[2].balance -= 30;  // the credit has not committed yet
  s.after[2].version = 3;
  verify_input in = s.input();
  in.pending_transfers = 1;
  in.pending_amount = 30;
  const check_result c = check_conservation(in);
  ASSERT_EQ(c.outcome, check_result::state::failed);
  ASSERT_EQ(c.failures, 1U);  // the sum holds; only the pending transfer is reported
  EXPECT_NE(c.examples.at(0).find("still pending"), std::string::npos);
}

TEST(verify, a_balance_below_its_limit_fails) {
  scenario s;
  s.after[0].balance = -5;
  EXPECT_EQ(check_limits(s.input()).failures, 1U);
  s.after[0].overdraft_limit = 10;
  EXPECT_EQ(check_limits(s.input()).failures, 0U);
  s.after[0].held = 6;  // held beyond balance + overdraft
  EXPECT_EQ(check_limits(s.input()).failures, 1U);
}

TEST(verify, a_gap_in_the_event_stream_fails) {
  scenario s;
  s.after[0].version = 4;  // an event with seq 4 was committed but never seen
  s.after[0].balance = 1'050;
  const verify_report r = verify(s.input());
  EXPECT_TRUE(only_failure_is(r, "event stream"));
  EXPECT_NE(find(r, "event stream").examples.at(0).find("stored version 4"), std::string::npos);
}

TEST(verify, events_are_folded_from_the_snapshot_version) {
  event_fold f(1);
  f.start_from({{1, 100, 0, 0, 5}});
  f.add(1, 4, 999, 0);  // before the snapshot: already in its balance
  f.add(1, 6, 10, 0);
  f.add(1, 6, 10, 0);  // republished: counted once
  f.add(1, 8, 1, 0);   // 7 is missing
  const auto st = f.state(1);
  EXPECT_EQ(st.balance, 11);
  EXPECT_EQ(st.last_seq, 8U);
  EXPECT_EQ(st.repeats, 1U);
  EXPECT_EQ(st.gaps, 1U);
  EXPECT_EQ(f.events(), 4U);
}

TEST(verify, duplicates_must_be_applied_exactly_once) {
  scenario s;
  duplicate_tracker d;
  const answer first{answer_status::accepted, "", "", false};
  const answer replay{answer_status::accepted, "", "", true};
  d.sent(1);  // correct: one first answer, one replay, one event
  d.answered(1, first);
  d.answered(1, replay);
  d.event_seen(1);
  d.sent(2);  // applied twice: two first answers and two events
  d.answered(2, first);
  d.answered(2, first);
  d.event_seen(2);
  d.event_seen(2);
  d.sent(3);  // replayed alright, but its event appears twice on the stream
  d.answered(3, first);
  d.answered(3, replay);
  d.event_seen(3);
  d.event_seen(3);
  verify_input in = s.input();
  in.duplicates = d.pairs();
  const check_result c = check_duplicates(in);
  EXPECT_EQ(c.checked, 3U);
  EXPECT_EQ(c.failures, 2U);
  EXPECT_NE(c.examples.at(0).find("command 2"), std::string::npos);
  EXPECT_NE(c.examples.at(1).find("command 3"), std::string::npos);
}

TEST(verify, invalid_commands_need_the_right_code) {
  scenario s;
  command c;
  c.flaw = defect::insufficient_funds;
  const expected_answer funds = expected_for(defect::insufficient_funds);
  s.invalid.answered(c, "k1", answer{answer_status::rejected, "insufficient_funds", "", false},
                     funds);
  EXPECT_TRUE(verify(s.input()).ok());
  s.invalid.answered(c, "k2", answer{answer_status::accepted, "", "", false}, funds);
  const verify_report r = verify(s.input());
  EXPECT_TRUE(only_failure_is(r, "invalid commands"));
  EXPECT_NE(find(r, "invalid").examples.at(0).find("k2"), std::string::npos);
  c.flaw = defect::too_precise;  // the field problem must match too
  s.invalid.answered(c, "k3", answer{answer_status::refused, "invalid", "unknown_field", false},
                     expected_for(defect::too_precise));
  EXPECT_EQ(find(verify(s.input()), "invalid").failures, 2U);
}

TEST(verify, unanswered_or_refused_valid_commands_fail) {
  scenario s;
  verify_input in = s.input();
  in.failed = 2;
  in.failed_examples = {"r-1: no answer within 60 s"};
  EXPECT_EQ(check_answers(in).failures, 2U);
  in.failed = 0;
  in.failed_examples.clear();
  in.valid_refused = 1;
  EXPECT_EQ(check_answers(in).outcome, check_result::state::failed);
}

TEST(verify, reconciliation_must_be_clean) {
  scenario s;
  verify_input in = s.input();
  in.reconcile_exit = 1;
  in.reconcile_output = "wallet lt-2: balance stored 971 folded 970";
  const verify_report r = verify(in);
  EXPECT_TRUE(only_failure_is(r, "reconciliation"));
  in.reconcile_exit.reset();
  in.reconcile_skipped_why = "--no-reconcile";
  EXPECT_EQ(check_reconcile(in).outcome, check_result::state::skipped);
}

TEST(verify, no_event_stream_is_skipped_with_a_reason) {
  scenario s;
  verify_input in = s.input();
  in.events = nullptr;
  in.events_skipped_why = "the naive baseline publishes no events";
  const check_result c = check_events(in);
  EXPECT_EQ(c.outcome, check_result::state::skipped);
  EXPECT_EQ(c.note, in.events_skipped_why);
}

}  // namespace
}  // namespace wallet::loadtest
