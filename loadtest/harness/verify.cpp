// The checks of the verify phase. Each names what it compares and keeps a few examples of what
// differs, so that a failed run says where to look.
#include "verify.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace wallet::loadtest {
namespace {

constexpr std::size_t examples_max = 10;

// Rows indexed by wallet number; a wallet without a row is absent (nullptr).
std::vector<const wallet_row*> by_number(const std::vector<wallet_row>& rows,
                                         std::uint32_t wallets) {
  std::vector<const wallet_row*> out(std::size_t{wallets} + 1, nullptr);
  for (const wallet_row& r : rows) {
    if (r.n >= 1 && r.n <= wallets) out[r.n] = &r;
  }
  return out;
}

std::string format(const char* pattern, auto... args) {
  char text[256];
  std::snprintf(text, sizeof text, pattern, args...);
  return text;
}

check_result named(std::string name) {
  check_result c;
  c.name = std::move(name);
  return c;
}

check_result skipped(std::string name, std::string why) {
  check_result c = named(std::move(name));
  c.outcome = check_result::state::skipped;
  c.note = std::move(why);
  return c;
}

}  // namespace

void check_result::fail(std::string example) {
  outcome = state::failed;
  ++failures;
  if (examples.size() < examples_max) examples.push_back(std::move(example));
}

std::string_view to_string(check_result::state s) noexcept {
  switch (s) {
    case check_result::state::passed:
      return "passed";
    case check_result::state::failed:
      return "FAILED";
    case check_result::state::skipped:
      return "skipped";
  }
  return "?";
}

bool verify_report::ok() const noexcept {
  return std::none_of(checks.begin(), checks.end(), [](const check_result& c) {
    return c.outcome == check_result::state::failed;
  });
}

check_result check_answers(const verify_input& in) {
  check_result c = named("every command answered");
  c.checked = in.sent;
  c.examples = in.failed_examples;
  for (const std::string& e : in.valid_refused_examples) {
    if (c.examples.size() < examples_max) c.examples.push_back("valid but refused: " + e);
  }
  c.failures = in.failed + in.valid_refused;
  if (c.failures > 0) c.outcome = check_result::state::failed;
  c.note =
      format("%" PRIu64 " sent, %" PRIu64 " without an answer, %" PRIu64 " valid commands refused",
             in.sent, in.failed, in.valid_refused);
  return c;
}

check_result check_balances(const verify_input& in) {
  check_result c = named("balances match the answers");
  const auto before = by_number(in.before, in.wallets);
  const auto after = by_number(in.after, in.wallets);
  for (std::uint32_t n = 1; n <= in.wallets; ++n) {
    if (!in.expected->touched(n)) continue;
    ++c.checked;
    if (after[n] == nullptr) {
      c.fail(format("wallet %u: no row after the run", n));
      continue;
    }
    const std::int64_t b0 = before[n] ? before[n]->balance : 0;
    const std::int64_t h0 = before[n] ? before[n]->held : 0;
    const std::int64_t want_balance = b0 + in.expected->balance_delta(n);
    const std::int64_t want_held = h0 + in.expected->held_delta(n);
    if (after[n]->balance != want_balance || after[n]->held != want_held) {
      c.fail(format("wallet %u: stored balance %" PRId64 " held %" PRId64
                    ", the answers make it %" PRId64 " and %" PRId64,
                    n, after[n]->balance, after[n]->held, want_balance, want_held));
    }
  }
  c.note = format("%" PRIu64 " wallets touched, %" PRIu64 " differ", c.checked, c.failures);
  return c;
}

check_result check_limits(const verify_input& in) {
  check_result c = named("no balance below its limit");
  for (const wallet_row& r : in.after) {
    ++c.checked;
    if (r.balance < -r.overdraft_limit || r.held < 0 || r.held > r.balance + r.overdraft_limit) {
      c.fail(format("wallet %u: balance %" PRId64 ", held %" PRId64 ", overdraft limit %" PRId64,
                    r.n, r.balance, r.held, r.overdraft_limit));
    }
  }
  c.note = format("%" PRIu64 " wallets, %" PRIu64 " beyond their limits", c.checked, c.failures);
  return c;
}

check_result check_conservation(const verify_input& in) {
  check_result c = named("money conserved");
  std::int64_t before = 0;
  std::int64_t after = 0;
  for (const wallet_row& r : in.before) before += r.balance;
  for (const wallet_row& r : in.after) after += r.balance;
  const std::int64_t flows =
      in.expected->deposited() - in.expected->withdrawn() - in.expected->captured();
  c.checked = 1;
  if (after + in.pending_amount != before + flows) {
    c.fail(format("balances %" PRId64 " + in flight %" PRId64 " != %" PRId64
                  " before + deposits %" PRId64 " - withdrawals %" PRId64 " - captures %" PRId64,
                  after, in.pending_amount, before, in.expected->deposited(),
                  in.expected->withdrawn(), in.expected->captured()));
  }
  if (in.pending_transfers != 0) {
    c.fail(format("%" PRId64 " transfers still pending (%" PRId64 " minor units in flight)",
                  in.pending_transfers, in.pending_amount));
  }
  c.note = format("sum of balances %" PRId64 " (before %" PRId64 "), deposits %" PRId64
                  ", withdrawals %" PRId64 ", captures %" PRId64,
                  after, before, in.expected->deposited(), in.expected->withdrawn(),
                  in.expected->captured());
  return c;
}

check_result check_events(const verify_input& in) {
  if (in.events == nullptr) return skipped("event stream complete", in.events_skipped_why);
  check_result c = named("event stream complete");
  const auto before = by_number(in.before, in.wallets);
  const auto after = by_number(in.after, in.wallets);
  for (std::uint32_t n = 1; n <= in.wallets; ++n) {
    if (after[n] == nullptr) continue;
    const std::uint64_t v0 = before[n] ? before[n]->version : 0;
    if (after[n]->version == v0) continue;  // not written during the run
    ++c.checked;
    const auto seen = in.events->state(n);
    const std::int64_t b0 = before[n] ? before[n]->balance : 0;
    const std::int64_t h0 = before[n] ? before[n]->held : 0;
    if (seen.gaps != 0 || seen.last_seq != after[n]->version) {
      c.fail(format("wallet %u: events up to seq %" PRIu64 " with %u gaps, stored version %" PRIu64,
                    n, seen.last_seq, seen.gaps, after[n]->version));
    } else if (b0 + seen.balance != after[n]->balance || h0 + seen.held != after[n]->held) {
      c.fail(format("wallet %u: events fold to balance %" PRId64 " held %" PRId64
                    ", stored %" PRId64 " and %" PRId64,
                    n, b0 + seen.balance, h0 + seen.held, after[n]->balance, after[n]->held));
    }
  }
  c.note = format("%" PRIu64 " wallets written, %" PRIu64 " events seen, %" PRIu64 " incomplete",
                  c.checked, in.events->events(), c.failures);
  return c;
}

check_result check_duplicates(const verify_input& in) {
  if (!in.duplicates) return skipped("every duplicate applied once", "no duplicates sent");
  check_result c = named("every duplicate applied once");
  std::vector<std::pair<std::uint64_t, duplicate_tracker::pair_state>> pairs(in.duplicates->begin(),
                                                                             in.duplicates->end());
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [id, p] : pairs) {
    ++c.checked;
    if (p.answers != 2 || p.first_time != 1 || (p.accepted != 0 && p.accepted != 2) ||
        (p.rejected != 0 && p.rejected != 2)) {
      c.fail(format("command %" PRIu64 ": %u answers, %u not replays, %u accepted, %u rejected "
                    "(expected 2 answers, 1 not a replay, the same status)",
                    id, p.answers, p.first_time, p.accepted, p.rejected));
      continue;
    }
    if (!in.duplicate_events_known) continue;
    const std::uint32_t want = p.accepted == 2 ? 1 : 0;
    if (p.events != want) {
      c.fail(
          format("command %" PRIu64 ": %u events carry its key, expected %u", id, p.events, want));
    }
  }
  c.note = format("%" PRIu64 " pairs%s, %" PRIu64 " wrong", c.checked,
                  in.duplicate_events_known ? "" : " (events not checked)", c.failures);
  return c;
}

check_result check_invalid(const verify_input& in) {
  if (in.invalid == nullptr) return skipped("invalid commands rejected", "none sent");
  check_result c = named("invalid commands rejected with the right code");
  std::string summary;
  for (const auto& [what, n] : in.invalid->counts()) {
    c.checked += n.sent;
    c.failures += n.sent - n.right;
    summary += (summary.empty() ? "" : ", ") + what + " " + std::to_string(n.right) + "/" +
               std::to_string(n.sent);
  }
  c.examples = in.invalid->wrong_examples();
  if (c.failures > 0) c.outcome = check_result::state::failed;
  if (c.checked == 0) return skipped(c.name, "none sent");
  c.note = summary;
  return c;
}

check_result check_reconcile(const verify_input& in) {
  if (!in.reconcile_exit) return skipped("reconciliation clean", in.reconcile_skipped_why);
  check_result c = named("reconciliation clean");
  c.checked = 1;
  if (*in.reconcile_exit != 0) {
    c.fail(format("wallet-reconcile exited %d", *in.reconcile_exit));
    if (!in.reconcile_output.empty()) c.examples.push_back(in.reconcile_output);
  }
  c.note = *in.reconcile_exit == 0 ? "wallet-reconcile: clean"
                                   : format("wallet-reconcile exit %d", *in.reconcile_exit);
  return c;
}

verify_report verify(const verify_input& in) {
  verify_report r;
  r.checks.push_back(check_answers(in));
  r.checks.push_back(check_balances(in));
  r.checks.push_back(check_limits(in));
  r.checks.push_back(check_conservation(in));
  r.checks.push_back(check_events(in));
  r.checks.push_back(check_duplicates(in));
  r.checks.push_back(check_invalid(in));
  r.checks.push_back(check_reconcile(in));
  return r;
}

}  // namespace wallet::loadtest
