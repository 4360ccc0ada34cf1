// wallet-loadtest's command line: every setting with its default (the usage text lists them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "driver.hpp"
#include "nats_transport.hpp"
#include "workload.hpp"

namespace wallet::loadtest {

struct options {
  std::string transport = "nats";  // nats | http | naive
  nats_target nats;
  std::string http_url = "http://127.0.0.1:8080";
  std::string token_file;  // the bearer token's file; empty: $WALLET_LOADTEST_TOKEN or none
  std::size_t http_connections = 64;
  std::string pg_url;     // walletd's database, read by the verify phase
  std::string naive_url;  // the baseline's database; default: pg_url's server, wallet_naive
  std::size_t naive_connections = 32;
  bool baseline = false;  // also run the naive baseline, same workload, and print the ratio
  workload_settings work;
  std::string wallet_prefix = "lt-";
  load_settings load;
  bool skip_setup = false;
  std::size_t setup_concurrency = 1'024;
  double settle_timeout_s = 120;  // the wait for credits, events and pending transfers at the end
  int service_pid = 0;            // walletd's, for its memory (RSS); 0: not sampled
  std::string reconcile;          // wallet-reconcile's path; empty: next to this program or PATH
  bool no_reconcile = false;
  bool no_verify = false;
  std::string before_verify;  // a shell command run between the load and the verify phase
  std::string out_dir;        // report.json, report.md, report.svg; empty: the summary only
  std::string title;
  std::string delete_streams;  // only delete these JetStream streams and exit
};

// The options, or nullopt with `exit_code` set (0 after --help, 2 on a bad command line; the
// reason is printed).
[[nodiscard]] std::optional<options> parse_options(int argc, char** argv, int& exit_code);

// The settings as the report lists them.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> describe(const options& o);

}  // namespace wallet::loadtest
