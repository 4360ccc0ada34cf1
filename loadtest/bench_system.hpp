// What the benchmarks measure outside what they drive: the machine's CPU (ours, the local
// PostgreSQL's, everything else), and the database server's settings, WAL and commit counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace wallet::loadtest {

struct cpu_sample {
  double busy_s = 0;      // all CPUs, not idle and not waiting for I/O
  double iowait_s = 0;    // all CPUs, idle while I/O was outstanding
  double self_s = 0;      // this process, user + system
  double postgres_s = 0;  // the server's postmaster and its live children, user + system
  double service_s = 0;   // the measured service (walletd), user + system; 0 when not sampled
  std::chrono::steady_clock::time_point at;
};

// Average cores in use between two samples.
struct cpu_usage {
  double wall_s = 0;
  double busy_cores = 0;
  double self_cores = 0;
  double postgres_cores = 0;  // the server's processes that lived through the phase
  double service_cores = 0;   // the measured service's process (walletd), when given
  double foreign_cores = 0;   // busy - ours - PostgreSQL - service: other work (noise)
  double iowait_cores = 0;
};

// The local server's postmaster (the parent of this connection's backend), or 0 when the server
// runs elsewhere. Other clusters on the machine are not counted as PostgreSQL.
[[nodiscard]] int server_pid(pqxx::connection& conn);
// `postmaster` 0: PostgreSQL's time is not sampled; `service` 0: no service process is.
[[nodiscard]] cpu_sample sample_cpu(int postmaster, int service = 0);
[[nodiscard]] cpu_usage cpu_between(const cpu_sample& a, const cpu_sample& b);

// Cluster-wide WAL counters (pg_stat_wal) and this database's commits (pg_stat_database). The
// server publishes them about once a second, so a phase's figures are good to about a second.
struct wal_sample {
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  std::int64_t writes = 0;
  std::int64_t syncs = 0;  // WAL fsyncs: with group commit, fewer than commits
  std::int64_t commits = 0;
};

[[nodiscard]] std::optional<wal_sample> sample_wal(pqxx::connection& conn);
[[nodiscard]] wal_sample wal_between(const wal_sample& a, const wal_sample& b);

// Settings that decide what a commit costs, as the server reports them.
struct server_facts {
  std::string version;
  std::string fsync;
  std::string synchronous_commit;
  std::string full_page_writes;
  std::string wal_sync_method;
  std::string commit_delay;
  std::string shared_buffers;
};

[[nodiscard]] server_facts read_server_facts(pqxx::connection& conn);

// A libpq URL (postgresql://...) with its database (the URI path) replaced by `database`.
[[nodiscard]] std::string with_database(const std::string& url, const std::string& database);

}  // namespace wallet::loadtest
