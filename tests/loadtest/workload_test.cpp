// Job generation: reproducible, in the mix and shares asked for, with well-formed holds, invalid
// commands that carry their expected answers, and names that map back to numbers.
#include <gtest/gtest.h>

#include <map>

#include "ledger.hpp"
#include "wire_text.hpp"
#include "workload.hpp"

namespace wallet::loadtest {
namespace {

workload_settings mixed() {
  workload_settings s;
  s.wallets = 1'000;
  s.weights = *parse_mix("deposit=40,withdraw=20,transfer=30,hold=10");
  s.duplicate_share = 0.05;
  s.invalid_share = 0.1;
  return s;
}

TEST(workload, the_same_index_makes_the_same_job) {
  const workload a(mixed());
  const workload b(mixed());
  for (std::uint64_t i = 0; i < 1'000; ++i) {
    const job x = a.make(i);
    const job y = b.make(i);
    ASSERT_EQ(x.step_count, y.step_count);
    for (std::size_t k = 0; k < x.step_count; ++k) {
      EXPECT_EQ(x.steps[k].what, y.steps[k].what);
      EXPECT_EQ(x.steps[k].wallet, y.steps[k].wallet);
      EXPECT_EQ(x.steps[k].amount, y.steps[k].amount);
      EXPECT_EQ(x.steps[k].id, y.steps[k].id);
    }
  }
}

TEST(workload, follows_the_mix_and_the_shares) {
  const workload w(mixed());
  std::map<op, int> first;
  int invalid = 0;
  int duplicated = 0;
  const int jobs = 100'000;
  for (int i = 0; i < jobs; ++i) {
    const job j = w.make(static_cast<std::uint64_t>(i));
    const command& c = j.steps[0];
    if (c.flaw != defect::none) {
      ++invalid;
      continue;
    }
    ++first[c.what];
    duplicated += c.with_duplicate ? 1 : 0;
    EXPECT_GE(c.amount, 1);
    EXPECT_LE(c.amount, 100);
    if (c.what == op::transfer) {
      EXPECT_NE(c.destination, c.wallet);
    }
    if (c.what == op::hold_place) {
      ASSERT_EQ(j.step_count, 2U);
      const command& end = j.steps[1];
      EXPECT_TRUE(end.what == op::hold_capture || end.what == op::hold_release);
      EXPECT_EQ(end.hold, c.hold);
      EXPECT_EQ(end.hold_amount, c.amount);
      EXPECT_LE(end.amount, c.amount);
      EXPECT_EQ(end.id, c.id + 1);
    }
  }
  EXPECT_NEAR(invalid / double(jobs), 0.1, 0.005);
  const double valid = jobs - invalid;
  EXPECT_NEAR(first[op::deposit] / valid, 0.4, 0.01);
  EXPECT_NEAR(first[op::withdraw] / valid, 0.2, 0.01);
  EXPECT_NEAR(first[op::transfer] / valid, 0.3, 0.01);
  EXPECT_NEAR(first[op::hold_place] / valid, 0.1, 0.01);
  EXPECT_NEAR(duplicated / valid, 0.05, 0.005);
}

TEST(workload, every_defect_occurs_and_expects_its_code) {
  const workload w(mixed());
  std::map<defect, int> seen;
  for (std::uint64_t i = 0; i < 20'000; ++i) {
    const command c = w.make(i).steps[0];
    if (c.flaw == defect::none) continue;
    ++seen[c.flaw];
    if (c.flaw == defect::unknown_wallet) {
      EXPECT_EQ(c.wallet, 0U);
    } else if (c.flaw == defect::transfer_to_self) {
      EXPECT_EQ(c.destination, c.wallet);
    } else if (c.flaw == defect::zero_amount) {
      EXPECT_EQ(c.amount, 0);
    }
    EXPECT_EQ(effect_of(c).balance, 0);  // an invalid command must change nothing
  }
  EXPECT_EQ(seen.size(), defect_count - 1);
  EXPECT_EQ(expected_for(defect::too_precise).status, answer_status::refused);
  EXPECT_EQ(expected_for(defect::too_precise).problem, "too_many_decimals");
  EXPECT_EQ(expected_for(defect::insufficient_funds).status, answer_status::rejected);
  EXPECT_EQ(expected_for(defect::insufficient_funds).code, "insufficient_funds");
}

TEST(workload, setup_opens_then_funds_with_fixed_keys) {
  workload_settings s = mixed();
  s.funding = 5'000;
  const job j = workload(s).setup(7);
  ASSERT_EQ(j.step_count, 2U);
  EXPECT_EQ(j.steps[0].what, op::open_wallet);
  EXPECT_EQ(j.steps[1].what, op::deposit);
  EXPECT_EQ(j.steps[1].amount, 5'000);
  naming names{"lt-", "r1"};
  EXPECT_EQ(names.key(j.steps[0]), "lt-setup-open");
  EXPECT_EQ(names.wallet_of(j.steps[1]), "lt-7");
}

TEST(workload, names_map_back_to_numbers) {
  const naming names{"lt-", "r42"};
  EXPECT_EQ(names.wallet_number("lt-123"), 123U);
  EXPECT_EQ(names.wallet_number("lt-"), 0U);
  EXPECT_EQ(names.wallet_number("lt-none-r42-8"), 0U);
  EXPECT_EQ(names.wallet_number("xx-1"), 0U);
  command c;
  c.id = 99;
  EXPECT_EQ(names.key(c), "r42-99");
  EXPECT_EQ(names.command_id("r42-99"), 99U);
  EXPECT_FALSE(names.command_id("r4-99"));
  EXPECT_FALSE(names.command_id("sys:credit:3:lt-1:r42-99"));
}

TEST(workload, mix_parsing) {
  const auto m = parse_mix("transfer");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->transfer, 1);
  EXPECT_EQ(m->deposit, 0);
  for (const char* bad : {"", "transfers", "deposit=x", "deposit=-1", "deposit=0"}) {
    EXPECT_FALSE(parse_mix(bad)) << bad;
  }
}

TEST(workload, effects_of_each_operation) {
  command c;
  c.wallet = 1;
  c.amount = 30;
  c.what = op::transfer;
  c.destination = 2;
  EXPECT_EQ(effect_of(c).balance, -30);
  EXPECT_EQ(effect_of(c).destination_balance, 30);
  c.what = op::hold_capture;
  c.hold_amount = 50;
  c.amount = 0;  // the whole hold
  EXPECT_EQ(effect_of(c).balance, -50);
  EXPECT_EQ(effect_of(c).held, -50);
  c.amount = 20;  // part of it; the rest is released
  EXPECT_EQ(effect_of(c).balance, -20);
  EXPECT_EQ(effect_of(c).held, -50);
  EXPECT_EQ(effect_of(c).captured, 20);
  c.what = op::hold_release;
  EXPECT_EQ(effect_of(c).balance, 0);
  EXPECT_EQ(effect_of(c).held, -50);
}

TEST(workload, rendered_commands_are_the_wire_format) {
  const naming names{"lt-", "r1"};
  command c;
  c.what = op::transfer;
  c.wallet = 3;
  c.destination = 4;
  c.amount = 1'234;
  c.id = 8;
  EXPECT_EQ(
      render_command(c, names),
      R"({"wallet_id":"lt-3","idempotency_key":"r1-8","type":"transfer","transfer_id":"r1-8",)"
      R"("destination":"lt-4","amount":"12.34","currency":"EUR"})");
  c.flaw = defect::too_precise;
  EXPECT_NE(render_command(c, names).find(R"("amount":"12.341")"), std::string::npos);
}

TEST(workload, outcomes_parse_into_answers) {
  const answer a = parse_outcome(
      R"({"status":"refused","replayed":false,"error":{"code":"invalid","message":"m",)"
      R"("retryable":false,"fields":[{"field":"amount","problem":"too_many_decimals"}]}})");
  EXPECT_EQ(a.status, answer_status::refused);
  EXPECT_EQ(a.code, "invalid");
  EXPECT_EQ(a.problem, "too_many_decimals");
  const answer b = parse_outcome(
      R"({"status":"rejected","replayed":true,"rejection":{"code":"insufficient_funds"}})");
  EXPECT_EQ(b.status, answer_status::rejected);
  EXPECT_EQ(b.code, "insufficient_funds");
  EXPECT_TRUE(b.replayed);
  EXPECT_EQ(parse_outcome("not json").status, answer_status::failed);
}

}  // namespace
}  // namespace wallet::loadtest
