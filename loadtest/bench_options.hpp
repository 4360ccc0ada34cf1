// runtime_bench's command line: every knob of the benchmark, with the defaults of issue 3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wallet::loadtest {

struct bench_options {
  std::string pg_url;                     // the server; default $WALLET_PG_URL
  std::string database = "wallet_bench";  // dropped and created afresh on that server
  std::size_t wallets = 100'000;
  std::size_t hot_wallets = 10;
  std::size_t transfers = 200'000;  // per closed-loop scenario
  std::size_t concurrency = 8'192;  // jobs outstanding in a closed loop
  std::uint32_t shards = 4;
  std::size_t batch = 512;              // store batch_size_max
  std::size_t flush_us = 1'000;         // store flush_interval
  std::size_t wallet_inflight = 1'024;  // runtime wallet_inflight_max
  std::size_t commits_in_flight = 1;    // store commits_in_flight_max
  std::size_t threads = 2;              // CAF scheduler.max-threads
  std::string policy = "sharing";       // CAF scheduler.policy: stealing | sharing
  std::vector<std::string> scenarios{"uniform", "hot", "open"};
  double rate = 0;  // open loop, transfers/s; 0: half the uniform peak
  double open_seconds = 15;
  std::uint64_t seed = 20'261'130;
  bool analyze = true;     // ANALYZE after setup (what autovacuum does within a minute)
  bool checkpoint = true;  // CHECKPOINT before each timed phase (needs pg_checkpoint)
  std::string json;        // result file; empty: none
};

// The options, or nullopt with `exit_code` set (0 after --help, 2 on a bad command line; the
// reason is printed).
[[nodiscard]] std::optional<bench_options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace wallet::loadtest
