// runtime_bench's results: per-phase figures, the ledger check, and their printing as a table and
// as JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench_driver.hpp"
#include "bench_options.hpp"
#include "bench_system.hpp"
#include "log_histogram.hpp"

namespace wallet::loadtest {

// Counts per power-of-two range [2^k, 2^(k+1)) of the values, k from 0; the first range holds 0
// too.
[[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>> pow2_ranges(
    const log_histogram& h);

struct phase_report {
  explicit phase_report(std::string name_) : name(std::move(name_)) {}

  std::string name;  // setup | uniform | hot | open
  std::size_t jobs = 0;
  run_result run;
  double target_rate = 0;          // open loop: transfers/s sent
  double complete_seconds = 0;     // first submission -> no transfer pending in the database
  double last_credit_seconds = 0;  // first submission -> last credit answered (probe)
  std::uint64_t credits = 0;
  std::uint64_t reversals = 0;
  std::uint64_t saga_retries = 0;
  std::int64_t pending_left = 0;  // transfers still pending when the wait gave up (0: none)
  latency_summary latency_ms;     // submit -> answer of each decided command
  latency_summary transfer_ms;    // debit submitted (or due, open loop) -> credit answered
  std::uint64_t batches = 0;
  std::uint64_t failed_batches = 0;
  latency_summary batch_writes;  // writes per committed batch
  latency_summary commit_ms;     // the store port's commit call
  std::vector<std::pair<std::uint64_t, std::uint64_t>> batch_ranges;   // writes: 2^k -> count
  std::vector<std::pair<std::uint64_t, std::uint64_t>> commit_ranges;  // us: 2^k -> count
  cpu_usage cpu;
  std::optional<wal_sample> wal;
  std::map<std::string, std::uint64_t> notes;  // distinct problems the probe saw

  [[nodiscard]] bool is_transfer() const { return name != "setup"; }
  // Decided commands per second of the closed/open loop (debits for transfer phases).
  [[nodiscard]] double answered_per_s() const;
  [[nodiscard]] double accepted_per_s() const;
  // Transfers completed (both legs committed) per second; setup: wallets per second.
  [[nodiscard]] double completed_per_s() const;
  // Microseconds of `cores` (over the phase) per transfer completed, or per wallet set up.
  [[nodiscard]] double us_per_unit(double cores) const;
};

struct ledger_check {
  std::int64_t wallets = 0;
  std::int64_t balance_sum = 0;
  std::int64_t expected_sum = 0;                  // every deposit
  std::int64_t in_flight = 0;                     // pending transfer amounts
  std::map<std::string, std::int64_t> transfers;  // by status
  bool drained = false;                           // the runtime answered everything before stopping
  bool ok = false;
};

struct bench_summary {
  bench_options options;
  server_facts server;
  std::vector<phase_report> phases;
  ledger_check ledger;
};

void print_phase(const phase_report& r);
void print_summary(const bench_summary& s);
// Throws std::runtime_error when the file cannot be written.
void write_json(const bench_summary& s, const std::string& path);

}  // namespace wallet::loadtest
