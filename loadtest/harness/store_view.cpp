// Reads of walletd's database (libpqxx), /proc, and the wallet-reconcile child process.
#include "store_view.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>

#include "nats_transport.hpp"

// POSIX declares it in no header; the C runtime owns it (hence not const).
// NOLINTNEXTLINE(readability-redundant-declaration,cppcoreguidelines-avoid-non-const-global-variables)
extern char** environ;

namespace wallet::loadtest {
namespace {

constexpr std::size_t tail_bytes_max = 4'096;

}  // namespace

std::vector<wallet_row> read_engine_wallets(const std::string& url, const naming& names,
                                            std::uint32_t wallets) {
  try {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    std::vector<wallet_row> rows;
    // left(id, n) = prefix: no LIKE, so '_' and '%' in the prefix mean themselves.
    const pqxx::result r = tx.exec_params(
        "SELECT id, balance, held, overdraft_limit, version FROM wallets "
        "WHERE left(id, length($1)) = $1",
        names.wallet_prefix);
    rows.reserve(r.size());
    for (const auto& row : r) {
      const std::uint32_t n = names.wallet_number(row[0].as<std::string>());
      if (n == 0 || n > wallets) continue;
      rows.push_back(wallet_row{n, row[1].as<std::int64_t>(), row[2].as<std::int64_t>(),
                                row[3].as<std::int64_t>(), row[4].as<std::uint64_t>()});
    }
    return rows;
  } catch (const std::exception& e) {
    throw harness_error(std::string("reading the wallets: ") + e.what());
  }
}

in_flight read_pending_transfers(const std::string& url, const naming& names) {
  try {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    const pqxx::row r = tx.exec_params1(
        "SELECT count(*), coalesce(sum(amount), 0)::bigint FROM transfers "
        "WHERE status = 'pending' AND left(source, length($1)) = $1",
        names.wallet_prefix);
    return in_flight{r[0].as<std::int64_t>(), r[1].as<std::int64_t>()};
  } catch (const std::exception& e) {
    throw harness_error(std::string("reading the transfers: ") + e.what());
  }
}

std::int64_t process_rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

reconcile_run run_reconcile(const std::string& program, const std::string& url) {
  std::array<int, 2> fds{};
  if (pipe(fds.data()) != 0) throw harness_error("pipe for wallet-reconcile failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  const std::string flag = "--postgres.url=" + url;
  std::string argv0 = program;
  std::string argv1 = flag;
  std::array<char*, 3> argv{argv0.data(), argv1.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw harness_error("cannot start " + program + " (pass --reconcile PATH)");
  }
  std::string output;
  std::array<char, 4096> buffer{};
  for (ssize_t n = 0; (n = read(fds[0], buffer.data(), buffer.size())) > 0;) {
    output.append(buffer.data(), static_cast<std::size_t>(n));
    if (output.size() > 4 * tail_bytes_max) output.erase(0, output.size() - tail_bytes_max);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  reconcile_run r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.tail = output.size() > tail_bytes_max ? output.substr(output.size() - tail_bytes_max) : output;
  return r;
}

int run_shell(const std::string& command) {
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  std::string text = command;
  std::array<char*, 4> argv{sh.data(), dash_c.data(), text.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, sh.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    throw harness_error("cannot start /bin/sh for --before-verify");
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string default_reconcile_program() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/loadtest/wallet-loadtest -> build/app/reconcile/wallet-reconcile
    const auto sibling =
        self.parent_path().parent_path() / "app" / "reconcile" / "wallet-reconcile";
    if (std::filesystem::exists(sibling, ec)) return sibling.string();
  }
  return "wallet-reconcile";
}

}  // namespace wallet::loadtest
