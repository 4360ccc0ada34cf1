// Micro-benchmarks of the domain core: decide() + apply() per command type, and the full
// wallet_aggregate::handle() path (idempotency included) for a deposit and for a replay.
//
// decide/apply benchmarks run a batch of commands, one per wallet, against wallets prepared
// outside the timed region; the wallets are restored after each batch, untimed (manual timing,
// so no PauseTiming overhead). Read the ns_per_cmd counter: "Time" is per batch.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/command.hpp"
#include "wallet/engine/currency.hpp"
#include "wallet/engine/flags.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/policy.hpp"
#include "wallet/engine/screening.hpp"
#include "wallet/engine/wallet.hpp"

namespace wallet::engine {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t batch_size = 256;                           // wallets per timed batch
constexpr timestamp start_time{duration{1'767'225'600'000'000}};  // 2026-01-01T00:00:00Z
// Prepared wallets place their holds at start_time; the commands run a little later, when the
// "due" hold has expired and the others have not.
constexpr timestamp bench_time = start_time + 2s;

// A policy with limits at every level (none of them reached here), so that decide() pays for the
// lookup and the checks as in production; flags all on.
// NOLINTNEXTLINE(cert-err58-cpp): built once before the benchmarks run; a throw there is fatal.
const policy bench_limits = [] {
  constexpr std::int64_t large = amount_minor_max;  // no KYC limit binds
  policy p{kyc_limits{large, large, large}};
  p.set(kyc::none, *currency::from_code("EUR"), kyc_limits{large, large, large});
  return p;
}();
const feature_flags bench_flags{};

currency eur() {
  static const currency c = currency::from_code("EUR").value();
  return c;
}
money eur(std::int64_t minor) { return money{minor, eur()}; }

// How a prepared wallet starts.
enum class start : std::uint8_t {
  unopened,  // for open_wallet
  active,    // funded, with `background` holds plus "h-target" (100) and "h-due" (100, expired)
  frozen,    // active, then frozen
  empty,     // opened, zero balance, no holds: for close_wallet
};

void run(wallet_state& s, command_body body, timestamp at) {
  const command c{s.id, "setup", std::move(body)};
  const auto decided = decide(s, c, at, bench_limits);
  WALLET_ASSERT(decided.ok());
  apply(s, decided.value());
}

wallet_state prepare(std::size_t index, start how, std::size_t background) {
  wallet_state s = empty_wallet("wallet-" + std::to_string(index));
  if (how == start::unopened) return s;
  run(s, open_wallet{"owner-1", eur(), 0}, start_time);
  if (how == start::empty) return s;
  // Half the largest amount: the deposits measured on it still fit under the bound.
  run(s, deposit{eur(amount_minor_max / 2)}, start_time);
  for (std::size_t i = 0; i < background; ++i) {
    run(s, hold_place{"bg-" + std::to_string(i), eur(1), start_time + 10h}, start_time);
  }
  run(s, hold_place{"h-target", eur(100), start_time + 1h}, start_time);
  run(s, hold_place{"h-due", eur(100), start_time + 1s}, start_time);
  if (how == start::frozen) run(s, freeze{"review"}, start_time);
  return s;
}

// decide() + apply() of one command on each of batch_size prepared wallets.
void bm_decide_apply(benchmark::State& state, start how, command_body (*make_body)()) {
  const auto background = static_cast<std::size_t>(state.range(0));
  std::vector<wallet_state> prepared;
  std::vector<command> commands;
  for (std::size_t i = 0; i < batch_size; ++i) {
    prepared.push_back(prepare(i, how, background));
    commands.push_back(command{prepared.back().id, "bench-key", make_body()});
    // Every command must be accepted, or the benchmark measures a rejection path.
    WALLET_ASSERT(decide(prepared.back(), commands.back(), bench_time, bench_limits).ok());
  }
  std::vector<wallet_state> wallets = prepared;
  double seconds = 0;
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the loop variable is the library idiom
  for (auto _ : state) {
    const auto begin = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < batch_size; ++i) {
      const auto decided = decide(wallets[i], commands[i], bench_time, bench_limits);
      WALLET_ASSERT(decided.ok());
      apply(wallets[i], decided.value());
    }
    const auto end = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(end - begin).count();
    state.SetIterationTime(elapsed);
    seconds += elapsed;
    wallets = prepared;  // untimed
  }
  const auto commands_run = static_cast<double>(state.iterations()) * double{batch_size};
  state.counters["ns_per_cmd"] = benchmark::Counter(seconds * 1e9 / commands_run);
}

command_body open_body() { return open_wallet{"owner-1", eur(), 0}; }
command_body deposit_body() { return deposit{eur(1)}; }
command_body withdraw_body() { return withdraw{eur(1)}; }
command_body debit_body() { return transfer_debit{"transfer-000001", "wallet-dest", eur(1)}; }
command_body credit_body() { return transfer_credit{"transfer-000001", "wallet-source", eur(1)}; }
command_body reversal_body() { return transfer_reversal{"transfer-000001", eur(1)}; }
command_body hold_place_body() { return hold_place{"h-new", eur(1), start_time + 1h}; }
command_body capture_full_body() { return hold_capture{"h-target", std::nullopt}; }
command_body capture_partial_body() { return hold_capture{"h-target", eur(40)}; }
command_body release_body() { return hold_release{"h-target"}; }
command_body expire_body() { return hold_expire{"h-due"}; }
command_body freeze_body() { return freeze{"compliance review"}; }
command_body unfreeze_body() { return unfreeze{"review cleared"}; }
command_body close_body() { return close_wallet{}; }

// The argument is the number of background holds in each wallet: check_invariants() walks the
// holds on every decide and apply, so the cost grows with it. Larger counts are measured on one
// wallet by bm_hold_place_release_pair: 256 wallets with hundreds of holds each no longer fit in
// the caches, and the batch would measure memory instead.
#define WALLET_BENCH(name, how, body) \
  BENCHMARK_CAPTURE(bm_decide_apply, name, how, body)->Arg(0)->Arg(16)->UseManualTime()

BENCHMARK_CAPTURE(bm_decide_apply, open_wallet, start::unopened, open_body)
    ->Arg(0)
    ->UseManualTime();
WALLET_BENCH(deposit, start::active, deposit_body);
WALLET_BENCH(withdraw, start::active, withdraw_body);
WALLET_BENCH(transfer_debit, start::active, debit_body);
WALLET_BENCH(transfer_credit, start::active, credit_body);
WALLET_BENCH(transfer_reversal, start::active, reversal_body);
WALLET_BENCH(hold_place, start::active, hold_place_body);
WALLET_BENCH(hold_capture_full, start::active, capture_full_body);
WALLET_BENCH(hold_capture_partial, start::active, capture_partial_body);
WALLET_BENCH(hold_release, start::active, release_body);
WALLET_BENCH(hold_expire, start::active, expire_body);
WALLET_BENCH(freeze, start::active, freeze_body);
WALLET_BENCH(unfreeze, start::frozen, unfreeze_body);
BENCHMARK_CAPTURE(bm_decide_apply, close_wallet, start::empty, close_body)->Arg(0)->UseManualTime();

// A cross-check of the manual-timing harness with the library's own timing: a deposit and a
// withdrawal of the same amount per iteration leave the wallet as it was, so nothing is reset.
void bm_deposit_withdraw_pair(benchmark::State& state) {
  wallet_state s = prepare(0, start::active, 0);
  const command in{s.id, "k-in", deposit{eur(1)}};
  const command out{s.id, "k-out", withdraw{eur(1)}};
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the loop variable is the library idiom
  for (auto _ : state) {
    const auto d = decide(s, in, bench_time, bench_limits);
    apply(s, d.value());
    const auto w = decide(s, out, bench_time, bench_limits);
    apply(s, w.value());
  }
  benchmark::DoNotOptimize(s.balance);
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(bm_deposit_withdraw_pair);

// A hold placed and released per iteration on one wallet (in cache) with N other open holds: the
// cost of walking the holds in check_invariants(), without the cache misses of the batch above.
void bm_hold_place_release_pair(benchmark::State& state) {
  wallet_state s = prepare(0, start::active, static_cast<std::size_t>(state.range(0)));
  const command place{s.id, "k-place", hold_place{"h-pair", eur(1), start_time + 1h}};
  const command release{s.id, "k-release", hold_release{"h-pair"}};
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the loop variable is the library idiom
  for (auto _ : state) {
    const auto p = decide(s, place, bench_time, bench_limits);
    apply(s, p.value());
    const auto r = decide(s, release, bench_time, bench_limits);
    apply(s, r.value());
  }
  benchmark::DoNotOptimize(s.held);
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(bm_hold_place_release_pair)->Arg(0)->Arg(16)->Arg(256)->Arg(1'000);

// wallet_aggregate::handle() for a new deposit: key check, window expiry, fingerprint, lookup,
// decide, apply and remember. The clock moves 1 us per command and keys are retained for 1 ms,
// so the window holds about a thousand keys and expires one per command, as in a steady state.
void bm_handle_deposit(benchmark::State& state) {
  constexpr std::size_t keys_count = 4'096;  // reused cyclically, long after they have expired
  wallet_aggregate wallet{"wallet-1", 1ms};
  timestamp now = start_time;
  WALLET_ASSERT(!wallet
                     .handle({"wallet-1", "open", open_wallet{"owner-1", eur(), 0}}, now,
                             bench_limits, bench_flags)
                     .result.rejected);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < keys_count; ++i) keys.push_back("deposit-" + std::to_string(i));
  command c{"wallet-1", "", deposit{eur(1)}};
  std::size_t i = 0;
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the loop variable is the library idiom
  for (auto _ : state) {
    now += 1us;
    c.idempotency_key = keys[i++ % keys_count];
    const handled h = wallet.handle(c, now, bench_limits, bench_flags);
    WALLET_ASSERT(!h.result.rejected && !h.replayed);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["window_keys"] = static_cast<double>(wallet.window().size());
}
BENCHMARK(bm_handle_deposit);

// handle() for new deposits on a hot wallet past its resident window (ADR 0017): every command
// evicts the oldest record into the evicted-key filter and checks its own key against the filter
// first (no key repeats; all within the 24 h retention). Arg: resident records; the filter grows
// with the run (a new 128 KiB slice per 65,536 evicted keys), as a hot wallet's does over a day.
void bm_handle_deposit_evicting(benchmark::State& state) {
  const auto resident = static_cast<std::size_t>(state.range(0));
  wallet_aggregate wallet{"wallet-1", idempotency_bounds{24h, resident}};
  timestamp now = start_time;
  WALLET_ASSERT(!wallet
                     .handle({"wallet-1", "open", open_wallet{"owner-1", eur(), 0}}, now,
                             bench_limits, bench_flags)
                     .result.rejected);
  command c{"wallet-1", "", deposit{eur(1)}};
  std::uint64_t i = 0;
  std::size_t lookups = 0;
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the loop variable is the library idiom
  for (auto _ : state) {
    now += 1us;
    c.idempotency_key = "deposit-" + std::to_string(i++);
    handled h = wallet.handle(c, now, bench_limits, bench_flags);
    if (h.lookup) {  // a false positive: the store would say absent
      ++lookups;
      h = wallet.handle(c, now, bench_limits, bench_flags, std::nullopt,
                        key_check::absent_from_store);
    }
    WALLET_ASSERT(!h.result.rejected && !h.replayed);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["filter_slices"] =
      static_cast<double>(wallet.window().evicted() ? wallet.window().evicted()->slices() : 0);
  state.counters["lookups"] = static_cast<double>(lookups);
}
BENCHMARK(bm_handle_deposit_evicting)->Arg(1'024)->Arg(65'536)->Iterations(1'000'000);

// handle() for a repeat of a recorded deposit: answered from the window, nothing applied.
void bm_handle_replay(benchmark::State& state) {
  wallet_aggregate wallet{"wallet-1", 24h};
  const timestamp now = start_time;
  WALLET_ASSERT(!wallet
                     .handle({"wallet-1", "open", open_wallet{"owner-1", eur(), 0}}, now,
                             bench_limits, bench_flags)
                     .result.rejected);
  const command c{"wallet-1", "deposit-000001", deposit{eur(1)}};
  WALLET_ASSERT(!wallet.handle(c, now, bench_limits, bench_flags).result.rejected);
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the loop variable is the library idiom
  for (auto _ : state) {
    const handled h = wallet.handle(c, now, bench_limits, bench_flags);
    WALLET_ASSERT(h.replayed);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_handle_replay);

// outgoing_velocity::record() on a busy wallet's full window (the AML velocity rules' memory of a
// wallet's outgoing moves): at its bound each move also drops the oldest.
void bm_velocity_record(benchmark::State& state) {
  outgoing_velocity recent;
  timestamp at = start_time;
  for (std::size_t i = 0; i < outgoing_velocity::outgoing_moves_max; ++i) {
    recent.record(at += 1us, static_cast<std::int64_t>(1 + i % 100));
  }
  std::int64_t amount = 0;
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the loop variable is the library idiom
  for (auto _ : state) {
    recent.record(at += 1us, 1 + amount++ % 100);
    benchmark::DoNotOptimize(recent.sum());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["window_moves"] = static_cast<double>(recent.count());
}
BENCHMARK(bm_velocity_record);

}  // namespace
}  // namespace wallet::engine

BENCHMARK_MAIN();
