// AML review holds (ADR 0009): the review id, the reserved hold ids, and the aggregate holding a
// withdrawal or a transfer for review and settling it only under the review's decision key.
#include <gtest/gtest.h>

#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/review.hpp"

namespace wallet::engine {
namespace {

using namespace std::chrono_literals;

const currency eur = *currency::from_code("EUR");
const timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}};
constexpr duration retention = std::chrono::hours{24};
// NOLINTNEXTLINE(cert-err58-cpp): a fixture value built before main; a throw there fails the run.
const policy no_limits = policy::unlimited();
const feature_flags all_on{};

command cmd(std::string key, command_body body) {
  return command{"w-1", std::move(key), std::move(body)};
}

wallet_aggregate funded_wallet(std::int64_t amount) {
  wallet_aggregate w{"w-1", retention};
  EXPECT_FALSE(
      w.handle(cmd("open", open_wallet{"owner-1", eur, 0}), t0, no_limits, all_on).result.rejected);
  EXPECT_FALSE(
      w.handle(cmd("dep", deposit{money{amount, eur}}), t0, no_limits, all_on).result.rejected);
  return w;
}

TEST(review_ids, are_sixteen_hex_digits_stable_and_distinct_per_wallet_and_key) {
  const std::string id = review_id_of("w-1", "k-1");
  EXPECT_TRUE(is_review_id(id));
  EXPECT_EQ(id.size(), review_id_length);
  EXPECT_EQ(review_id_of("w-1", "k-1"), id);
  EXPECT_NE(review_id_of("w-1", "k-2"), id);
  EXPECT_NE(review_id_of("w-2", "k-1"), id);
  // Length prefixes: moving a byte between the two fields changes the id.
  EXPECT_NE(review_id_of("w-1k", "-1"), review_id_of("w-1", "k-1"));
  EXPECT_FALSE(is_review_id("0123456789ABCDEF"));
  EXPECT_FALSE(is_review_id("0123456789abcde"));
  EXPECT_FALSE(is_review_id("0123456789abcdeg"));
}

TEST(review_ids, name_their_hold_and_decision_key) {
  const std::string id = review_id_of("w-1", "k-1");
  EXPECT_EQ(review_hold_id(id), "aml:" + id);
  EXPECT_TRUE(is_review_hold(review_hold_id(id)));
  EXPECT_EQ(review_of_hold(review_hold_id(id)), id);
  EXPECT_EQ(review_of_hold("h-1"), "");
  EXPECT_EQ(review_decision_key(id), "sys:aml:" + id);
}

TEST(review_holds, a_withdrawal_under_review_holds_its_amount_and_its_key_remembers_the_hold) {
  wallet_aggregate w = funded_wallet(1'000);
  const command wd = cmd("wd-1", withdraw{money{600, eur}});
  const auto h = w.hold_for_review(wd, t0, no_limits, all_on, t0 + 48h);
  ASSERT_FALSE(h.result.rejected);
  ASSERT_TRUE(h.appended);
  const auto* placed = std::get_if<hold_placed>(&h.appended->body);
  ASSERT_NE(placed, nullptr);
  EXPECT_EQ(placed->hold_id, review_hold_id(review_id_of("w-1", "wd-1")));
  EXPECT_EQ(placed->amount, 600);
  EXPECT_EQ(placed->expires_at, t0 + 48h);
  EXPECT_EQ(w.state().balance, 1'000);
  EXPECT_EQ(w.state().held, 600);
  EXPECT_EQ(w.state().available(), 400);

  // A repeat of the withdrawal, screened again or not, is the same outcome and moves nothing.
  const auto again = w.handle(wd, t0 + 1s, no_limits, all_on);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, h.result);
  const auto again_review = w.hold_for_review(wd, t0 + 2s, no_limits, all_on, t0 + 48h);
  EXPECT_TRUE(again_review.replayed);
  EXPECT_EQ(w.state().held, 600);
  // The same key with other content is still a conflict.
  EXPECT_EQ(w.handle(cmd("wd-1", withdraw{money{601, eur}}), t0, no_limits, all_on).result.rejected,
            rejection::idempotency_conflict);
}

TEST(review_holds, a_review_of_more_than_is_available_is_refused_like_the_withdrawal) {
  wallet_aggregate w = funded_wallet(100);
  const auto h =
      w.hold_for_review(cmd("wd-1", withdraw{money{101, eur}}), t0, no_limits, all_on, t0 + 1h);
  EXPECT_EQ(h.result.rejected, rejection::insufficient_funds);
  EXPECT_FALSE(h.appended);
  EXPECT_EQ(w.state().held, 0);
}

TEST(review_holds, clients_cannot_place_capture_or_release_a_review_hold) {
  wallet_aggregate w = funded_wallet(1'000);
  ASSERT_TRUE(
      w.hold_for_review(cmd("wd-1", withdraw{money{600, eur}}), t0, no_limits, all_on, t0 + 1h)
          .appended);
  const std::string id = review_id_of("w-1", "wd-1");
  const std::string hold = review_hold_id(id);
  EXPECT_EQ(
      w.handle(cmd("c-1", hold_capture{hold, std::nullopt}), t0, no_limits, all_on).result.rejected,
      rejection::id_invalid);
  EXPECT_EQ(w.handle(cmd("r-1", hold_release{hold}), t0, no_limits, all_on).result.rejected,
            rejection::id_invalid);
  EXPECT_EQ(w.handle(cmd("p-1", hold_place{"aml:0000000000000000", money{1, eur}, t0 + 1h}), t0,
                     no_limits, all_on)
                .result.rejected,
            rejection::id_invalid);
  EXPECT_FALSE(w.would_accept(cmd("c-2", hold_capture{hold, std::nullopt}), t0, no_limits, all_on));
  // Another review's decision key does not settle this hold.
  EXPECT_EQ(w.handle(cmd(review_decision_key(review_id_of("w-1", "other")), hold_release{hold}), t0,
                     no_limits, all_on)
                .result.rejected,
            rejection::id_invalid);
  EXPECT_EQ(w.state().held, 600);
}

TEST(review_holds, the_decision_key_captures_on_approval) {
  wallet_aggregate w = funded_wallet(1'000);
  ASSERT_TRUE(
      w.hold_for_review(cmd("wd-1", withdraw{money{600, eur}}), t0, no_limits, all_on, t0 + 1h)
          .appended);
  const std::string id = review_id_of("w-1", "wd-1");
  const command approve = cmd(review_decision_key(id), hold_capture{review_hold_id(id), {}});
  const auto h = w.handle(approve, t0 + 1min, no_limits, all_on);
  ASSERT_FALSE(h.result.rejected);
  EXPECT_EQ(w.state().balance, 400);
  EXPECT_EQ(w.state().held, 0);
  EXPECT_EQ(w.state().outgoing_today, 600);
  // The other decision under the same key is a conflict: a review is decided once.
  EXPECT_EQ(w.handle(cmd(review_decision_key(id), hold_release{review_hold_id(id)}), t0 + 2min,
                     no_limits, all_on)
                .result.rejected,
            rejection::idempotency_conflict);
  EXPECT_TRUE(w.handle(approve, t0 + 3min, no_limits, all_on).replayed);
}

TEST(review_holds, the_decision_key_releases_on_rejection_and_an_expired_hold_is_not_captured) {
  wallet_aggregate w = funded_wallet(1'000);
  ASSERT_TRUE(
      w.hold_for_review(cmd("wd-1", withdraw{money{600, eur}}), t0, no_limits, all_on, t0 + 1h)
          .appended);
  ASSERT_TRUE(
      w.hold_for_review(cmd("wd-2", withdraw{money{300, eur}}), t0, no_limits, all_on, t0 + 1h)
          .appended);
  const std::string first = review_id_of("w-1", "wd-1");
  const auto released =
      w.handle(cmd(review_decision_key(first), hold_release{review_hold_id(first)}), t0 + 1min,
               no_limits, all_on);
  ASSERT_FALSE(released.result.rejected);
  EXPECT_EQ(w.state().balance, 1'000);
  EXPECT_EQ(w.state().held, 300);
  const std::string second = review_id_of("w-1", "wd-2");
  EXPECT_EQ(w.handle(cmd(review_decision_key(second), hold_capture{review_hold_id(second), {}}),
                     t0 + 2h, no_limits, all_on)
                .result.rejected,
            rejection::hold_expired);
  EXPECT_EQ(w.state().balance, 1'000);
}

TEST(review_holds, a_decision_that_cannot_apply_now_is_not_remembered) {
  wallet_aggregate w = funded_wallet(1'000);
  ASSERT_TRUE(
      w.hold_for_review(cmd("wd-1", withdraw{money{600, eur}}), t0, no_limits, all_on, t0 + 1h)
          .appended);
  ASSERT_TRUE(w.handle(cmd("f-1", freeze{"fraud check"}), t0, no_limits, all_on).appended);
  const std::string id = review_id_of("w-1", "wd-1");
  const command approve = cmd(review_decision_key(id), hold_capture{review_hold_id(id), {}});
  const auto refused = w.handle(approve, t0 + 1s, no_limits, all_on);
  EXPECT_EQ(refused.result.rejected, rejection::wallet_frozen);
  EXPECT_FALSE(refused.remembered);
  EXPECT_EQ(w.window().find(review_decision_key(id)), nullptr);
  ASSERT_TRUE(w.handle(cmd("u-1", unfreeze{"cleared"}), t0 + 2s, no_limits, all_on).appended);
  const auto approved = w.handle(approve, t0 + 3s, no_limits, all_on);
  EXPECT_FALSE(approved.result.rejected);
  EXPECT_FALSE(approved.replayed);
  EXPECT_TRUE(approved.remembered);
  EXPECT_EQ(w.state().balance, 400);
}

// ---- transfers under review ------------------------------------------------------------------

const command transfer_600 = cmd("tr-1", transfer_debit{"t-1", "w-2", money{600, eur}});

// The approval of transfer_600's review: a debit from its hold under the decision key.
command approval(const command& original) {
  const auto& t = std::get<transfer_debit>(original.body);
  const std::string id = review_id_of(original.wallet_id, original.idempotency_key);
  return command{original.wallet_id, review_decision_key(id),
                 transfer_debit{t.transfer_id, t.destination, t.amount, review_hold_id(id)}};
}

wallet_aggregate with_transfer_under_review() {
  wallet_aggregate w = funded_wallet(1'000);
  const auto h = w.hold_for_review(transfer_600, t0, no_limits, all_on, t0 + 1h);
  EXPECT_FALSE(h.result.rejected);
  EXPECT_TRUE(h.appended);
  return w;
}

TEST(review_transfers, a_transfer_under_review_holds_its_amount_and_its_key_remembers_the_hold) {
  wallet_aggregate w = funded_wallet(1'000);
  const auto h = w.hold_for_review(transfer_600, t0, no_limits, all_on, t0 + 1h);
  ASSERT_TRUE(h.appended);
  const auto* placed = std::get_if<hold_placed>(&h.appended->body);
  ASSERT_NE(placed, nullptr);
  EXPECT_EQ(placed->hold_id, review_hold_id(review_id_of("w-1", "tr-1")));
  EXPECT_EQ(placed->amount, 600);
  EXPECT_EQ(w.state().balance, 1'000);
  EXPECT_EQ(w.state().held, 600);
  EXPECT_EQ(w.state().outgoing_today, 0) << "nothing left the wallet yet";
  // A repeat answers the same review; other content under the key is a conflict.
  const auto again = w.handle(transfer_600, t0 + 1s, no_limits, all_on);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, h.result);
  EXPECT_TRUE(w.hold_for_review(transfer_600, t0 + 2s, no_limits, all_on, t0 + 1h).replayed);
  EXPECT_EQ(
      w.handle(cmd("tr-1", transfer_debit{"t-1", "w-3", money{600, eur}}), t0, no_limits, all_on)
          .result.rejected,
      rejection::idempotency_conflict);
  // The held money cannot be spent meanwhile.
  EXPECT_EQ(w.handle(cmd("wd-1", withdraw{money{401, eur}}), t0, no_limits, all_on).result.rejected,
            rejection::insufficient_funds);
  EXPECT_EQ(w.state().held, 600);
}

TEST(review_transfers, a_transfer_the_engine_refuses_is_refused_as_without_review) {
  wallet_aggregate w = funded_wallet(1'000);
  EXPECT_EQ(w.hold_for_review(cmd("tr-1", transfer_debit{"t-1", "w-1", money{600, eur}}), t0,
                              no_limits, all_on, t0 + 1h)
                .result.rejected,
            rejection::transfer_to_self);
  const auto poor = w.hold_for_review(cmd("tr-2", transfer_debit{"t-2", "w-2", money{1'001, eur}}),
                                      t0, no_limits, all_on, t0 + 1h);
  EXPECT_EQ(poor.result.rejected, rejection::insufficient_funds);
  EXPECT_TRUE(poor.remembered) << "a business rejection, as without review";
  EXPECT_EQ(w.state().held, 0);
}

TEST(review_transfers, the_approval_takes_the_hold_and_debits_in_one_event) {
  wallet_aggregate w = with_transfer_under_review();
  const auto h = w.handle(approval(transfer_600), t0 + 1min, no_limits, all_on);
  ASSERT_FALSE(h.result.rejected);
  ASSERT_TRUE(h.appended);
  EXPECT_EQ(h.appended->seq, 4U) << "opened, deposited, hold_placed, then the debit alone";
  const auto* debit = std::get_if<transfer_debited>(&h.appended->body);
  ASSERT_NE(debit, nullptr);
  EXPECT_EQ(*debit,
            (transfer_debited{"t-1", "w-2", 600, review_hold_id(review_id_of("w-1", "tr-1"))}));
  EXPECT_EQ(balance_delta(h.appended->body), -600);
  EXPECT_EQ(outgoing_amount(h.appended->body), 600);
  EXPECT_EQ(w.state().balance, 400);
  EXPECT_EQ(w.state().held, 0);
  EXPECT_TRUE(w.state().holds.empty());
  EXPECT_EQ(w.state().available(), 400) << "the approval spends no available money";
  EXPECT_EQ(w.state().outgoing_today, 600);
  EXPECT_TRUE(h.remembered);
  // A repeated approval is a replay; the other decision a conflict; nothing moves again.
  const auto again = w.handle(approval(transfer_600), t0 + 2min, no_limits, all_on);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, h.result);
  const std::string id = review_id_of("w-1", "tr-1");
  EXPECT_EQ(w.handle(cmd(review_decision_key(id), hold_release{review_hold_id(id)}), t0 + 3min,
                     no_limits, all_on)
                .result.rejected,
            rejection::idempotency_conflict);
  EXPECT_EQ(w.state().balance, 400);
}

TEST(review_transfers, rejection_and_expiry_release_the_money_and_the_approval_then_fails) {
  const std::string id = review_id_of("w-1", "tr-1");
  {
    wallet_aggregate w = with_transfer_under_review();
    const auto released = w.handle(cmd(review_decision_key(id), hold_release{review_hold_id(id)}),
                                   t0 + 1min, no_limits, all_on);
    ASSERT_FALSE(released.result.rejected);
    EXPECT_EQ(w.state().balance, 1'000);
    EXPECT_EQ(w.state().held, 0);
    EXPECT_EQ(w.handle(approval(transfer_600), t0 + 2min, no_limits, all_on).result.rejected,
              rejection::idempotency_conflict);
  }
  {
    wallet_aggregate w = with_transfer_under_review();
    // Past the expiry, before the expiry command: the approval is refused, not remembered.
    const auto late = w.handle(approval(transfer_600), t0 + 1h, no_limits, all_on);
    EXPECT_EQ(late.result.rejected, rejection::hold_expired);
    EXPECT_FALSE(late.remembered);
    ASSERT_TRUE(
        w.handle(cmd("sys:expire", hold_expire{review_hold_id(id)}), t0 + 1h, no_limits, all_on)
            .appended);
    EXPECT_EQ(w.state().balance, 1'000);
    EXPECT_EQ(w.state().held, 0);
    const auto gone = w.handle(approval(transfer_600), t0 + 2h, no_limits, all_on);
    EXPECT_EQ(gone.result.rejected, rejection::hold_not_found);
    EXPECT_FALSE(gone.remembered);
    EXPECT_EQ(w.state().balance, 1'000);
  }
}

TEST(review_transfers, an_approval_on_a_frozen_source_is_refused_and_not_remembered) {
  wallet_aggregate w = with_transfer_under_review();
  ASSERT_TRUE(w.handle(cmd("f-1", freeze{"fraud check"}), t0, no_limits, all_on).appended);
  const auto refused = w.handle(approval(transfer_600), t0 + 1s, no_limits, all_on);
  EXPECT_EQ(refused.result.rejected, rejection::wallet_frozen);
  EXPECT_FALSE(refused.remembered);
  EXPECT_EQ(w.state().held, 600) << "still held for the decision";
  ASSERT_TRUE(w.handle(cmd("u-1", unfreeze{"cleared"}), t0 + 2s, no_limits, all_on).appended);
  const auto approved = w.handle(approval(transfer_600), t0 + 3s, no_limits, all_on);
  EXPECT_FALSE(approved.result.rejected);
  EXPECT_FALSE(approved.replayed);
  EXPECT_EQ(w.state().balance, 400);
}

TEST(review_transfers, only_the_reviews_decision_key_debits_from_its_hold) {
  wallet_aggregate w = with_transfer_under_review();
  const std::string id = review_id_of("w-1", "tr-1");
  command by_client = approval(transfer_600);
  by_client.idempotency_key = "client-key";
  EXPECT_EQ(w.handle(by_client, t0, no_limits, all_on).result.rejected, rejection::id_invalid);
  command other_review = approval(transfer_600);
  other_review.idempotency_key = review_decision_key(review_id_of("w-1", "other"));
  EXPECT_EQ(w.handle(other_review, t0, no_limits, all_on).result.rejected, rejection::id_invalid);
  // A debit from an ordinary hold is no command at all.
  ASSERT_TRUE(
      w.handle(cmd("h-1", hold_place{"h-1", money{100, eur}, t0 + 1h}), t0, no_limits, all_on)
          .appended);
  EXPECT_EQ(w.handle(cmd("plain", transfer_debit{"t-9", "w-2", money{100, eur}, "h-1"}), t0,
                     no_limits, all_on)
                .result.rejected,
            rejection::id_invalid);
  command fresh = approval(transfer_600);
  fresh.idempotency_key = "fresh-key";
  EXPECT_FALSE(w.would_accept(fresh, t0, no_limits, all_on));
  // Not the whole hold: refused, not remembered.
  command part = approval(transfer_600);
  std::get<transfer_debit>(part.body).amount.minor = 599;
  const auto refused = w.handle(part, t0, no_limits, all_on);
  EXPECT_EQ(refused.result.rejected, rejection::hold_amount_exceeded);
  EXPECT_FALSE(refused.remembered);
  EXPECT_EQ(w.state().balance, 1'000);
  EXPECT_EQ(w.state().held, 700);
}

TEST(review_transfers, switching_transfers_off_does_not_stop_an_approval) {
  wallet_aggregate w = with_transfer_under_review();
  feature_flags off;
  off.accept_transfers = false;
  EXPECT_EQ(w.handle(cmd("tr-2", transfer_debit{"t-2", "w-2", money{1, eur}}), t0, no_limits, off)
                .result.rejected,
            rejection::feature_disabled);
  EXPECT_FALSE(w.handle(approval(transfer_600), t0 + 1s, no_limits, off).result.rejected);
  EXPECT_EQ(w.state().balance, 400);
}

TEST(review_transfers, a_debit_from_a_hold_has_a_fingerprint_of_its_own) {
  const command plain = cmd("k", transfer_debit{"t-1", "w-2", money{1, eur}});
  command from = plain;
  std::get<transfer_debit>(from.body).from_hold = "aml:0000000000000000";
  EXPECT_NE(fingerprint(plain), fingerprint(from));
}

}  // namespace
}  // namespace wallet::engine
