// wallet-loadtest's report: throughput, latency percentiles (overall, per operation, transfer
// completion), answers and errors by kind, the verification, the settings and the machine — as
// JSON, as Markdown, as an SVG chart of throughput and latency over time, and as a short summary
// for the terminal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../bench_system.hpp"
#include "../log_histogram.hpp"
#include "driver.hpp"
#include "verify.hpp"

namespace wallet::loadtest {

struct machine_facts {
  unsigned cores = 0;
  std::string cpu_model;
  std::int64_t memory_kb = 0;
  std::string kernel;
  std::string compiler;
  std::string libraries;  // NATS.c, Boost, libpqxx versions
};
[[nodiscard]] machine_facts read_machine_facts();

struct phase_report {
  phase_stats stats;
  latency_summary all;  // ms
  std::map<std::string, latency_summary> by_op;
  latency_summary transfer_complete;  // ms, send -> credit event
  cpu_usage cpu;
};
[[nodiscard]] phase_report make_phase_report(phase_stats stats, const latency_set& latency,
                                             const cpu_usage& cpu);

// One target's run: walletd over a transport, or the naive baseline.
struct target_report {
  std::string transport;
  std::string service;               // the transport's describe()
  std::vector<phase_report> phases;  // setup (when run), then the measured run
  verify_report verification;
  std::vector<std::pair<std::string, std::int64_t>> service_rss_kb;  // "after set-up", ...

  [[nodiscard]] const phase_report* run_phase() const;
};

struct run_report {
  std::string title;
  std::vector<std::pair<std::string, std::string>> settings;
  machine_facts machine;
  std::optional<server_facts> postgres;
  target_report main;
  std::optional<target_report> baseline;  // the naive implementation, same workload

  // main / baseline throughput of the measured run; nullopt without a baseline.
  [[nodiscard]] std::optional<double> ratio() const;
  [[nodiscard]] bool ok() const;
};

void write_json(const run_report& r, const std::string& path);
void write_markdown(const run_report& r, const std::string& path, const std::string& chart_file);
// Throughput (answered and credited per second) and latency (p50, p99, max per second) over time,
// warm-up shaded. Self-contained SVG.
void write_svg(const run_report& r, const std::string& path);
[[nodiscard]] std::string svg_chart(const std::string& title,
                                    const std::vector<timeline_point>& timeline, double warmup_s,
                                    const std::vector<timeline_point>* baseline);
// The few lines a terminal shows at the end, and "RESULT key value" lines for scripts.
void print_summary(const run_report& r);

}  // namespace wallet::loadtest
