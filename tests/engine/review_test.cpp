// AML review holds (ADR 0009): the review id, the reserved hold ids, and the aggregate holding a
// withdrawal for review and settling it only under the review's decision key.
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

}  // namespace
}  // namespace wallet::engine
