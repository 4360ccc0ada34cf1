// Reconciliation (DESIGN.md §4): checks the stored state against the event log in one consistent
// snapshot — per wallet, per transfer, and money conservation per currency — and reports every
// mismatch precisely. Used by walletd's periodic job and by the one-shot `wallet-reconcile`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wallet/engine/result.hpp"
#include "wallet/postgres/error.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace wallet::postgres {

// Most mismatches of each kind (wallet, transfer) a report lists by default; the totals are
// always exact.
inline constexpr std::size_t reconcile_mismatches_reported_max = 1'000;

// Bounds of reconcile_options::work_mem_mb (PostgreSQL's own bound on work_mem is 2 TiB).
inline constexpr std::uint32_t reconcile_work_mem_mb_min = 1;
inline constexpr std::uint32_t reconcile_work_mem_mb_max = 65'536;
inline constexpr std::uint32_t reconcile_work_mem_mb_default = 64;
static_assert(reconcile_work_mem_mb_min <= reconcile_work_mem_mb_default &&
              reconcile_work_mem_mb_default <= reconcile_work_mem_mb_max);

struct reconcile_options {
  // Only wallets (and transfers whose source is) on these shards; empty: every shard. With a
  // filter the per-currency conservation is not checked: money moves between shards, so it only
  // holds for the whole system.
  std::vector<std::uint32_t> shards;
  std::size_t mismatches_reported_max = reconcile_mismatches_reported_max;
  // The server memory per sort or hash of the snapshot's queries (work_mem), in MiB. Past it the
  // per-wallet aggregation spills to disk, which costs little: at a million wallets it needs
  // about 1 GB in memory and runs as fast with 64 MB.
  std::uint32_t work_mem_mb = reconcile_work_mem_mb_default;
};

// One field of one wallet whose stored value differs from what its events fold to. `what`:
//   balance     wallets.balance vs sum(delta)
//   held        wallets.held vs sum(held_delta)
//   version     wallets.version vs the last event seq
//   sequence    the number of events vs the last seq (a gap in 1..n)
//   status      wallets.status (1 active, 2 frozen, 3 closed) vs the last status event
//   holds       sum of wallet_holds.amount vs sum(held_delta)
//   hold_count  number of wallet_holds rows vs holds placed minus holds closed
//   opened      number of wallet_opened events vs 1 (it must be exactly one, at seq 1)
//   currency    wallets.currency vs the wallet_opened event's (codes in `detail`)
//   shard       wallets.shard vs an event's shard
//   row         no wallets row (stored 0) for a wallet with events (folded: its last seq)
//   events      no events (folded 0) for a wallets row (stored: its version)
struct wallet_mismatch {
  std::string wallet_id;
  std::string what;
  std::int64_t stored = 0;
  std::int64_t folded = 0;
  std::string detail;  // for currency, opened and shard; empty otherwise
};

// A transfer record whose events disagree with it. Each transfer must have exactly one
// transfer_debited on its source for its amount; a completed one exactly one transfer_credited on
// its destination, a reversed one exactly one transfer_reversed on its source, for its amount,
// and no other. `what`:
//   record     events name a transfer without a transfers row (expected 1, found 0)
//   debits     number of transfer_debited events (expected 1)
//   debited    amount they took from the source (expected: the amount)
//   credits    number of transfer_credited events (expected 1 if completed, else 0)
//   credited   amount they gave (expected: the amount when completed)
//   reversals  number of transfer_reversed events (expected 1 if reversed, else 0)
//   reversed   amount they returned (expected: the amount when reversed)
//   party      a debit naming another destination, or a credit on another wallet (`detail`)
struct transfer_mismatch {
  std::string source;
  std::string transfer_id;
  std::string status;  // pending, completed, reversed; empty without a record
  std::string what;
  std::int64_t expected = 0;
  std::int64_t found = 0;
  std::string detail;
};

// Money of one currency across the system. Amounts in minor units; events are attributed to the
// currency their wallet was opened with, balances to the wallet's stored currency, money in flight
// to the transfer's currency.
struct currency_totals {
  std::string currency;
  std::int64_t balances = 0;     // sum of wallets.balance
  std::int64_t in_flight = 0;    // sum of pending transfers' amounts
  std::int64_t deposits = 0;     // sum of deposited amounts
  std::int64_t withdrawals = 0;  // sum of withdrawn amounts
  std::int64_t captured = 0;     // sum of hold_captured captured amounts
  std::int64_t debited = 0;      // sum of transfer_debited amounts
  std::int64_t credited = 0;     // sum of transfer_credited amounts
  std::int64_t reversed = 0;     // sum of transfer_reversed amounts
  // balances + in_flight - (deposits - withdrawals - captured): money created (> 0) or lost.
  std::int64_t difference = 0;
  // debited - credited - reversed - in_flight: transfer money unaccounted for.
  std::int64_t transfer_difference = 0;

  [[nodiscard]] bool balanced() const { return difference == 0 && transfer_difference == 0; }
};

struct reconcile_report {
  std::size_t wallets_checked = 0;    // wallets with a row or with events
  std::size_t events_checked = 0;     // events of those wallets
  std::size_t transfers_checked = 0;  // transfer records, and transfers only events name

  // At most mismatches_reported_max of each, wallets by id, transfers by source and id.
  std::vector<wallet_mismatch> wallet_mismatches;
  std::size_t wallet_mismatches_total = 0;
  std::size_t wallets_mismatched = 0;  // wallets with at least one mismatch
  std::vector<transfer_mismatch> transfer_mismatches;
  std::size_t transfer_mismatches_total = 0;

  bool currencies_checked = false;          // false with a shard filter
  std::vector<currency_totals> currencies;  // by code

  [[nodiscard]] bool clean() const;
};

// Runs every check in one REPEATABLE READ READ ONLY transaction (works on a read replica). The
// work is set-based: one pass over the events joined to the wallets and holds, one over the
// transfer events joined to the transfer records; only when something is wrong, a second look at
// the listed keys. Server memory: work_mem per hash or sort, plus the ids of the mismatching
// wallets and transfers. Fails with invalid_argument (a work_mem out of bounds), unavailable
// (connection, timeout, a replica's recovery conflict) or rejected (schema missing, a sum beyond
// 64 bits); mismatches are not errors but the report.
[[nodiscard]] engine::result<reconcile_report, error> reconcile(pqxx::connection_base& conn,
                                                                const reconcile_options& options);

}  // namespace wallet::postgres
