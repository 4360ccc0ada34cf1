// KYC limits (ADR 0004, decision 1) and feature flags: every rule at its edges — exactly at a
// limit, one over, the UTC day rollover, a level change mid-day, open holds, explicit unlimited,
// per-currency entries, saturation — and which commands each flag refuses.
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wallet/engine/flags.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/wallet.hpp"

namespace wallet::engine {
namespace {

using namespace std::chrono_literals;

const currency eur = *currency::from_code("EUR");
const currency jpy = *currency::from_code("JPY");
const currency usd = *currency::from_code("USD");
// Noon UTC on 2026-11-30; midnight is the start of the next day.
constexpr timestamp noon{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30} + 12h};
constexpr timestamp midnight{std::chrono::sys_days{std::chrono::year{2026} / 12 / 1}};

money in_eur(std::int64_t minor) { return money{minor, eur}; }

constexpr std::int64_t balance_max = 10'000;
constexpr std::int64_t single_max = 3'000;
constexpr std::int64_t daily_max = 5'000;

// none: small limits in EUR, nothing at all elsewhere; basic: ten times more in EUR; full:
// unlimited everywhere (explicitly: the empty limits).
policy test_policy() {
  policy p{kyc_limits{0, 0, 0}};
  p.set(kyc::none, eur, kyc_limits{balance_max, single_max, daily_max});
  p.set(kyc::basic, eur, kyc_limits{10 * balance_max, 10 * single_max, 10 * daily_max});
  p.set_fallback(kyc::full, kyc_limits{});
  return p;
}

// A wallet driven only through decide() and apply(), as the wallet actor drives it.
class kyc_wallet {
 public:
  explicit kyc_wallet(policy limits = test_policy()) : limits_(std::move(limits)) {
    expect_ok(open_wallet{"owner-1", eur, 0}, noon - 1h);
  }

  result<event, rejection> send(const command_body& body, timestamp at) {
    auto d = decide(s_, command{"w-1", "k", body}, at, limits_);
    if (d.ok()) apply(s_, d.value());
    return d;
  }
  void expect_ok(const command_body& body, timestamp at) {
    const auto d = send(body, at);
    EXPECT_TRUE(d.ok()) << code(d.error());
  }
  void expect_rejected(const command_body& body, timestamp at, rejection expected) {
    const wallet_state before = s_;
    const auto d = send(body, at);
    ASSERT_FALSE(d.ok()) << "accepted " << event_name(d.value().body);
    EXPECT_EQ(code(d.error()), code(expected));
    EXPECT_EQ(s_, before);
  }
  // A deposit at full level (no limits), then back to `level`: funds without touching limits.
  void fund(std::int64_t amount, kyc level = kyc::none) {
    expect_ok(set_kyc_level{kyc::full, "funding"}, noon - 30min);
    expect_ok(deposit{in_eur(amount)}, noon - 30min);
    expect_ok(set_kyc_level{level, "back"}, noon - 30min);
  }

  [[nodiscard]] const wallet_state& state() const { return s_; }
  policy& limits() { return limits_; }

 private:
  policy limits_;
  wallet_state s_ = empty_wallet("w-1");
};

TEST(kyc_level, a_new_wallet_starts_at_none_and_set_kyc_level_changes_it) {
  kyc_wallet w;
  EXPECT_EQ(w.state().kyc_level, kyc::none);
  const auto d = w.send(set_kyc_level{kyc::basic, "id card checked"}, noon);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().body, (event_body{kyc_level_set{kyc::basic, "id card checked"}}));
  EXPECT_EQ(w.state().kyc_level, kyc::basic);
  EXPECT_EQ(balance_delta(d.value().body), 0);
  EXPECT_EQ(outgoing_amount(d.value().body), 0);
  // Setting the same level again is accepted (a re-verification), and down is allowed too.
  w.expect_ok(set_kyc_level{kyc::basic, "re-checked"}, noon);
  w.expect_ok(set_kyc_level{kyc::none, "document expired"}, noon);
  EXPECT_EQ(w.state().kyc_level, kyc::none);
}

TEST(kyc_level, names_round_trip_and_codes_are_stable) {
  for (const kyc k : {kyc::none, kyc::basic, kyc::full}) {
    EXPECT_EQ(kyc_from_string(to_string(k)), k);
    EXPECT_EQ(kyc_from_code(static_cast<std::int64_t>(k)), k);
  }
  EXPECT_EQ(static_cast<int>(kyc::none), 0);
  EXPECT_EQ(static_cast<int>(kyc::basic), 1);
  EXPECT_EQ(static_cast<int>(kyc::full), 2);
  EXPECT_FALSE(kyc_from_string("Full").has_value());
  EXPECT_FALSE(kyc_from_string("").has_value());
  EXPECT_FALSE(kyc_from_code(3).has_value());
  EXPECT_FALSE(kyc_from_code(-1).has_value());
}

TEST(kyc_balance, a_deposit_exactly_to_the_limit_is_accepted_one_more_is_not) {
  kyc_wallet w;
  w.expect_ok(deposit{in_eur(balance_max - 1)}, noon);
  w.expect_rejected(deposit{in_eur(2)}, noon, rejection::kyc_balance_limit_exceeded);
  w.expect_ok(deposit{in_eur(1)}, noon);
  EXPECT_EQ(w.state().balance, balance_max);
  w.expect_rejected(deposit{in_eur(1)}, noon, rejection::kyc_balance_limit_exceeded);
}

TEST(kyc_balance, a_credit_is_limited_but_a_reversal_always_lands) {
  kyc_wallet w;
  w.expect_ok(deposit{in_eur(balance_max)}, noon);
  w.expect_rejected(transfer_credit{"t-1", "w-2", in_eur(1)}, noon,
                    rejection::kyc_balance_limit_exceeded);
  // Money in flight returning to its source must land, whatever the limits.
  w.expect_ok(transfer_reversal{"t-2", in_eur(500)}, noon);
  EXPECT_EQ(w.state().balance, balance_max + 500);
}

TEST(kyc_balance, counts_from_a_negative_balance) {
  const policy p = test_policy();
  // An overdraft wallet: the limit applies to the balance after the deposit, not to the amount.
  wallet_state s = empty_wallet("w-2");
  apply(s, event{1, noon, wallet_opened{"o", eur, 2'000}});
  apply(s, event{2, noon, withdrawn{2'000}});
  const auto d = decide(s, command{"w-2", "k", deposit{in_eur(balance_max + 2'000)}}, noon, p);
  EXPECT_TRUE(d.ok());
  const auto over = decide(s, command{"w-2", "k", deposit{in_eur(balance_max + 2'001)}}, noon, p);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error(), rejection::kyc_balance_limit_exceeded);
}

TEST(kyc_withdrawal, one_move_exactly_at_the_limit_is_accepted_one_more_is_not) {
  kyc_wallet w;
  w.fund(9'000);
  w.expect_rejected(withdraw{in_eur(single_max + 1)}, noon,
                    rejection::kyc_withdrawal_limit_exceeded);
  w.expect_rejected(transfer_debit{"t-1", "w-2", in_eur(single_max + 1)}, noon,
                    rejection::kyc_withdrawal_limit_exceeded);
  w.expect_rejected(hold_place{"h-1", in_eur(single_max + 1), noon + 1h}, noon,
                    rejection::kyc_withdrawal_limit_exceeded);
  w.expect_ok(withdraw{in_eur(single_max)}, noon);
}

TEST(kyc_withdrawal, insufficient_funds_is_reported_before_the_kyc_limit) {
  kyc_wallet w;
  w.fund(100);
  w.expect_rejected(withdraw{in_eur(single_max + 1)}, noon, rejection::insufficient_funds);
}

TEST(kyc_daily, withdrawals_and_transfers_add_up_to_exactly_the_limit) {
  kyc_wallet w;
  w.fund(9'000);
  w.expect_ok(withdraw{in_eur(2'000)}, noon);
  w.expect_ok(transfer_debit{"t-1", "w-2", in_eur(2'000)}, noon + 1h);
  EXPECT_EQ(w.state().outgoing_today, 4'000);
  w.expect_rejected(withdraw{in_eur(1'001)}, noon + 2h, rejection::kyc_daily_limit_exceeded);
  w.expect_ok(withdraw{in_eur(1'000)}, noon + 2h);
  EXPECT_EQ(w.state().outgoing_today, daily_max);
  w.expect_rejected(transfer_debit{"t-2", "w-2", in_eur(1)}, noon + 3h,
                    rejection::kyc_daily_limit_exceeded);
}

TEST(kyc_daily, the_total_starts_again_at_utc_midnight) {
  kyc_wallet w;
  w.fund(9'000);
  w.expect_ok(withdraw{in_eur(single_max)}, midnight - 1h);
  w.expect_ok(withdraw{in_eur(daily_max - single_max)}, midnight - 1us);  // the day's last us
  w.expect_rejected(withdraw{in_eur(1)}, midnight - 1us, rejection::kyc_daily_limit_exceeded);
  EXPECT_EQ(w.state().outgoing_on(midnight - 1us), daily_max);
  EXPECT_EQ(w.state().outgoing_on(midnight), 0);
  w.expect_ok(withdraw{in_eur(1)}, midnight);  // the first microsecond of the next day
  EXPECT_EQ(w.state().outgoing_day, std::chrono::floor<std::chrono::days>(midnight));
  EXPECT_EQ(w.state().outgoing_today, 1);
}

TEST(kyc_daily, a_clock_that_steps_back_across_midnight_still_counts_the_recorded_day) {
  kyc_wallet w;
  w.fund(9'000);
  w.expect_ok(withdraw{in_eur(single_max)}, midnight + 1s);
  w.expect_ok(withdraw{in_eur(daily_max - single_max)}, midnight + 1s);
  // The clock stepped back into the previous day: the total of the later day still counts, so
  // a clock step cannot buy a second day's allowance.
  w.expect_rejected(withdraw{in_eur(1)}, midnight - 1s, rejection::kyc_daily_limit_exceeded);
  // And an event stamped on the earlier day adds to the recorded total.
  wallet_state s = w.state();
  apply(s, event{s.version + 1, midnight - 1s, withdrawn{7}});
  EXPECT_EQ(s.outgoing_day, std::chrono::floor<std::chrono::days>(midnight));
  EXPECT_EQ(s.outgoing_today, daily_max + 7);
}

TEST(kyc_daily, a_level_change_mid_day_keeps_the_days_total) {
  kyc_wallet w;
  w.fund(90'000);
  w.expect_ok(withdraw{in_eur(single_max)}, noon);
  w.expect_ok(withdraw{in_eur(daily_max - single_max)}, noon);
  w.expect_rejected(withdraw{in_eur(1)}, noon, rejection::kyc_daily_limit_exceeded);
  // Upgraded at 13:00: basic allows 50,000 a day, and the 5,000 already out count towards it.
  w.expect_ok(set_kyc_level{kyc::basic, "verified"}, noon + 1h);
  EXPECT_EQ(w.state().outgoing_today, daily_max);
  w.expect_ok(withdraw{in_eur(10 * single_max)}, noon + 1h);
  w.expect_ok(withdraw{in_eur(10 * daily_max - daily_max - 10 * single_max)}, noon + 1h);
  w.expect_rejected(withdraw{in_eur(1)}, noon + 2h, rejection::kyc_daily_limit_exceeded);
  // Downgraded again: the day is already past none's limit, so nothing more leaves today...
  w.expect_ok(set_kyc_level{kyc::none, "document expired"}, noon + 3h);
  w.expect_rejected(withdraw{in_eur(1)}, noon + 3h, rejection::kyc_daily_limit_exceeded);
  // ...and none's single-move limit applies again tomorrow.
  w.expect_rejected(withdraw{in_eur(single_max + 1)}, midnight,
                    rejection::kyc_withdrawal_limit_exceeded);
  w.expect_ok(withdraw{in_eur(single_max)}, midnight);
}

TEST(kyc_daily, open_holds_count_towards_the_day_and_their_capture_is_not_checked_again) {
  kyc_wallet w;
  w.fund(9'000);
  w.expect_ok(hold_place{"h-1", in_eur(3'000), noon + 2h}, noon);
  EXPECT_EQ(w.state().outgoing_today, 0) << "a hold is not money out";
  // 3,000 reserved: 2,000 more may leave today, not 2,001.
  w.expect_rejected(withdraw{in_eur(2'001)}, noon, rejection::kyc_daily_limit_exceeded);
  w.expect_rejected(hold_place{"h-2", in_eur(2'001), noon + 2h}, noon,
                    rejection::kyc_daily_limit_exceeded);
  w.expect_ok(withdraw{in_eur(2'000)}, noon);
  // The capture is the authorized move: never refused by a limit, even after a downgrade to a
  // level with nothing allowed; it counts on the day of the capture.
  w.limits().set(kyc::none, eur, kyc_limits{0, 0, 0});
  const auto d = w.send(hold_capture{"h-1", in_eur(2'500)}, noon + 1h);
  ASSERT_TRUE(d.ok()) << code(d.error());
  EXPECT_EQ(outgoing_amount(d.value().body), 2'500);
  EXPECT_EQ(w.state().outgoing_today, 4'500);
  EXPECT_EQ(w.state().held, 0) << "the rest of the hold is released";
}

TEST(kyc_daily, a_released_hold_frees_the_days_capacity) {
  kyc_wallet w;
  w.fund(9'000);
  w.expect_ok(hold_place{"h-1", in_eur(single_max), noon + 2h}, noon);
  w.expect_rejected(withdraw{in_eur(daily_max - single_max + 1)}, noon,
                    rejection::kyc_daily_limit_exceeded);
  w.expect_ok(hold_release{"h-1"}, noon);
  w.expect_ok(withdraw{in_eur(single_max)}, noon);
}

TEST(kyc_daily, a_hold_from_yesterday_still_counts_today_and_its_capture_counts_today) {
  kyc_wallet w;
  w.fund(9'000);
  w.expect_ok(hold_place{"h-1", in_eur(3'000), midnight + 24h}, noon);
  w.expect_rejected(withdraw{in_eur(2'001)}, midnight + 1h, rejection::kyc_daily_limit_exceeded);
  w.expect_ok(hold_capture{"h-1", std::nullopt}, midnight + 2h);
  EXPECT_EQ(w.state().outgoing_day, std::chrono::floor<std::chrono::days>(midnight));
  EXPECT_EQ(w.state().outgoing_today, 3'000);
}

TEST(kyc_limits, explicit_unlimited_allows_the_largest_amounts) {
  kyc_wallet w;
  w.expect_ok(set_kyc_level{kyc::full, "fully verified"}, noon);
  w.expect_ok(deposit{in_eur(amount_minor_max)}, noon);
  w.expect_ok(withdraw{in_eur(amount_minor_max)}, noon);
  EXPECT_EQ(w.state().outgoing_today, amount_minor_max);
}

TEST(kyc_limits, a_currency_without_an_entry_takes_the_levels_fallback) {
  const policy p = test_policy();
  EXPECT_EQ(p.limits(kyc::none, eur), (kyc_limits{balance_max, single_max, daily_max}));
  EXPECT_EQ(p.limits(kyc::none, jpy), (kyc_limits{0, 0, 0}));
  EXPECT_TRUE(p.limits(kyc::full, usd).unlimited());
  EXPECT_FALSE(p.is_unlimited());
  EXPECT_TRUE(policy::unlimited().is_unlimited());
  // A JPY wallet at level none: no deposit at all is allowed by the fallback of zeros.
  wallet_state s = empty_wallet("w-3");
  apply(s, event{1, noon, wallet_opened{"o", jpy, 0}});
  const auto d = decide(s, command{"w-3", "k", deposit{money{1, jpy}}}, noon, p);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), rejection::kyc_balance_limit_exceeded);
}

TEST(kyc_limits, checked_arithmetic_never_overflows) {
  policy p{kyc_limits{}};
  constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
  p.set(kyc::none, eur, kyc_limits{int64_max, int64_max, int64_max});
  wallet_state s = empty_wallet("w-4");
  apply(s, event{1, noon, wallet_opened{"o", eur, 0}});
  apply(s, event{2, noon, deposited{balance_minor_max}});
  // The day's total saturates instead of wrapping...
  s.outgoing_day = std::chrono::floor<std::chrono::days>(noon);
  s.outgoing_today = outgoing_total_max - 5;
  apply(s, event{3, noon, withdrawn{10}});
  EXPECT_EQ(s.outgoing_today, outgoing_total_max);
  // ...and total + held + amount past int64 is a daily rejection, not a wrapped sum.
  const auto d = decide(s, command{"w-4", "k", withdraw{in_eur(1)}}, noon, p);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), rejection::kyc_daily_limit_exceeded);
  // The balance check: balance + amount past int64 is refused as the engine's own ceiling first.
  const auto in = decide(s, command{"w-4", "k", deposit{in_eur(amount_minor_max)}}, noon, p);
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.error(), rejection::balance_limit_exceeded);
  // The next day starts from zero.
  EXPECT_TRUE(decide(s, command{"w-4", "k", withdraw{in_eur(1)}}, midnight, p).ok());
}

TEST(kyc_limits, apply_ignores_the_policy_so_a_replay_rebuilds_the_same_state) {
  std::vector<event> log;
  wallet_state s = empty_wallet("w-1");
  for (const auto& body :
       std::vector<command_body>{open_wallet{"o", eur, 0}, deposit{in_eur(20'000)},
                                 withdraw{in_eur(7'000)}, set_kyc_level{kyc::basic, "ok"}}) {
    const auto d = decide(s, command{"w-1", "k", body}, noon, policy::unlimited());
    ASSERT_TRUE(d.ok());
    log.push_back(d.value());
    apply(s, d.value());
  }
  // Folding the same events is independent of any policy: apply() has no policy argument, and
  // the state it rebuilds carries the level and the day's total.
  wallet_state replay = empty_wallet("w-1");
  for (const event& e : log) apply(replay, e);
  EXPECT_EQ(replay, s);
  EXPECT_EQ(replay.kyc_level, kyc::basic);
  EXPECT_EQ(replay.outgoing_today, 7'000);
}

TEST(kyc_rejections, codes_are_appended_and_only_feature_disabled_is_transient) {
  EXPECT_EQ(static_cast<int>(rejection::holds_limit_reached), 26);
  EXPECT_EQ(static_cast<int>(rejection::kyc_balance_limit_exceeded), 27);
  EXPECT_EQ(static_cast<int>(rejection::kyc_withdrawal_limit_exceeded), 28);
  EXPECT_EQ(static_cast<int>(rejection::kyc_daily_limit_exceeded), 29);
  EXPECT_EQ(static_cast<int>(rejection::feature_disabled), 30);
  EXPECT_EQ(code(rejection::kyc_daily_limit_exceeded), "kyc_daily_limit_exceeded");
  EXPECT_EQ(code(rejection::feature_disabled), "feature_disabled");
  EXPECT_FALSE(is_transient(rejection::kyc_balance_limit_exceeded));
  EXPECT_FALSE(is_transient(rejection::kyc_withdrawal_limit_exceeded));
  EXPECT_FALSE(is_transient(rejection::kyc_daily_limit_exceeded));
  EXPECT_TRUE(is_transient(rejection::feature_disabled));
}

// ---- Feature flags.
// ------------------------------------------------------------------------------

struct flag_case {
  std::string name;
  command_body body;
  std::optional<flag> with_everything_off;  // the flag that refuses it when every switch is off
};

void PrintTo(const flag_case& c, std::ostream* os) { *os << c.name; }

class flags_refuse : public ::testing::TestWithParam<flag_case> {};

feature_flags everything_off() {
  feature_flags f;
  f.accept_new_wallets = false;
  f.accept_transfers = false;
  f.aml_screening = true;
  f.currencies_by_default = false;
  return f;
}

TEST_P(flags_refuse, only_commands_that_start_something_new) {
  const flag_case& c = GetParam();
  EXPECT_EQ(refusing_flag(feature_flags{}, c.body), std::nullopt) << "the defaults refuse nothing";
  EXPECT_EQ(refusing_flag(everything_off(), c.body), c.with_everything_off);
}

std::vector<flag_case> flag_cases() {
  const auto t = noon + 1h;
  return {
      {"open_wallet", open_wallet{"o", eur, 0}, flag::accept_new_wallets},
      {"transfer_debit", transfer_debit{"t", "w-2", in_eur(1)}, flag::accept_transfers},
      {"deposit", deposit{in_eur(1)}, flag::currency},
      {"hold_place", hold_place{"h", in_eur(1), t}, flag::currency},
      {"withdraw", withdraw{in_eur(1)}, std::nullopt},
      {"transfer_credit", transfer_credit{"t", "w-2", in_eur(1)}, std::nullopt},
      {"transfer_reversal", transfer_reversal{"t", in_eur(1)}, std::nullopt},
      {"hold_capture", hold_capture{"h", in_eur(1)}, std::nullopt},
      {"hold_release", hold_release{"h"}, std::nullopt},
      {"hold_expire", hold_expire{"h"}, std::nullopt},
      {"freeze", freeze{"r"}, std::nullopt},
      {"unfreeze", unfreeze{"r"}, std::nullopt},
      {"close_wallet", close_wallet{}, std::nullopt},
      {"set_kyc_level", set_kyc_level{kyc::full, "r"}, std::nullopt},
  };
}

INSTANTIATE_TEST_SUITE_P(every_command, flags_refuse, ::testing::ValuesIn(flag_cases()),
                         [](const auto& p) { return p.param.name; });

TEST(flags, the_table_covers_every_command) {
  std::set<std::size_t> seen;
  for (const auto& c : flag_cases()) seen.insert(c.body.index());
  EXPECT_EQ(seen.size(), std::variant_size_v<command_body>);
}

TEST(flags, one_currency_can_be_switched_off_or_on_against_the_default) {
  feature_flags f;
  f.currencies[usd.numeric()] = false;
  EXPECT_EQ(refusing_flag(f, deposit{money{1, usd}}), flag::currency);
  EXPECT_EQ(refusing_flag(f, deposit{in_eur(1)}), std::nullopt);
  EXPECT_EQ(refusing_flag(f, open_wallet{"o", usd, 0}), flag::currency);
  EXPECT_EQ(refusing_flag(f, transfer_debit{"t", "w", money{1, usd}}), flag::currency);
  // An allow list: everything off but EUR.
  feature_flags only_eur;
  only_eur.currencies_by_default = false;
  only_eur.currencies[eur.numeric()] = true;
  EXPECT_EQ(refusing_flag(only_eur, deposit{in_eur(1)}), std::nullopt);
  EXPECT_EQ(refusing_flag(only_eur, deposit{money{1, jpy}}), flag::currency);
  // A command without a currency is left to decide(), which rejects it as currency_invalid.
  EXPECT_EQ(refusing_flag(only_eur, deposit{money{1, currency{}}}), std::nullopt);
}

TEST(flags, accept_new_wallets_wins_over_the_currency_and_aml_refuses_nothing_yet) {
  feature_flags f;
  f.accept_new_wallets = false;
  f.currencies_by_default = false;
  EXPECT_EQ(refusing_flag(f, open_wallet{"o", eur, 0}), flag::accept_new_wallets);
  feature_flags aml;
  aml.aml_screening = true;
  EXPECT_EQ(refusing_flag(aml, withdraw{in_eur(amount_minor_max)}), std::nullopt);
  EXPECT_EQ(to_string(flag::accept_transfers), "accept_transfers");
}

TEST(flags, the_aggregate_refuses_after_the_key_check_and_before_decide) {
  wallet_aggregate w{"w-1", 24h};
  feature_flags closed;
  closed.accept_new_wallets = false;
  const auto refused =
      w.handle(command{"w-1", "open", open_wallet{"o", eur, 0}}, noon, policy::unlimited(), closed);
  EXPECT_EQ(refused.result.rejected, rejection::feature_disabled);
  EXPECT_EQ(refused.result.seq, 0u);
  EXPECT_EQ(w.state().status, wallet_status::none);
  // An invalid key is still reported as such: the key is checked first.
  EXPECT_EQ(
      w.handle(command{"w-1", "", open_wallet{"o", eur, 0}}, noon, policy::unlimited(), closed)
          .result.rejected,
      rejection::idempotency_key_invalid);
}

}  // namespace
}  // namespace wallet::engine
