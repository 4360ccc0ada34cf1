// Printing runtime_bench's results: one block per phase as it ends, a summary table, "RESULT key
// value" lines for scripts (scripts/bench-runtime.sh reads them), and a JSON file.
#include "bench_report.hpp"

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wallet::loadtest {
namespace {

double per_s(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

std::string format_latency(const latency_summary& l) {
  char line[200];
  std::snprintf(line, sizeof line,
                "p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (n=%" PRIu64 ")", l.p50, l.p90,
                l.p99, l.p999, l.max, l.count);
  return line;
}

std::string format_ranges(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges,
                          double total) {
  std::string out;
  for (const auto& [low, count] : ranges) {
    char item[64];
    const std::uint64_t high = low == 0 ? 1 : 2 * low - 1;
    std::snprintf(item, sizeof item, "%s%" PRIu64 "-%" PRIu64 ":%.1f%%", out.empty() ? "" : " ",
                  low, high, 100.0 * static_cast<double>(count) / total);
    out += item;
  }
  return out;
}

void print_answers(const phase_report& r) {
  const auto& a = r.run.answers;
  std::printf("   answered   : %" PRIu64 " accepted, %" PRIu64 " rejected, retried %" PRIu64
              " overloaded + %" PRIu64 " unavailable, %" PRIu64
              " other errors; %.2f s -> %.0f/s%s\n",
              a.accepted, a.rejected, a.overloaded, a.unavailable, a.other_errors, r.run.seconds,
              r.answered_per_s(), r.is_transfer() ? " debits" : " commands");
  for (const auto& [code, n] : a.rejections) {
    std::printf("   rejected   : %s x %" PRIu64 "\n", code.c_str(), n);
  }
}

void print_store(const phase_report& r) {
  std::printf("   store      : %" PRIu64 " batches (%" PRIu64
              " failed), writes/batch mean %.1f p50 %.0f p99 %.0f max %.0f\n",
              r.batches, r.failed_batches, r.batch_writes.mean, r.batch_writes.p50,
              r.batch_writes.p99, r.batch_writes.max);
  const auto total = static_cast<double>(std::max<std::uint64_t>(r.batches, 1));
  std::printf("   batch size : %s\n", format_ranges(r.batch_ranges, total).c_str());
  std::printf("   commit ms  : mean %.2f  %s\n", r.commit_ms.mean,
              format_latency(r.commit_ms).c_str());
  std::printf("   commit us  : %s\n", format_ranges(r.commit_ranges, total).c_str());
}

void print_resources(const phase_report& r) {
  std::printf(
      "   cpu        : %.2f cores busy: runtime_bench %.2f, PostgreSQL %.2f, other work on "
      "the machine %.2f; iowait %.2f\n",
      r.cpu.busy_cores, r.cpu.self_cores, r.cpu.postgres_cores, r.cpu.foreign_cores,
      r.cpu.iowait_cores);
  std::printf("   cpu per %s: runtime_bench %.0f us, PostgreSQL %.0f us\n",
              r.is_transfer() ? "transfer" : "wallet  ", r.us_per_unit(r.cpu.self_cores),
              r.us_per_unit(r.cpu.postgres_cores));
  if (r.wal) {
    const auto& w = *r.wal;
    std::printf("   wal        : %.1f MB, %" PRId64 " records, %" PRId64 " fsyncs, %" PRId64
                " commits (about a second of lag in these counters)\n",
                static_cast<double>(w.bytes) / 1e6, w.records, w.syncs, w.commits);
  }
  for (const auto& [what, n] : r.notes) {
    std::printf("   note       : %s x %" PRIu64 "\n", what.c_str(), n);
  }
}

}  // namespace

std::vector<std::pair<std::uint64_t, std::uint64_t>> pow2_ranges(const log_histogram& h) {
  std::map<std::uint64_t, std::uint64_t> ranges;
  h.for_each_bucket([&](std::uint64_t low, std::uint64_t /*high*/, std::uint64_t count) {
    std::uint64_t floor = 1;
    while (floor * 2 <= low) floor *= 2;
    ranges[low == 0 ? 0 : floor] += count;
  });
  // The [0] range folds into [1].
  if (const auto zero = ranges.find(0); zero != ranges.end()) {
    ranges[1] += zero->second;
    ranges.erase(zero);
  }
  return {ranges.begin(), ranges.end()};
}

double phase_report::answered_per_s() const {
  return per_s(static_cast<double>(run.answers.accepted + run.answers.rejected), run.seconds);
}

double phase_report::accepted_per_s() const {
  return per_s(static_cast<double>(run.answers.accepted), run.seconds);
}

double phase_report::completed_per_s() const {
  if (!is_transfer()) return per_s(static_cast<double>(jobs), run.seconds);
  return per_s(static_cast<double>(credits + reversals), complete_seconds);
}

double phase_report::us_per_unit(double cores) const {
  const auto done = static_cast<double>(is_transfer() ? credits + reversals : jobs);
  return done > 0 ? 1e6 * cores * cpu.wall_s / done : 0;
}

void print_phase(const phase_report& r) {
  std::printf("== %s: %zu %s\n", r.name.c_str(), r.jobs,
              r.is_transfer() ? "transfers" : "wallets (open + deposit each)");
  if (r.target_rate > 0) {
    std::printf(
        "   open loop  : %.0f transfers/s scheduled, sender fell behind by at most %.2f ms\n",
        r.target_rate, r.run.send_lag_max_ms);
  }
  print_answers(r);
  if (r.is_transfer()) {
    std::printf("   completed  : %" PRIu64 " credited, %" PRIu64 " reversed, %" PRId64
                " pending left; %.2f s -> %.0f transfers/s (last credit at %.2f s), %" PRIu64
                " saga leg retries\n",
                r.credits, r.reversals, r.pending_left, r.complete_seconds, r.completed_per_s(),
                r.last_credit_seconds, r.saga_retries);
    std::printf("   debit ms   : mean %.2f  %s\n", r.latency_ms.mean,
                format_latency(r.latency_ms).c_str());
    std::printf("   transfer ms: mean %.2f  %s\n", r.transfer_ms.mean,
                format_latency(r.transfer_ms).c_str());
  } else {
    std::printf("   command ms : mean %.2f  %s\n", r.latency_ms.mean,
                format_latency(r.latency_ms).c_str());
  }
  print_store(r);
  print_resources(r);
  std::fflush(stdout);
}

void print_summary(const bench_summary& s) {
  const auto& o = s.options;
  std::printf(
      "\n== runtime_bench summary: %zu wallets, %u shards, batch %zu, flush %zu us, "
      "CAF %zu threads (%s), concurrency %zu, fsync=%s synchronous_commit=%s\n",
      o.wallets, o.shards, o.batch, o.flush_us, o.threads, o.policy.c_str(), o.concurrency,
      s.server.fsync.c_str(), s.server.synchronous_commit.c_str());
  std::printf("%-8s %9s %12s %12s %9s %9s %9s %11s %11s %8s\n", "phase", "jobs", "answered/s",
              "completed/s", "p50 ms", "p99 ms", "p99.9 ms", "xfer p99 ms", "batch mean",
              "commit p99");
  for (const auto& r : s.phases) {
    std::printf("%-8s %9zu %12.0f %12.0f %9.2f %9.2f %9.2f %11.2f %11.1f %8.2f\n", r.name.c_str(),
                r.jobs, r.answered_per_s(), r.completed_per_s(), r.latency_ms.p50, r.latency_ms.p99,
                r.latency_ms.p999, r.transfer_ms.p99, r.batch_writes.mean, r.commit_ms.p99);
  }
  const auto& l = s.ledger;
  std::printf("ledger: %" PRId64 " wallets, balances %" PRId64 " + in flight %" PRId64
              " = expected %" PRId64 ": %s; runtime drained: %s; transfers:",
              l.wallets, l.balance_sum, l.in_flight, l.expected_sum, l.ok ? "OK" : "MISMATCH",
              l.drained ? "yes" : "no");
  for (const auto& [status, n] : l.transfers) std::printf(" %s %" PRId64, status.c_str(), n);
  std::printf("\n");
  for (const auto& r : s.phases) {
    std::printf("RESULT %s_answered_per_s %.1f\n", r.name.c_str(), r.answered_per_s());
    std::printf("RESULT %s_completed_per_s %.1f\n", r.name.c_str(), r.completed_per_s());
    std::printf("RESULT %s_p50_ms %.3f\nRESULT %s_p99_ms %.3f\n", r.name.c_str(), r.latency_ms.p50,
                r.name.c_str(), r.latency_ms.p99);
    std::printf("RESULT %s_transfer_p99_ms %.3f\n", r.name.c_str(), r.transfer_ms.p99);
    std::printf("RESULT %s_batch_writes_mean %.1f\n", r.name.c_str(), r.batch_writes.mean);
    if (r.target_rate > 0) std::printf("RESULT %s_rate %.1f\n", r.name.c_str(), r.target_rate);
    std::printf("RESULT %s_app_us %.0f\nRESULT %s_pg_us %.0f\n", r.name.c_str(),
                r.us_per_unit(r.cpu.self_cores), r.name.c_str(),
                r.us_per_unit(r.cpu.postgres_cores));
    std::printf("RESULT %s_foreign_cores %.2f\n", r.name.c_str(), r.cpu.foreign_cores);
  }
  std::printf("RESULT ledger_ok %d\n", l.ok ? 1 : 0);
  std::fflush(stdout);
}

}  // namespace wallet::loadtest
