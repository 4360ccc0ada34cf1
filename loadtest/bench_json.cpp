// runtime_bench's results as a JSON document (write_json of bench_report.hpp).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bench_report.hpp"

namespace wallet::loadtest {
namespace {

// Just enough JSON: objects, arrays, strings, numbers; commas handled by nesting level.
class json_writer {
 public:
  explicit json_writer(std::ostream& out) : out_(out) {}

  json_writer& open(std::string_view key = {}, char bracket = '{') {
    prefix(key);
    out_ << bracket;
    first_.push_back(true);
    return *this;
  }
  json_writer& close(char bracket = '}') {
    first_.pop_back();
    out_ << bracket;
    return *this;
  }
  json_writer& field(std::string_view key, std::string_view text) {
    prefix(key);
    quote(text);
    return *this;
  }
  json_writer& field(std::string_view key, double value) {
    prefix(key);
    if (std::isfinite(value)) {
      char number[40];
      std::snprintf(number, sizeof number, "%.6g", value);
      out_ << number;
    } else {
      out_ << "null";
    }
    return *this;
  }
  json_writer& field(std::string_view key, std::uint64_t value) {
    prefix(key);
    out_ << value;
    return *this;
  }
  json_writer& field(std::string_view key, std::int64_t value) {
    prefix(key);
    out_ << value;
    return *this;
  }
  json_writer& field(std::string_view key, bool value) {
    prefix(key);
    out_ << (value ? "true" : "false");
    return *this;
  }

 private:
  void prefix(std::string_view key) {
    if (!first_.empty()) {
      if (!first_.back()) out_ << ',';
      first_.back() = false;
    }
    if (!key.empty()) {
      quote(key);
      out_ << ':';
    }
  }
  void quote(std::string_view text) {
    out_ << '"';
    for (const char c : text) {
      if (c == '"' || c == '\\') {
        out_ << '\\' << c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
        out_ << escaped;
      } else {
        out_ << c;
      }
    }
    out_ << '"';
  }

  std::ostream& out_;
  std::vector<bool> first_;
};

void write_latency(json_writer& j, std::string_view key, const latency_summary& l) {
  j.open(key)
      .field("count", l.count)
      .field("mean", l.mean)
      .field("p50", l.p50)
      .field("p90", l.p90)
      .field("p99", l.p99)
      .field("p99_9", l.p999)
      .field("max", l.max)
      .close();
}

void write_ranges(json_writer& j, std::string_view key,
                  const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges) {
  j.open(key, '[');
  for (const auto& [low, count] : ranges) {
    j.open().field("from", low).field("count", count).close();
  }
  j.close(']');
}

void write_options(json_writer& j, const bench_options& o) {
  j.open("options")
      .field("database", o.database)
      .field("wallets", std::uint64_t{o.wallets})
      .field("hot_wallets", std::uint64_t{o.hot_wallets})
      .field("transfers", std::uint64_t{o.transfers})
      .field("concurrency", std::uint64_t{o.concurrency})
      .field("shards", std::uint64_t{o.shards})
      .field("batch_size_max", std::uint64_t{o.batch})
      .field("flush_interval_us", std::uint64_t{o.flush_us})
      .field("wallet_inflight_max", std::uint64_t{o.wallet_inflight})
      .field("commits_in_flight_max", std::uint64_t{o.commits_in_flight})
      .field("caf_threads", std::uint64_t{o.threads})
      .field("caf_policy", o.policy)
      .field("open_seconds", o.open_seconds)
      .field("seed", std::uint64_t{o.seed})
      .close();
}

void write_server(json_writer& j, const server_facts& f) {
  j.open("server")
      .field("version", f.version)
      .field("fsync", f.fsync)
      .field("synchronous_commit", f.synchronous_commit)
      .field("full_page_writes", f.full_page_writes)
      .field("wal_sync_method", f.wal_sync_method)
      .field("commit_delay", f.commit_delay)
      .field("shared_buffers", f.shared_buffers)
      .close();
}

void write_answers(json_writer& j, const answer_counts& a) {
  j.open("answers")
      .field("accepted", a.accepted)
      .field("rejected", a.rejected)
      .field("overloaded", a.overloaded)
      .field("unavailable", a.unavailable)
      .field("other_errors", a.other_errors);
  j.open("rejections");
  for (const auto& [code, n] : a.rejections) j.field(code, n);
  j.close().close();
}

void write_resources(json_writer& j, const phase_report& r) {
  j.open("cpu_cores")
      .field("busy", r.cpu.busy_cores)
      .field("runtime_bench", r.cpu.self_cores)
      .field("postgres", r.cpu.postgres_cores)
      .field("foreign", r.cpu.foreign_cores)
      .field("iowait", r.cpu.iowait_cores)
      .close();
  j.open("cpu_us_per_unit")  // per transfer completed; setup: per wallet
      .field("runtime_bench", r.us_per_unit(r.cpu.self_cores))
      .field("postgres", r.us_per_unit(r.cpu.postgres_cores))
      .close();
  if (r.wal) {
    j.open("wal")
        .field("bytes", r.wal->bytes)
        .field("records", r.wal->records)
        .field("writes", r.wal->writes)
        .field("fsyncs", r.wal->syncs)
        .field("commits", r.wal->commits)
        .close();
  }
  j.open("notes");
  for (const auto& [what, n] : r.notes) j.field(what, n);
  j.close();
}

void write_phase(json_writer& j, const phase_report& r) {
  j.open(r.name)
      .field("jobs", std::uint64_t{r.jobs})
      .field("seconds", r.run.seconds)
      .field("answered_per_s", r.answered_per_s())
      .field("accepted_per_s", r.accepted_per_s())
      .field("completed_per_s", r.completed_per_s())
      .field("complete_seconds", r.complete_seconds)
      .field("last_credit_seconds", r.last_credit_seconds)
      .field("target_rate", r.target_rate)
      .field("send_lag_max_ms", r.run.send_lag_max_ms)
      .field("credits", r.credits)
      .field("reversals", r.reversals)
      .field("saga_retries", r.saga_retries)
      .field("pending_left", r.pending_left);
  write_answers(j, r.run.answers);
  write_latency(j, "latency_ms", r.latency_ms);
  write_latency(j, "transfer_latency_ms", r.transfer_ms);
  j.field("batches", r.batches).field("failed_batches", r.failed_batches);
  write_latency(j, "batch_writes", r.batch_writes);
  write_latency(j, "commit_ms", r.commit_ms);
  write_ranges(j, "batch_writes_pow2", r.batch_ranges);
  write_ranges(j, "commit_us_pow2", r.commit_ranges);
  write_resources(j, r);
  j.close();
}

void write_ledger(json_writer& j, const ledger_check& l) {
  j.open("ledger")
      .field("ok", l.ok)
      .field("drained", l.drained)
      .field("wallets", l.wallets)
      .field("balance_sum", l.balance_sum)
      .field("in_flight", l.in_flight)
      .field("expected_sum", l.expected_sum);
  j.open("transfers");
  for (const auto& [status, n] : l.transfers) j.field(status, n);
  j.close().close();
}

}  // namespace

void write_json(const bench_summary& s, const std::string& path) {
  std::ostringstream text;
  json_writer j(text);
  j.open().field("benchmark", std::string_view{"runtime_bench"});
  write_options(j, s.options);
  write_server(j, s.server);
  j.open("phases");
  for (const auto& r : s.phases) write_phase(j, r);
  j.close();
  write_ledger(j, s.ledger);
  j.close();
  std::ofstream out(path);
  out << text.str() << '\n';
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace wallet::loadtest
