// The wallet aggregate's idempotency: replays return the original outcome, conflicts are refused.
#include <gtest/gtest.h>

#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/limits.hpp"

namespace wallet::engine {
namespace {

using namespace std::chrono_literals;

const currency eur = *currency::from_code("EUR");
const timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}};
constexpr duration retention = std::chrono::hours{24};
const idempotency_bounds bounds{retention};
// NOLINTNEXTLINE(cert-err58-cpp): a fixture value built before main; a throw there fails the run.
const policy no_limits = policy::unlimited();
const feature_flags all_on{};

command cmd(std::string key, command_body body) {
  return command{"w-1", std::move(key), std::move(body)};
}

wallet_aggregate opened_wallet() {
  wallet_aggregate w{"w-1", retention};
  const auto h = w.handle(cmd("open", open_wallet{"owner-1", eur, 0}), t0, no_limits, all_on);
  EXPECT_FALSE(h.result.rejected.has_value());
  return w;
}

TEST(idempotency, a_repeat_returns_the_original_success_and_changes_nothing) {
  wallet_aggregate w = opened_wallet();
  const auto first = w.handle(cmd("dep-1", deposit{money{500, eur}}), t0, no_limits, all_on);
  ASSERT_TRUE(first.appended.has_value());
  EXPECT_FALSE(first.replayed);
  const wallet_state after_first = w.state();

  const auto again = w.handle(cmd("dep-1", deposit{money{500, eur}}), t0 + 1s, no_limits, all_on);
  EXPECT_TRUE(again.replayed);
  EXPECT_FALSE(again.appended.has_value());
  EXPECT_EQ(again.result, first.result);
  EXPECT_EQ(w.state(), after_first);
  EXPECT_EQ(w.state().balance, 500);
}

TEST(idempotency, a_repeat_of_a_rejection_returns_the_same_rejection_even_when_it_would_now_pass) {
  wallet_aggregate w = opened_wallet();
  const auto first = w.handle(cmd("wd-1", withdraw{money{100, eur}}), t0, no_limits, all_on);
  ASSERT_EQ(first.result.rejected, rejection::insufficient_funds);
  ASSERT_FALSE(
      w.handle(cmd("dep-1", deposit{money{1'000, eur}}), t0, no_limits, all_on).result.rejected);

  const auto again = w.handle(cmd("wd-1", withdraw{money{100, eur}}), t0, no_limits, all_on);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, first.result);
  EXPECT_EQ(w.state().balance, 1'000);
}

TEST(idempotency, the_same_key_with_other_content_is_a_conflict) {
  wallet_aggregate w = opened_wallet();
  ASSERT_FALSE(
      w.handle(cmd("dep-1", deposit{money{500, eur}}), t0, no_limits, all_on).result.rejected);
  const wallet_state before = w.state();
  const auto clash = w.handle(cmd("dep-1", deposit{money{501, eur}}), t0, no_limits, all_on);
  EXPECT_EQ(clash.result.rejected, rejection::idempotency_conflict);
  EXPECT_FALSE(clash.replayed);
  EXPECT_EQ(w.state(), before);
  // The original stays: the right content is still a replay, not a conflict.
  EXPECT_TRUE(w.handle(cmd("dep-1", deposit{money{500, eur}}), t0, no_limits, all_on).replayed);
  // Another command type under the same key is a conflict too.
  EXPECT_EQ(
      w.handle(cmd("dep-1", withdraw{money{500, eur}}), t0, no_limits, all_on).result.rejected,
      rejection::idempotency_conflict);
}

TEST(idempotency, keys_expire_after_the_retention_window) {
  wallet_aggregate w = opened_wallet();
  ASSERT_FALSE(
      w.handle(cmd("dep-1", deposit{money{500, eur}}), t0, no_limits, all_on).result.rejected);
  EXPECT_TRUE(
      w.handle(cmd("dep-1", deposit{money{500, eur}}), t0 + retention - 1us, no_limits, all_on)
          .replayed);
  const auto later =
      w.handle(cmd("dep-1", deposit{money{500, eur}}), t0 + retention, no_limits, all_on);
  EXPECT_FALSE(later.replayed);
  EXPECT_EQ(w.state().balance, 1'000);
}

TEST(idempotency, invalid_keys_are_refused_and_not_remembered) {
  wallet_aggregate w = opened_wallet();
  const std::size_t before = w.window().size();
  for (const std::string& key :
       {std::string{}, std::string{"a key"}, std::string(idempotency_key_length_max + 1, 'k')}) {
    const auto h = w.handle(cmd(key, deposit{money{5, eur}}), t0, no_limits, all_on);
    EXPECT_EQ(h.result.rejected, rejection::idempotency_key_invalid) << key;
  }
  EXPECT_EQ(w.window().size(), before);
  EXPECT_EQ(w.state().balance, 0);
}

TEST(idempotency, a_full_window_evicts_its_oldest_key_and_asks_for_a_lookup_of_it) {
  wallet_aggregate w{"w-1", idempotency_bounds{retention, 4}};
  ASSERT_FALSE(
      w.handle(cmd("open", open_wallet{"owner-1", eur, 0}), t0, no_limits, all_on).result.rejected);
  for (int i = 1; i <= 3; ++i) {
    const auto h = w.handle(cmd("d-" + std::to_string(i), deposit{money{1, eur}}), t0 + 1s * i,
                            no_limits, all_on);
    ASSERT_FALSE(h.result.rejected);
    EXPECT_EQ(h.evicted, 0U);
  }
  // The window holds 4: a fifth command is taken (no refusal), and "open" leaves memory.
  const auto fifth = w.handle(cmd("d-4", deposit{money{1, eur}}), t0 + 4s, no_limits, all_on);
  EXPECT_FALSE(fifth.result.rejected);
  EXPECT_TRUE(fifth.appended.has_value());
  EXPECT_EQ(fifth.evicted, 1U);
  EXPECT_EQ(w.window().size(), 4U);
  EXPECT_EQ(w.window().find("open"), nullptr);
  EXPECT_NE(w.window().find("d-1"), nullptr);
  ASSERT_NE(w.window().evicted(), nullptr);
  EXPECT_EQ(w.window().evicted()->keys(), 1U);
  // Evicted oldest first: the next one to go is d-1.
  ASSERT_FALSE(
      w.handle(cmd("d-5", deposit{money{1, eur}}), t0 + 5s, no_limits, all_on).result.rejected);
  EXPECT_EQ(w.window().find("d-1"), nullptr);
  EXPECT_NE(w.window().find("d-2"), nullptr);
  EXPECT_EQ(w.state().balance, 5);

  // A repeat of an evicted key is not decided: the caller must ask the store first.
  const command again = cmd("d-1", deposit{money{1, eur}});
  EXPECT_TRUE(w.needs_lookup(again, t0 + 6s));
  const auto asked = w.handle(again, t0 + 6s, no_limits, all_on);
  EXPECT_TRUE(asked.lookup);
  EXPECT_FALSE(asked.appended.has_value());
  EXPECT_FALSE(asked.remembered);
  EXPECT_FALSE(w.would_accept(again, t0 + 6s, no_limits, all_on));
  EXPECT_EQ(w.state().balance, 5);
  // The store's record answers it: the original outcome, or a conflict for other content.
  const idempotency_record stored{fingerprint(again), outcome{std::nullopt, 3, 1, 0}, t0 + 1s};
  const auto recalled = w.recall(again, stored);
  EXPECT_TRUE(recalled.replayed);
  EXPECT_EQ(recalled.result, stored.result);
  const auto conflict = w.recall(cmd("d-1", deposit{money{2, eur}}), stored);
  EXPECT_EQ(conflict.result.rejected, rejection::idempotency_conflict);
  EXPECT_FALSE(conflict.replayed);
  EXPECT_EQ(w.state().balance, 5);
}

TEST(idempotency, a_key_the_store_does_not_hold_is_decided_as_new) {
  wallet_aggregate w{"w-1", idempotency_bounds{retention, 1}};
  ASSERT_FALSE(
      w.handle(cmd("open", open_wallet{"owner-1", eur, 0}), t0, no_limits, all_on).result.rejected);
  ASSERT_FALSE(w.handle(cmd("d-1", deposit{money{1, eur}}), t0, no_limits, all_on).result.rejected);
  // "open" is evicted; a command under it that the store does not hold (say a purged record) is
  // decided as a new one once the caller says so.
  const command reused = cmd("open", deposit{money{7, eur}});
  ASSERT_TRUE(w.needs_lookup(reused, t0));
  EXPECT_TRUE(w.would_accept(reused, t0, no_limits, all_on, key_check::absent_from_store));
  const auto h =
      w.handle(reused, t0, no_limits, all_on, std::nullopt, key_check::absent_from_store);
  EXPECT_FALSE(h.lookup);
  EXPECT_FALSE(h.result.rejected);
  EXPECT_TRUE(h.appended.has_value());
  EXPECT_EQ(w.state().balance, 8);
}

TEST(idempotency, new_keys_of_a_wallet_that_evicted_need_no_lookup) {
  wallet_aggregate w{"w-1", idempotency_bounds{retention, 16}};
  ASSERT_FALSE(
      w.handle(cmd("open", open_wallet{"owner-1", eur, 0}), t0, no_limits, all_on).result.rejected);
  for (int i = 0; i < 2'000; ++i) {
    ASSERT_FALSE(
        w.handle(cmd("seen-" + std::to_string(i), deposit{money{1, eur}}), t0, no_limits, all_on)
            .result.rejected);
  }
  ASSERT_NE(w.window().evicted(), nullptr);
  // Of 10,000 keys never seen, the filter sends almost none to the store (about 0.1% expected).
  std::size_t lookups = 0;
  for (int i = 0; i < 10'000; ++i) {
    lookups +=
        w.needs_lookup(cmd("never-" + std::to_string(i), deposit{money{1, eur}}), t0) ? 1U : 0U;
  }
  EXPECT_LT(lookups, 100U);
  // Every evicted key is sent to the store: the filter has no false negatives.
  for (int i = 0; i < 2'000 - 16; ++i) {
    EXPECT_TRUE(w.needs_lookup(cmd("seen-" + std::to_string(i), deposit{money{1, eur}}), t0)) << i;
  }
}

TEST(idempotency, a_clock_that_steps_back_keeps_the_window_ordered) {
  wallet_aggregate w = opened_wallet();
  ASSERT_FALSE(
      w.handle(cmd("a", deposit{money{1, eur}}), t0 + 10s, no_limits, all_on).result.rejected);
  ASSERT_FALSE(
      w.handle(cmd("b", deposit{money{1, eur}}), t0 + 5s, no_limits, all_on).result.rejected);
  ASSERT_NE(w.window().find("b"), nullptr);
  EXPECT_EQ(w.window().find("b")->recorded_at, t0 + 10s);
}

idempotency_record record_at(timestamp at, std::uint64_t print = 1) {
  return idempotency_record{print, outcome{}, at};
}

// Keys longer than the short-string buffer, so that a copy that shared the original's key texts
// or links would be caught by the sanitizers and by the checks below.
std::string long_key(int i) { return "a-key-longer-than-sixteen-bytes-" + std::to_string(i); }

TEST(idempotency_window, expires_in_recording_order_and_links_survive_growth) {
  idempotency_window w;
  for (int i = 0; i < 1'000; ++i) {  // enough to rehash the map several times
    w.remember(long_key(i), record_at(t0 + std::chrono::seconds{i}), bounds);
  }
  w.expire(t0 + retention + 499s, retention);  // forgets the records of t0 .. t0 + 499 s
  EXPECT_EQ(w.size(), 500U);
  EXPECT_EQ(w.find(long_key(499)), nullptr);
  ASSERT_NE(w.find(long_key(500)), nullptr);
  w.remember("new", record_at(t0), bounds);  // stamped with the newest time: expires last
  EXPECT_EQ(w.find("new")->recorded_at, t0 + 999s);
  w.expire(t0 + retention + 998s, retention);
  EXPECT_EQ(w.size(), 2U);
  w.expire(t0 + retention + 999s, retention);
  EXPECT_EQ(w.size(), 0U);
  w.remember("again", record_at(t0), bounds);  // an emptied window starts a fresh order
  w.expire(t0 + retention, retention);
  EXPECT_EQ(w.size(), 0U);
}

TEST(idempotency_window, copies_and_moves_keep_the_records_and_their_order) {
  idempotency_window w;
  for (int i = 0; i < 50; ++i) {
    w.remember(long_key(i), record_at(t0 + std::chrono::seconds{i}, static_cast<std::uint64_t>(i)),
               bounds);
  }
  idempotency_window copy{w};
  EXPECT_EQ(copy, w);
  idempotency_window assigned;
  assigned.remember("other", record_at(t0), bounds);
  assigned = w;
  EXPECT_EQ(assigned, w);
  idempotency_window moved{std::move(copy)};
  EXPECT_EQ(moved, w);
  idempotency_window move_assigned;
  move_assigned = std::move(assigned);
  EXPECT_EQ(move_assigned, w);
  // Each keeps its own chain: expiring one leaves the others whole.
  w.expire(t0 + retention + 24s, retention);
  EXPECT_EQ(w.size(), 25U);
  EXPECT_EQ(moved.size(), 50U);
  moved.expire(t0 + retention + 9s, retention);
  EXPECT_EQ(moved.size(), 40U);
  EXPECT_EQ(moved.find(long_key(10))->fingerprint, 10U);
  EXPECT_EQ(move_assigned.size(), 50U);
  move_assigned.remember("last", record_at(t0 + 60s), bounds);
  move_assigned.expire(t0 + retention + 49s, retention);
  ASSERT_EQ(move_assigned.size(), 1U);
  EXPECT_NE(move_assigned.find("last"), nullptr);
}

TEST(idempotency_window, equality_needs_the_same_records_in_the_same_order) {
  idempotency_window ab;
  ab.remember("a", record_at(t0), bounds);
  ab.remember("b", record_at(t0), bounds);
  idempotency_window ba;
  ba.remember("b", record_at(t0), bounds);
  ba.remember("a", record_at(t0), bounds);
  EXPECT_NE(ab, ba);
  idempotency_window ab2;
  ab2.remember("a", record_at(t0), bounds);
  ab2.remember("b", record_at(t0, 2), bounds);
  EXPECT_NE(ab, ab2);
  idempotency_window ab3;
  ab3.remember("a", record_at(t0), bounds);
  ab3.remember("b", record_at(t0), bounds);
  EXPECT_EQ(ab, ab3);
}

TEST(idempotency, a_flag_refuses_a_new_command_without_remembering_it) {
  wallet_aggregate w = opened_wallet();
  feature_flags no_transfers;
  no_transfers.accept_transfers = false;
  ASSERT_FALSE(
      w.handle(cmd("dep", deposit{money{500, eur}}), t0, no_limits, all_on).result.rejected);
  const auto refused = w.handle(cmd("tr-1", transfer_debit{"t-1", "w-2", money{100, eur}}), t0,
                                no_limits, no_transfers);
  EXPECT_EQ(refused.result.rejected, rejection::feature_disabled);
  EXPECT_FALSE(refused.appended.has_value());
  EXPECT_FALSE(refused.replayed);
  EXPECT_EQ(refused.result.balance, 500);
  EXPECT_EQ(w.window().find("tr-1"), nullptr) << "a transient rejection was remembered";
  EXPECT_TRUE(is_transient(rejection::feature_disabled));
  // The same command with the same key succeeds once the flag is on again.
  const auto retried =
      w.handle(cmd("tr-1", transfer_debit{"t-1", "w-2", money{100, eur}}), t0, no_limits, all_on);
  EXPECT_FALSE(retried.result.rejected.has_value());
  EXPECT_EQ(retried.result.balance, 400);
}

TEST(idempotency, a_repeat_is_answered_its_outcome_even_while_a_flag_is_off) {
  // A client retrying a transfer that was applied must learn so, not that transfers are off.
  wallet_aggregate w = opened_wallet();
  ASSERT_FALSE(
      w.handle(cmd("dep", deposit{money{500, eur}}), t0, no_limits, all_on).result.rejected);
  const command transfer = cmd("tr-1", transfer_debit{"t-1", "w-2", money{100, eur}});
  const auto first = w.handle(transfer, t0, no_limits, all_on);
  ASSERT_FALSE(first.result.rejected.has_value());
  feature_flags off;
  off.accept_transfers = false;
  off.accept_new_wallets = false;
  const auto again = w.handle(transfer, t0 + 1s, no_limits, off);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, first.result);
  // A conflict on the key is still a conflict.
  EXPECT_EQ(w.handle(cmd("tr-1", transfer_debit{"t-1", "w-2", money{101, eur}}), t0, no_limits, off)
                .result.rejected,
            rejection::idempotency_conflict);
}

TEST(fingerprint, covers_every_field_but_the_key) {
  const command base = cmd("k", transfer_debit{"t-1", "w-2", money{10, eur}});
  command same_other_key = base;
  same_other_key.idempotency_key = "other";
  EXPECT_EQ(fingerprint(base), fingerprint(same_other_key));

  std::vector<command> variants(5, base);
  std::get<transfer_debit>(variants[0].body).transfer_id = "t-2";
  std::get<transfer_debit>(variants[1].body).destination = "w-3";
  std::get<transfer_debit>(variants[2].body).amount.minor = 11;
  std::get<transfer_debit>(variants[3].body).amount.ccy = *currency::from_code("USD");
  variants[4].wallet_id = "w-9";
  for (const auto& v : variants) {
    EXPECT_NE(fingerprint(v), fingerprint(base));
  }
  // Length prefixes keep field boundaries apart.
  EXPECT_NE(fingerprint(cmd("k", transfer_debit{"ab", "c", money{1, eur}})),
            fingerprint(cmd("k", transfer_debit{"a", "bc", money{1, eur}})));
  // set_kyc_level: the level and the reason.
  EXPECT_NE(fingerprint(cmd("k", set_kyc_level{kyc::basic, "r"})),
            fingerprint(cmd("k", set_kyc_level{kyc::full, "r"})));
  EXPECT_NE(fingerprint(cmd("k", set_kyc_level{kyc::basic, "r"})),
            fingerprint(cmd("k", set_kyc_level{kyc::basic, "s"})));
  // The same fields under another command type differ.
  EXPECT_NE(fingerprint(cmd("k", deposit{money{1, eur}})),
            fingerprint(cmd("k", withdraw{money{1, eur}})));
}

TEST(fingerprint, is_stable_across_builds) {
  // Fingerprints are stored with idempotency records: changing the encoding breaks replays.
  // Expected value computed outside C++: FNV-1a 64 over u64le(1) [deposit's index],
  // u64le(3) "w-1", u64le(3) "EUR", u64le(1234).
  EXPECT_EQ(fingerprint(cmd("k", deposit{money{1'234, eur}})), 0x71e4581c03a67705ULL);
}

}  // namespace
}  // namespace wallet::engine
