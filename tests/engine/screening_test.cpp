// AML screening rules (ADR 0007): the per-currency amount text, when a move is screened (threshold
// at its edge, velocity count and sum over a sliding window), the rules provider's verdicts, and
// how the wallet aggregate answers aml_denied (remembered) and aml_unavailable (transient).
#include <gtest/gtest.h>

#include <limits>

#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/screening.hpp"

namespace wallet::engine {
namespace {

using namespace std::chrono_literals;

const currency eur = *currency::from_code("EUR");
const currency jpy = *currency::from_code("JPY");
const currency usd = *currency::from_code("USD");
constexpr timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30} + 12h};
constexpr auto reason_amount = static_cast<screening_reasons>(screening_reason::amount);
constexpr auto reason_count = static_cast<screening_reasons>(screening_reason::velocity_count);
constexpr auto reason_sum = static_cast<screening_reasons>(screening_reason::velocity_sum);

currency_amounts amounts(std::string_view text) {
  auto parsed = parse_currency_amounts(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error());
  return parsed.ok() ? std::move(parsed).value() : currency_amounts{};
}

TEST(currency_amounts, parses_entries_and_the_fallback) {
  const auto a = amounts(" EUR:100000 , USD:5,*:7 ");
  EXPECT_EQ(a.find(eur), 100'000);
  EXPECT_EQ(a.find(usd), 5);
  EXPECT_EQ(a.find(jpy), 7);
  const auto none = amounts("");
  EXPECT_EQ(none.find(eur), std::nullopt);
  EXPECT_EQ(amounts("EUR:0").find(usd), std::nullopt);
  EXPECT_EQ(amounts("EUR:9223372036854775807").find(eur), std::numeric_limits<std::int64_t>::max());
}

TEST(currency_amounts, refuses_bad_entries_with_the_entry_named) {
  for (const std::string_view bad :
       {"EUR", "EUR:", "EUR:-1", "EUR:1.5", "EUR:1e3", "XAU:1", "eur:1", "EUR:1,EUR:2", "*:1,*:2",
        "EUR:1,", "EUR:9223372036854775808", ":5"}) {
    const auto parsed = parse_currency_amounts(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  EXPECT_NE(parse_currency_amounts("XAU:1").error().find("XAU"), std::string::npos);
  EXPECT_NE(parse_currency_amounts("EUR:x").error().find("EUR:x"), std::string::npos);
}

TEST(screening_needed, amount_threshold_is_inclusive_and_per_currency) {
  screening_rules rules;
  rules.threshold = amounts("EUR:1000,*:50");
  const outgoing_velocity none;
  EXPECT_EQ(screening_needed(rules, none, money{999, eur}), 0);
  EXPECT_EQ(screening_needed(rules, none, money{1000, eur}), reason_amount);
  EXPECT_EQ(screening_needed(rules, none, money{49, usd}), 0);
  EXPECT_EQ(screening_needed(rules, none, money{50, usd}), reason_amount);
  rules.threshold = amounts("EUR:1000");
  EXPECT_EQ(screening_needed(rules, none, money{1'000'000, usd}), 0) << "no rule for USD";
}

TEST(screening_needed, velocity_count_over_a_sliding_window) {
  screening_rules rules;
  rules.velocity_window = 1h;
  rules.velocity_count_max = 3;
  outgoing_velocity recent;
  for (int i = 0; i < 2; ++i) recent.record(t0 + std::chrono::minutes{i}, 10);
  EXPECT_EQ(screening_needed(rules, recent, money{1, eur}), 0);
  recent.record(t0 + 2min, 10);
  EXPECT_EQ(screening_needed(rules, recent, money{1, eur}), reason_count);
  // The first move leaves the window exactly one window after it was made.
  recent.expire(t0 + 1h - 1us, rules.velocity_window);
  EXPECT_EQ(recent.count(), 3U);
  recent.expire(t0 + 1h, rules.velocity_window);
  EXPECT_EQ(recent.count(), 2U);
  EXPECT_EQ(recent.sum(), 20);
  EXPECT_EQ(screening_needed(rules, recent, money{1, eur}), 0);
}

TEST(screening_needed, velocity_sum_counts_this_move_and_is_per_currency) {
  screening_rules rules;
  rules.velocity_sum_max = amounts("EUR:100");
  outgoing_velocity recent;
  recent.record(t0, 60);
  EXPECT_EQ(screening_needed(rules, recent, money{40, eur}), 0) << "exactly at the maximum";
  EXPECT_EQ(screening_needed(rules, recent, money{41, eur}), reason_sum);
  EXPECT_EQ(screening_needed(rules, recent, money{41, usd}), 0);
  rules.threshold = amounts("EUR:41");
  rules.velocity_count_max = 1;
  EXPECT_EQ(screening_needed(rules, recent, money{41, eur}),
            reason_amount | reason_count | reason_sum);
  EXPECT_EQ(reasons_text(reason_amount | reason_sum), "amount,velocity_sum");
}

TEST(outgoing_velocity, saturates_and_recovers_its_sum) {
  constexpr auto big = std::numeric_limits<std::int64_t>::max();
  outgoing_velocity recent;
  recent.record(t0, big);
  recent.record(t0 + 1s, 5);
  EXPECT_EQ(recent.sum(), big);
  screening_rules rules;
  rules.velocity_sum_max = amounts("*:9223372036854775807");
  EXPECT_EQ(screening_needed(rules, recent, money{1, eur}), reason_sum) << "no wrap";
  recent.expire(t0 + 1h + 500ms, 1h);
  EXPECT_EQ(recent.count(), 1U);
  EXPECT_EQ(recent.sum(), 5);
}

TEST(outgoing_velocity, is_bounded) {
  outgoing_velocity recent;
  for (std::size_t i = 0; i < outgoing_velocity::outgoing_moves_max + 10; ++i) {
    recent.record(t0 + std::chrono::microseconds{static_cast<std::int64_t>(i)}, 1);
  }
  EXPECT_EQ(recent.count(), outgoing_velocity::outgoing_moves_max);
  EXPECT_EQ(recent.sum(), static_cast<std::int64_t>(outgoing_velocity::outgoing_moves_max));
}

// At the bound each move drops the oldest and takes its amount off the sum: the sum is exactly
// that of the moves kept, for distinct amounts and after a saturating move has left.
TEST(outgoing_velocity, at_its_bound_sums_exactly_the_moves_it_keeps) {
  constexpr std::size_t kept = outgoing_velocity::outgoing_moves_max;
  outgoing_velocity recent;
  recent.record(t0, std::numeric_limits<std::int64_t>::max());
  const auto amount_of = [](std::size_t i) { return static_cast<std::int64_t>(i * 7 % 1'000 + 1); };
  std::int64_t last_kept = 0;  // the sum of the `kept` newest amounts
  for (std::size_t i = 1; i <= 2 * kept + 3; ++i) {
    recent.record(t0 + std::chrono::microseconds{static_cast<std::int64_t>(i)}, amount_of(i));
    if (i < kept) {
      EXPECT_EQ(recent.sum(), std::numeric_limits<std::int64_t>::max()) << i;
    }
  }
  for (std::size_t i = kept + 4; i <= 2 * kept + 3; ++i) last_kept += amount_of(i);
  EXPECT_EQ(recent.count(), kept);
  EXPECT_EQ(recent.sum(), last_kept);
}

TEST(screened_amount, only_withdrawals_transfer_debits_and_holds) {
  EXPECT_EQ(screened_amount(withdraw{money{5, eur}}), (money{5, eur}));
  EXPECT_EQ(screened_amount(transfer_debit{"t", "w-2", money{7, eur}}), (money{7, eur}));
  EXPECT_EQ(screened_amount(deposit{money{5, eur}}), std::nullopt);
  EXPECT_EQ(screened_amount(transfer_credit{"t", "w-2", money{7, eur}}), std::nullopt);
  EXPECT_EQ(screened_amount(hold_place{"h", money{7, eur}, t0}), (money{7, eur}));
  EXPECT_EQ(screened_amount(hold_capture{"h", std::nullopt}), std::nullopt);
  EXPECT_EQ(screened_amount(hold_release{"h"}), std::nullopt);
}

TEST(rules_verdict, deny_then_review_then_allow) {
  rules_verdicts rules;
  rules.deny_from = amounts("EUR:10000");
  rules.review_from = amounts("EUR:5000");
  EXPECT_EQ(rules_verdict(rules, money{4999, eur}, reason_amount), screening_verdict::allow);
  EXPECT_EQ(rules_verdict(rules, money{5000, eur}, reason_amount), screening_verdict::review);
  EXPECT_EQ(rules_verdict(rules, money{10000, eur}, reason_amount), screening_verdict::deny);
  EXPECT_EQ(rules_verdict(rules, money{1'000'000, usd}, reason_amount), screening_verdict::allow);
  EXPECT_EQ(rules_verdict(rules, money{1, eur}, reason_count), screening_verdict::allow);
  rules.review_on_velocity = true;
  EXPECT_EQ(rules_verdict(rules, money{1, eur}, reason_count), screening_verdict::review);
  EXPECT_EQ(rules_verdict(rules, money{1, eur}, reason_sum), screening_verdict::review);
  EXPECT_EQ(rules_verdict(rules, money{1, eur}, reason_amount), screening_verdict::allow);
}

TEST(screening_verdict, text_round_trips) {
  for (const auto v :
       {screening_verdict::allow, screening_verdict::deny, screening_verdict::review}) {
    EXPECT_EQ(verdict_from(to_string(v)), v);
  }
  EXPECT_EQ(verdict_from("ALLOW"), std::nullopt);
  EXPECT_EQ(verdict_from(""), std::nullopt);
}

class screened_wallet : public ::testing::Test {
 protected:
  screened_wallet() : w_("w-1", 24h) {
    EXPECT_FALSE(handle({"w-1", "open", open_wallet{"o", eur, 0}}).result.rejected);
    EXPECT_FALSE(handle({"w-1", "dep", deposit{money{1000, eur}}}).result.rejected);
  }
  handled handle(const command& c, std::optional<rejection> screened = std::nullopt) {
    return w_.handle(c, t0, limits_, flags_, screened);
  }
  wallet_aggregate w_;
  policy limits_ = policy::unlimited();
  feature_flags flags_;
};

TEST_F(screened_wallet, denied_is_remembered_and_changes_nothing) {
  const command out{"w-1", "wd-1", withdraw{money{100, eur}}};
  ASSERT_TRUE(w_.would_accept(out, t0, limits_, flags_));
  const auto denied = handle(out, rejection::aml_denied);
  EXPECT_EQ(denied.result.rejected, rejection::aml_denied);
  EXPECT_FALSE(denied.appended);
  EXPECT_EQ(w_.state().balance, 1000);
  // The repeat is answered from the key, without a screening.
  EXPECT_FALSE(w_.would_accept(out, t0, limits_, flags_));
  const auto again = handle(out);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result.rejected, rejection::aml_denied);
}

TEST_F(screened_wallet, unavailable_is_transient) {
  const command out{"w-1", "wd-1", withdraw{money{100, eur}}};
  const auto refused = handle(out, rejection::aml_unavailable);
  EXPECT_EQ(refused.result.rejected, rejection::aml_unavailable);
  EXPECT_FALSE(refused.replayed);
  EXPECT_TRUE(is_transient(rejection::aml_unavailable));
  EXPECT_FALSE(is_transient(rejection::aml_denied));
  // Not remembered: the same key is decided once the provider answers.
  ASSERT_TRUE(w_.would_accept(out, t0, limits_, flags_));
  const auto allowed = handle(out);
  EXPECT_FALSE(allowed.result.rejected);
  EXPECT_EQ(w_.state().balance, 900);
}

TEST_F(screened_wallet, would_accept_is_false_where_decide_or_the_key_answers) {
  EXPECT_FALSE(w_.would_accept({"w-1", "wd-2", withdraw{money{5000, eur}}}, t0, limits_, flags_))
      << "insufficient funds: answered without a screening";
  EXPECT_FALSE(w_.would_accept({"w-1", "", withdraw{money{5, eur}}}, t0, limits_, flags_));
  EXPECT_FALSE(w_.would_accept({"w-1", "dep", withdraw{money{5, eur}}}, t0, limits_, flags_))
      << "a key already used";
  feature_flags off;
  off.accept_transfers = false;
  EXPECT_FALSE(w_.would_accept({"w-1", "t-1", transfer_debit{"t-1", "w-2", money{5, eur}}}, t0,
                               limits_, off));
  EXPECT_TRUE(w_.would_accept({"w-1", "t-1", transfer_debit{"t-1", "w-2", money{5, eur}}}, t0,
                              limits_, flags_));
  EXPECT_EQ(w_.state().balance, 1000) << "would_accept changes nothing";
}

}  // namespace
}  // namespace wallet::engine
