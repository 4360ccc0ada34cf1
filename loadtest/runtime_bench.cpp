// runtime_bench: issue 3's benchmark of the actor runtime over PostgreSQL, in process (no NATS, no
// HTTP). Opens and funds the wallets through runtime::submit, then runs transfer scenarios (closed
// loops: uniform, hot; an open loop at a fixed rate) and reports throughput, latency, store batch
// and commit figures, CPU and WAL counters, as a table and as JSON. Figures only: it asserts
// nothing about speed. It does check the ledger: no money created or lost, no transfer left
// pending.
#include <caf/all.hpp>

#include <cstdio>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "bench_driver.hpp"
#include "bench_options.hpp"
#include "bench_report.hpp"
#include "bench_system.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/engine/currency.hpp"
#include "wallet/postgres/conninfo.hpp"
#include "wallet/postgres/database.hpp"
#include "wallet/postgres/pg_store.hpp"

namespace wallet::loadtest {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t balance_regular = 1'000'000;      // 10,000.00 EUR
constexpr std::int64_t balance_hot = 1'000'000'000'000;  // never runs dry
constexpr std::uint32_t amount_max = 100;                // transfers move 0.01 .. 1.00 EUR
constexpr auto credits_timeout = 300s;

engine::currency eur() {
  static const engine::currency c = engine::currency::from_code("EUR").value();
  return c;
}

std::string wallet_id(std::size_t n) { return "w" + std::to_string(n); }

// ---- database
// ------------------------------------------------------------------------------------

void recreate_database(const std::string& server_conninfo, const std::string& name) {
  pqxx::connection admin(server_conninfo);
  std::string last_error;
  for (int attempt = 0; attempt < 40; ++attempt) {  // sessions of a previous run may linger
    try {
      pqxx::nontransaction tx(admin);
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name));
      tx.exec("CREATE DATABASE " + tx.quote_name(name));
      return;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(250ms);
  }
  throw std::runtime_error("cannot recreate database " + name + ": " + last_error);
}

void prepare_schema(pqxx::connection& conn, std::uint32_t shards) {
  const auto fail = [](const char* what, const postgres::error& e) {
    throw std::runtime_error(std::string(what) + ": " + e.detail);
  };
  if (const auto r = postgres::migrate(conn); !r) fail("migrate", r.error());
  if (const auto r = postgres::ensure_shard_count(conn, shards); !r) fail("shards", r.error());
  const auto now = std::chrono::time_point_cast<engine::duration>(std::chrono::system_clock::now());
  if (const auto r = postgres::ensure_partitions(conn, now, 1); !r) fail("partitions", r.error());
}

// ---- workloads
// -----------------------------------------------------------------------------------

struct transfer_spec {
  std::uint32_t source = 0;
  std::uint32_t destination = 0;
  std::uint32_t amount = 0;
};

// Uniform: both sides uniform over all wallets. Hot: a quarter of the transfers come from one of
// the hot wallets, a quarter go to one (so half of them touch one), the rest are uniform; the
// pgbench scripts in baselines/ draw the same way.
std::vector<transfer_spec> make_specs(std::size_t count, std::size_t wallets, std::size_t hot,
                                      bool hot_mix, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto draw = [&](std::size_t lo, std::size_t hi) {
    return static_cast<std::uint32_t>(std::uniform_int_distribution<std::size_t>(lo, hi)(rng));
  };
  // A wallet other than `other`, uniform over the rest.
  const auto other_than = [&](std::uint32_t other) {
    const std::uint32_t w = draw(1, wallets - 1);
    return w >= other ? w + 1 : w;
  };
  std::vector<transfer_spec> specs(count);
  for (auto& s : specs) {
    const std::uint32_t mix = hot_mix ? draw(0, 3) : 3;
    if (mix == 0) {
      s.source = draw(1, hot);
      s.destination = other_than(s.source);
    } else if (mix == 1) {
      s.destination = draw(1, hot);
      s.source = other_than(s.destination);
    } else {
      s.source = draw(1, wallets);
      s.destination = other_than(s.source);
    }
    s.amount = draw(1, amount_max);
  }
  return specs;
}

engine::command transfer_command(const std::string& tag, std::size_t index,
                                 const transfer_spec& s) {
  const std::string id = tag + "-" + std::to_string(index);
  return engine::command{
      wallet_id(s.source), "x-" + id,
      engine::transfer_debit{id, wallet_id(s.destination), engine::money{s.amount, eur()}}};
}

std::vector<engine::command> setup_job(std::size_t index, std::size_t hot) {
  const std::size_t n = index + 1;
  const std::string id = wallet_id(n);
  const std::int64_t funds = n <= hot ? balance_hot : balance_regular;
  return {engine::command{id, "open-" + id, engine::open_wallet{"bench", eur(), 0}},
          engine::command{id, "fund-" + id, engine::deposit{engine::money{funds, eur()}}}};
}

// ---- the bench
// -----------------------------------------------------------------------------------

// The live side of a phase, which actor threads record into. Kept until the runtime has stopped:
// a late answer may still record.
struct phase_state {
  log_histogram latency_ns;
  std::shared_ptr<transfer_clock> clock;
};

class bench {
 public:
  explicit bench(bench_options options) : o_(std::move(options)) {}

  int run();

 private:
  void connect_database();
  void start_runtime();
  phase_report setup_wallets();
  phase_report transfers(const std::string& name, const std::vector<transfer_spec>& specs);
  phase_report open_phase(double rate);
  phase_state& new_state(std::shared_ptr<transfer_clock> clock);
  void begin_phase(const phase_report& r);
  void end_phase(phase_report& r, const phase_state& live);
  void wait_for_transfers(phase_report& r, std::uint64_t debits);
  void maintenance(const char* sql, bool& enabled);
  ledger_check check_ledger();

  bench_options o_;
  std::string conninfo_;
  std::unique_ptr<pqxx::connection> db_;
  server_facts facts_;
  int postmaster_ = 0;  // the local server's, for its CPU time; 0: remote
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<bench_probe> probe_ = std::make_shared<bench_probe>();
  std::unique_ptr<actors::runtime> rt_;
  std::vector<std::unique_ptr<phase_state>> states_;
  cpu_sample cpu_before_;
  std::optional<wal_sample> wal_before_;
};

void bench::connect_database() {
  postgres::connection_options options;
  options.url = o_.pg_url;
  options.application_name = "runtime_bench";
  const auto server = postgres::make_conninfo(options);
  if (!server) throw std::runtime_error("--pg-url: " + server.error().detail);
  recreate_database(server.value(), o_.database);
  conninfo_ = with_database(server.value(), o_.database);
  db_ = std::make_unique<pqxx::connection>(conninfo_);
  prepare_schema(*db_, o_.shards);
  facts_ = read_server_facts(*db_);
  postmaster_ = server_pid(*db_);
  std::printf("database %s on %s: PostgreSQL %s, fsync=%s synchronous_commit=%s\n",
              o_.database.c_str(), postgres::redact_conninfo(o_.pg_url).c_str(),
              facts_.version.c_str(), facts_.fsync.c_str(), facts_.synchronous_commit.c_str());
}

void bench::start_runtime() {
  caf_config_.set("scheduler.max-threads", o_.threads);
  caf_config_.set("scheduler.policy",
                  o_.policy == "sharing" ? caf::atom("sharing") : caf::atom("stealing"));
  system_ = std::make_unique<caf::actor_system>(caf_config_);
  actors::runtime_settings s;
  s.shards = o_.shards;
  s.batch_size_max = o_.batch;
  s.flush_interval = std::chrono::microseconds(o_.flush_us);
  s.wallet_inflight_max = o_.wallet_inflight;
  s.commits_in_flight_max = o_.commits_in_flight;
  s.store_queue_max = std::max(s.store_queue_max, 2 * o_.concurrency);
  const std::string conninfo = conninfo_;
  const std::uint32_t shards = o_.shards;
  rt_ = std::make_unique<actors::runtime>(
      *system_, s,
      [conninfo, shards](std::uint32_t shard) {
        postgres::pg_store_settings ps;
        ps.conninfo = conninfo;
        ps.shard_id = shard;
        ps.shard_count = shards;
        ps.application_name = "runtime_bench";
        auto store = std::make_unique<postgres::pg_store>(std::move(ps));
        if (const auto e = store->connect()) {
          std::fprintf(stderr, "runtime_bench: shard %u: %s\n", shard, e->detail.c_str());
        }
        return store;
      },
      probe_);
}

void bench::maintenance(const char* sql, bool& enabled) {
  if (!enabled) return;
  try {
    pqxx::nontransaction tx(*db_);
    tx.exec(sql);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_bench: %s failed, skipping it from now on: %s\n", sql, e.what());
    enabled = false;
  }
}

phase_state& bench::new_state(std::shared_ptr<transfer_clock> clock) {
  auto& live = *states_.emplace_back(std::make_unique<phase_state>());
  live.clock = std::move(clock);
  return live;
}

void bench::begin_phase(const phase_report& r) {
  maintenance("CHECKPOINT", o_.checkpoint);
  probe_->reset();
  std::printf("-- %s ...\n", r.name.c_str());
  std::fflush(stdout);
  wal_before_ = sample_wal(*db_);
  cpu_before_ = sample_cpu(postmaster_);
}

void bench::end_phase(phase_report& r, const phase_state& live) {
  r.cpu = cpu_between(cpu_before_, sample_cpu(postmaster_));
  if (const auto after = sample_wal(*db_); after && wal_before_) {
    r.wal = wal_between(*wal_before_, *after);
  }
  r.batches = probe_->batch_writes.count();
  r.batch_writes = summarise(probe_->batch_writes, 1);
  r.commit_ms = summarise(probe_->commit_us, 1e-3);
  r.failed_batches = probe_->failed_batches.load();
  r.saga_retries = probe_->saga_retries.load();
  r.reversals = probe_->reversals.load();
  r.batch_ranges = pow2_ranges(probe_->batch_writes);
  r.commit_ranges = pow2_ranges(probe_->commit_us);
  r.notes = probe_->notes();
  r.latency_ms = summarise(live.latency_ns, 1e-6);
  if (live.clock) r.transfer_ms = summarise(live.clock->latency_ns, 1e-6);
  probe_->track(nullptr);
  print_phase(r);
}

phase_report bench::setup_wallets() {
  phase_report r("setup");
  auto& live = new_state(nullptr);
  begin_phase(r);
  const std::size_t hot = o_.hot_wallets;
  closed_loop loop(
      *rt_, [hot](std::size_t i) { return setup_job(i, hot); }, o_.wallets, live.latency_ns,
      nullptr);
  r.jobs = o_.wallets;
  r.run = loop.run(o_.concurrency);
  r.complete_seconds = r.run.seconds;
  end_phase(r, live);
  return r;
}

// Waits until every accepted debit's credit (or reversal) is answered, then until the database
// shows no pending transfer: the transfer is complete when both legs are committed.
void bench::wait_for_transfers(phase_report& r, std::uint64_t debits) {
  const auto deadline = steady::now() + credits_timeout;
  while (probe_->credits.load() + probe_->reversals.load() < debits && steady::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  std::int64_t pending = -1;
  while (steady::now() < deadline) {
    pqxx::nontransaction tx(*db_);
    pending =
        tx.exec1("SELECT count(*) FROM transfers WHERE status = 'pending'")[0].as<std::int64_t>();
    if (pending == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  r.credits = probe_->credits.load();
  r.pending_left = pending;
  r.complete_seconds = static_cast<double>(now_ns() - r.run.started_ns) / 1e9;
  r.last_credit_seconds =
      static_cast<double>(probe_->last_credit_ns.load() - r.run.started_ns) / 1e9;
}

phase_report bench::transfers(const std::string& name, const std::vector<transfer_spec>& specs) {
  phase_report r(name);
  const std::string tag = name.substr(0, 1);
  auto& live = new_state(std::make_shared<transfer_clock>(tag, specs.size()));
  begin_phase(r);
  probe_->track(live.clock);
  closed_loop loop(
      *rt_,
      [&specs, tag](std::size_t i) { return std::vector{transfer_command(tag, i, specs[i])}; },
      specs.size(), live.latency_ns, live.clock);
  r.jobs = specs.size();
  r.run = loop.run(o_.concurrency);
  wait_for_transfers(r, r.run.answers.accepted);
  end_phase(r, live);
  return r;
}

phase_report bench::open_phase(double rate) {
  phase_report r("open");
  const auto count = static_cast<std::size_t>(rate * o_.open_seconds);
  const auto specs = make_specs(count, o_.wallets, o_.hot_wallets, false, o_.seed + 3);
  auto& live = new_state(std::make_shared<transfer_clock>("o", count));
  r.target_rate = rate;
  begin_phase(r);
  probe_->track(live.clock);
  r.jobs = count;
  r.run = open_loop(
      *rt_, [&specs](std::size_t i) { return transfer_command("o", i, specs[i]); }, count, rate,
      live.latency_ns, live.clock, credits_timeout);
  wait_for_transfers(r, r.run.answers.accepted);
  end_phase(r, live);
  return r;
}

ledger_check bench::check_ledger() {
  ledger_check c;
  pqxx::nontransaction tx(*db_);
  const pqxx::row w = tx.exec1("SELECT count(*), coalesce(sum(balance), 0) FROM wallets");
  c.wallets = w[0].as<std::int64_t>();
  c.balance_sum = w[1].as<std::int64_t>();
  const auto hot = static_cast<std::int64_t>(o_.hot_wallets);
  c.expected_sum =
      hot * balance_hot + (static_cast<std::int64_t>(o_.wallets) - hot) * balance_regular;
  for (const auto& row : tx.exec("SELECT status, count(*) FROM transfers GROUP BY status")) {
    c.transfers[row[0].as<std::string>()] = row[1].as<std::int64_t>();
  }
  const pqxx::row in_flight =
      tx.exec1("SELECT coalesce(sum(amount), 0) FROM transfers WHERE status = 'pending'");
  c.in_flight = in_flight[0].as<std::int64_t>();
  c.ok = c.wallets == static_cast<std::int64_t>(o_.wallets) &&
         c.balance_sum + c.in_flight == c.expected_sum && c.in_flight == 0;
  return c;
}

int bench::run() {
  connect_database();
  start_runtime();
  bench_summary summary;
  summary.options = o_;
  summary.server = facts_;
  summary.phases.push_back(setup_wallets());
  maintenance("ANALYZE", o_.analyze);
  double peak = 0;
  for (const std::string& scenario : o_.scenarios) {
    if (scenario == "open") {
      const double rate = o_.rate > 0 ? o_.rate : peak / 2;
      if (rate <= 0) {
        std::fprintf(stderr, "runtime_bench: open loop skipped: no --rate and no uniform peak\n");
        continue;
      }
      summary.phases.push_back(open_phase(rate));
      continue;
    }
    const bool hot = scenario == "hot";
    const auto specs =
        make_specs(o_.transfers, o_.wallets, o_.hot_wallets, hot, o_.seed + (hot ? 2 : 1));
    summary.phases.push_back(transfers(scenario, specs));
    if (!hot) peak = summary.phases.back().completed_per_s();
  }
  const bool drained = rt_->stop(10s);
  summary.ledger = check_ledger();
  summary.ledger.drained = drained;
  print_summary(summary);
  if (!o_.json.empty()) write_json(summary, o_.json);
  rt_.reset();
  return summary.ledger.ok ? 0 : 1;
}

}  // namespace
}  // namespace wallet::loadtest

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = wallet::loadtest::parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  try {
    wallet::loadtest::bench b(std::move(*options));
    return b.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_bench: %s\n", e.what());
    return 1;
  }
}
