// CPU from /proc/stat and getrusage; WAL and commit counters from the statistics views.
#include "bench_system.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace wallet::loadtest {

namespace {

struct proc_stat {
  int pid = 0;
  int ppid = 0;
  std::string name;
  double cpu_ticks = 0;  // utime + stime
};

// /proc/<pid>/stat; the name (field 2) is in parentheses and may hold spaces.
std::optional<proc_stat> read_stat(const std::filesystem::path& dir) {
  std::ifstream in(dir / "stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  proc_stat p;
  p.pid = static_cast<int>(std::strtol(line.c_str(), nullptr, 10));
  p.name = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // 4: ppid, 14: utime, 15: stime
    if (i == 4) p.ppid = static_cast<int>(std::strtol(field.c_str(), nullptr, 10));
    if (i == 14) utime = std::strtod(field.c_str(), nullptr);
    if (i == 15) stime = std::strtod(field.c_str(), nullptr);
  }
  p.cpu_ticks = utime + stime;
  return p;
}

// CPU seconds of `postmaster` and its children. A child that exits between two samples takes its
// time with it (the store connections live throughout a phase).
double server_cpu_seconds(int postmaster, double tick) {
  double total = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto p = read_stat(entry.path());
    if (p && (p->pid == postmaster || p->ppid == postmaster)) total += p->cpu_ticks / tick;
  }
  return total;
}

}  // namespace

int server_pid(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    const int backend = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
    const auto self = read_stat(std::filesystem::path("/proc") / std::to_string(backend));
    if (!self || self->name != "postgres") return 0;
    const auto parent = read_stat(std::filesystem::path("/proc") / std::to_string(self->ppid));
    return parent && parent->name == "postgres" ? parent->pid : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

cpu_sample sample_cpu(int postmaster, int service) {
  cpu_sample s;
  s.at = std::chrono::steady_clock::now();
  const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream stat("/proc/stat");
  std::string label;
  // user nice system idle iowait irq softirq steal
  std::array<double, 8> t{};
  if (stat >> label >> t[0] >> t[1] >> t[2] >> t[3] >> t[4] >> t[5] >> t[6] >> t[7]) {
    s.busy_s = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) / tick;
    s.iowait_s = t[4] / tick;
  }
  rusage self{};
  if (getrusage(RUSAGE_SELF, &self) == 0) {
    const auto seconds = [](const timeval& v) {
      return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) / 1e6;
    };
    s.self_s = seconds(self.ru_utime) + seconds(self.ru_stime);
  }
  if (postmaster != 0) s.postgres_s = server_cpu_seconds(postmaster, tick);
  if (service != 0) {
    // All of the process's threads, live and exited (/proc/<pid>/stat sums them).
    const auto p = read_stat(std::filesystem::path("/proc") / std::to_string(service));
    if (p) s.service_s = p->cpu_ticks / tick;
  }
  return s;
}

cpu_usage cpu_between(const cpu_sample& a, const cpu_sample& b) {
  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  cpu_usage u;
  if (wall <= 0) return u;
  u.wall_s = wall;
  u.busy_cores = (b.busy_s - a.busy_s) / wall;
  u.self_cores = (b.self_s - a.self_s) / wall;
  u.postgres_cores = (b.postgres_s - a.postgres_s) / wall;
  // A service that was not sampled at both ends (or restarted) counts as nothing.
  u.service_cores = b.service_s >= a.service_s ? (b.service_s - a.service_s) / wall : 0;
  u.foreign_cores = std::max(0.0, u.busy_cores - u.self_cores - u.postgres_cores - u.service_cores);
  u.iowait_cores = (b.iowait_s - a.iowait_s) / wall;
  return u;
}

std::optional<wal_sample> sample_wal(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    const pqxx::row w =
        tx.exec1("SELECT wal_records, wal_bytes::bigint, wal_write, wal_sync FROM pg_stat_wal");
    const pqxx::row d =
        tx.exec1("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
    wal_sample s;
    s.records = w[0].as<std::int64_t>();
    s.bytes = w[1].as<std::int64_t>();
    s.writes = w[2].as<std::int64_t>();
    s.syncs = w[3].as<std::int64_t>();
    s.commits = d[0].as<std::int64_t>();
    return s;
  } catch (const std::exception&) {
    return std::nullopt;  // an older server or no permission: the report leaves them out
  }
}

wal_sample wal_between(const wal_sample& a, const wal_sample& b) {
  return wal_sample{b.records - a.records, b.bytes - a.bytes, b.writes - a.writes,
                    b.syncs - a.syncs, b.commits - a.commits};
}

server_facts read_server_facts(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  const auto show = [&](const char* name) {
    return tx.exec1(std::string("SHOW ") + name)[0].as<std::string>();
  };
  server_facts f;
  f.version = show("server_version");
  f.fsync = show("fsync");
  f.synchronous_commit = show("synchronous_commit");
  f.full_page_writes = show("full_page_writes");
  f.wal_sync_method = show("wal_sync_method");
  f.commit_delay = show("commit_delay");
  f.shared_buffers = show("shared_buffers");
  return f;
}

std::string with_database(const std::string& url, const std::string& database) {
  const std::size_t authority = url.find("://");
  if (authority == std::string::npos) return url;
  const std::size_t path = url.find('/', authority + 3);
  const std::size_t query = url.find('?', authority + 3);
  std::string out = url.substr(0, std::min(path, query));
  out.append("/").append(database);
  if (query != std::string::npos) out.append(url.substr(query));
  return out;
}

}  // namespace wallet::loadtest
