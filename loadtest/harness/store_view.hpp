// What the verify phase reads behind the service: the run's wallets and transfers still in flight
// in walletd's PostgreSQL database, a process's memory, and wallet-reconcile's verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger.hpp"

namespace wallet::loadtest {

// The wallets whose ids this run names (<prefix><n>, 1 <= n <= wallets), as stored.
[[nodiscard]] std::vector<wallet_row> read_engine_wallets(const std::string& url,
                                                          const naming& names,
                                                          std::uint32_t wallets);

struct in_flight {
  std::int64_t transfers = 0;
  std::int64_t amount = 0;
};
// Transfers out of this run's wallets whose credit has not committed yet.
[[nodiscard]] in_flight read_pending_transfers(const std::string& url, const naming& names);

// VmRSS of a process in KiB, or -1 when it cannot be read.
[[nodiscard]] std::int64_t process_rss_kb(int pid);

struct reconcile_run {
  int exit_code = -1;
  std::string tail;  // the last lines of its output
};
// Runs `program --postgres.url=<url>` and waits for it. Throws harness_error when it cannot start.
[[nodiscard]] reconcile_run run_reconcile(const std::string& program, const std::string& url);

// Runs `sh -c command` and returns its exit status (the hook of --before-verify).
[[nodiscard]] int run_shell(const std::string& command);

// Where wallet-reconcile lives: next to this program's build tree, else on PATH.
[[nodiscard]] std::string default_reconcile_program();

}  // namespace wallet::loadtest
