// wallet-loadtest: sets up wallets, drives a workload through a transport (NATS or HTTP to
// walletd, or the naive SQL baseline), verifies that nothing was lost, doubled or left wrong, and
// reports throughput and latency as JSON, Markdown and an SVG chart. A client only: it uses the
// adapters' client code and the wire codec, never the engine's runtime.
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "../bench_system.hpp"
#include "../steady_ns.hpp"
#include "driver.hpp"
#include "http_transport.hpp"
#include "naive_transport.hpp"
#include "nats_transport.hpp"
#include "options.hpp"
#include "report.hpp"
#include "store_view.hpp"
#include "verify.hpp"

namespace wallet::loadtest {
namespace {

using namespace std::chrono_literals;

constexpr int exit_failed_verification = 1;
constexpr int exit_could_not_run = 3;

// Transports need their sink at construction and the driver needs its transport: this breaks the
// circle.
class forwarding_sink final : public answer_sink {
 public:
  void answered(std::uint64_t token, const answer& a) override {
    if (driver_ != nullptr) driver_->answered(token, a);
  }
  void to(driver* d) { driver_ = d; }

 private:
  driver* driver_ = nullptr;
};

// Runs a function when the scope ends, however it ends.
class scope_exit {
 public:
  explicit scope_exit(std::function<void()> f) : f_(std::move(f)) {}
  scope_exit(const scope_exit&) = delete;
  scope_exit& operator=(const scope_exit&) = delete;
  scope_exit(scope_exit&&) = delete;
  scope_exit& operator=(scope_exit&&) = delete;
  ~scope_exit() { f_(); }

 private:
  std::function<void()> f_;
};

std::string run_tag() {
  std::random_device rd;
  char tag[16];
  std::snprintf(tag, sizeof tag, "r%08x", static_cast<unsigned>(rd()));
  return tag;
}

// The local PostgreSQL's postmaster (0: remote or unknown), for the CPU split.
int postmaster_of(const std::string& url) {
  if (url.empty()) return 0;
  try {
    pqxx::connection conn(url);
    return server_pid(conn);
  } catch (const std::exception&) {
    return 0;
  }
}

// Runs one phase and wraps it for the report.
phase_report run_phase(driver& d, const std::string& name, const load_settings& load,
                       const driver::job_source& jobs, int postmaster,
                       const std::function<std::int64_t()>& rss, int service = 0) {
  latency_set latency;
  const cpu_sample before = sample_cpu(postmaster, service);
  phase_stats s = d.run(name, load, jobs, latency, rss);
  return make_phase_report(std::move(s), latency,
                           cpu_between(before, sample_cpu(postmaster, service)));
}

load_settings setup_load(const options& o) {
  load_settings l;
  l.how = load_settings::model::closed;
  l.concurrency = o.setup_concurrency;
  l.jobs = o.work.wallets;
  l.duration_s = 0;
  l.warmup_s = 0;
  l.answer_timeout_s = o.load.answer_timeout_s;
  l.progress = o.load.progress;
  return l;
}

// After the run: waits until the transfers in flight have landed and the event stream has caught
// up with what the database holds, then reads the final state.
struct settled {
  std::vector<wallet_row> after;
  in_flight pending;
  std::uint64_t credits_missing = 0;
};

settled settle(const options& o, const naming& names, driver& d, const run_ledger& ledger,
               bool events) {
  settled s;
  s.credits_missing = d.wait_for_credits(o.settle_timeout_s);
  const auto deadline = steady::now() + std::chrono::duration<double>(o.settle_timeout_s);
  for (;;) {
    s.after = read_engine_wallets(o.pg_url, names, o.work.wallets);
    s.pending = read_pending_transfers(o.pg_url, names);
    bool caught_up = true;
    for (const wallet_row& r : s.after) {
      if (events && ledger.events.state(r.n).last_seq < r.version) {
        caught_up = false;
        break;
      }
    }
    if ((caught_up && s.pending.transfers == 0) || steady::now() > deadline) return s;
    std::this_thread::sleep_for(250ms);
  }
}

verify_input common_input(const options& o, const run_ledger& ledger) {
  verify_input in;
  in.wallets = o.work.wallets;
  in.expected = &ledger.expected;
  in.sent = ledger.sent.load();
  in.failed = ledger.failed.load();
  in.failed_examples = ledger.failed_examples;
  in.valid_refused = ledger.valid_refused.load();
  in.valid_refused_examples = ledger.valid_refused_examples;
  const auto pairs = ledger.duplicates.pairs();
  if (!pairs.empty()) in.duplicates = pairs;
  in.invalid = &ledger.invalid;
  return in;
}

// The set-up's events are published after their outcomes: the run must not pay for them (its
// transfers' credits would queue behind them on the stream). Waits until a second passes without
// an event.
void wait_for_quiet_events(const nats_event_watch& watch, double timeout_s) {
  std::fprintf(stderr, "set-up: waiting for its events to be published\n");
  const auto deadline = steady::now() + std::chrono::duration<double>(timeout_s);
  while (steady::now() < deadline && now_ns() - watch.last_event_ns() < 1'000'000'000) {
    std::this_thread::sleep_for(100ms);
  }
}

// The --before-verify hook: a failing hook makes the run fail to finish (exit 3), never pass.
void before_verify(const options& o) {
  if (o.before_verify.empty()) return;
  std::fprintf(stderr, "before verify: %s\n", o.before_verify.c_str());
  if (const int rc = run_shell(o.before_verify); rc != 0) {
    throw harness_error("--before-verify exited with " + std::to_string(rc));
  }
}

// The bearer token: the file's first line, else $WALLET_LOADTEST_TOKEN (never a flag: a token on
// a command line shows in `ps`).
std::string bearer_token(const options& o) {
  if (o.token_file.empty()) {
    const char* env = std::getenv("WALLET_LOADTEST_TOKEN");
    return env != nullptr ? env : "";
  }
  std::ifstream in(o.token_file);
  std::string token;
  if (!std::getline(in, token) || token.empty()) {
    throw harness_error("no token in " + o.token_file);
  }
  return token;
}

std::unique_ptr<transport> make_transport(const options& o, answer_sink& sink) {
  if (o.transport == "http") {
    return std::make_unique<http_transport>(
        http_target{o.http_url, bearer_token(o), o.http_connections, o.load.answer_timeout_s},
        sink);
  }
  return std::make_unique<nats_transport>(o.nats, sink);
}

// The event stream, from NATS whatever the transport. Over HTTP a missing NATS server only skips
// the event check (with the reason); over NATS it is an error.
std::unique_ptr<nats_event_watch> watch_events(const options& o, const naming& names,
                                               run_ledger& ledger,
                                               const std::atomic<driver*>& credits_to,
                                               std::string& why) {
  nats_event_watch::hooks hooks{&ledger.events, &ledger.duplicates,
                                [&credits_to](std::uint64_t id) {
                                  if (driver* d = credits_to.load()) d->credited(id);
                                }};
  try {
    return std::make_unique<nats_event_watch>(o.nats, names, hooks);
  } catch (const harness_error& e) {
    if (o.transport == "nats") throw;
    why = std::string("no event stream: ") + e.what();
    return nullptr;
  }
}

// walletd, over NATS or HTTP.
target_report run_service(const options& o, const naming& names) {
  run_ledger ledger(o.work.wallets);
  const workload work(o.work);
  std::vector<wallet_row> before;
  if (!o.pg_url.empty()) before = read_engine_wallets(o.pg_url, names, o.work.wallets);
  ledger.events.start_from(before);
  forwarding_sink sink;
  const std::unique_ptr<transport> t = make_transport(o, sink);
  std::string no_events_why;
  std::atomic<driver*> credits_to{nullptr};
  auto watch = watch_events(o, names, ledger, credits_to, no_events_why);
  // Transfers complete on their credit event where the event stream can be followed.
  driver d(*t, names, ledger, watch != nullptr);
  sink.to(&d);
  credits_to.store(&d);
  // Before the driver goes: no event may reach it any more.
  const scope_exit stop_watching([&] {
    credits_to.store(nullptr);
    watch.reset();
  });
  target_report tr;
  tr.transport = t->name();
  tr.service = t->describe();
  const int postmaster = postmaster_of(o.pg_url);
  std::function<std::int64_t()> rss;
  if (o.service_pid != 0) rss = [pid = o.service_pid] { return process_rss_kb(pid); };
  if (rss) tr.service_rss_kb.emplace_back("before set-up", rss());
  if (!o.skip_setup) {
    std::fprintf(stderr, "set-up: %u wallets\n", o.work.wallets);
    tr.phases.push_back(run_phase(
        d, "setup", setup_load(o),
        [&work](std::uint64_t i) { return work.setup(static_cast<std::uint32_t>(i + 1)); },
        postmaster, rss, o.service_pid));
    if (rss) tr.service_rss_kb.emplace_back("after set-up", rss());
    if (watch) wait_for_quiet_events(*watch, o.settle_timeout_s);
  }
  std::fprintf(stderr, "run: %s\n", tr.service.c_str());
  tr.phases.push_back(run_phase(
      d, "run", o.load, [&work](std::uint64_t i) { return work.make(i); }, postmaster, rss,
      o.service_pid));
  if (rss) tr.service_rss_kb.emplace_back("after the run", rss());
  if (o.no_verify) return tr;
  before_verify(o);
  std::fprintf(stderr, "verify: waiting for transfers and events to settle\n");
  const settled s = settle(o, names, d, ledger, watch != nullptr);
  verify_input in = common_input(o, ledger);
  in.before = std::move(before);
  in.after = s.after;
  in.events = watch != nullptr ? &ledger.events : nullptr;
  in.events_skipped_why = no_events_why;
  in.duplicate_events_known = watch != nullptr;
  in.pending_transfers = s.pending.transfers;
  in.pending_amount = s.pending.amount;
  if (o.no_reconcile) {
    in.reconcile_skipped_why = "--no-reconcile";
  } else {
    const reconcile_run rr =
        run_reconcile(o.reconcile.empty() ? default_reconcile_program() : o.reconcile, o.pg_url);
    in.reconcile_exit = rr.exit_code;
    in.reconcile_output = rr.tail;
  }
  tr.verification = verify(in);
  return tr;
}

std::string naive_url_of(const options& o) {
  if (!o.naive_url.empty()) return o.naive_url;
  if (o.pg_url.empty()) throw harness_error("the naive baseline needs --naive-url or --pg-url");
  return with_database(o.pg_url, "wallet_naive");
}

// The baseline's wallets, funded in bulk: its set-up is not what is compared.
void prepare_naive(const std::string& url, const options& o) {
  naive_transport::recreate_tables(url);
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec_params(
      "INSERT INTO naive_wallets (id, balance, held) SELECT g, $2, 0 FROM generate_series(1, $1) g",
      o.work.wallets, o.work.funding);
  tx.exec("VACUUM ANALYZE naive_wallets");
}

target_report run_naive(const options& o, const naming& names) {
  const std::string url = naive_url_of(o);
  std::fprintf(stderr, "naive baseline: %u wallets funded in bulk\n", o.work.wallets);
  prepare_naive(url, o);
  run_ledger ledger(o.work.wallets);
  const workload work(o.work);
  const std::vector<wallet_row> before = naive_transport::read_wallets(url, o.work.wallets);
  forwarding_sink sink;
  naive_transport t(naive_target{url, o.naive_connections}, sink);
  driver d(t, names, ledger, false);
  sink.to(&d);
  target_report tr;
  tr.transport = t.name();
  tr.service = t.describe();
  tr.phases.push_back(run_phase(d, "run", o.load, [&work](std::uint64_t i) { return work.make(i); },
                                postmaster_of(url), {}));
  if (o.no_verify) return tr;
  before_verify(o);
  verify_input in = common_input(o, ledger);
  in.before = before;
  in.after = naive_transport::read_wallets(url, o.work.wallets);
  in.events_skipped_why = "the naive baseline publishes no events";
  in.duplicate_events_known = false;
  in.reconcile_skipped_why = "the naive baseline keeps no event log to reconcile against";
  tr.verification = verify(in);
  return tr;
}

std::string default_title(const options& o) {
  return "wallet-loadtest: " + o.transport + ", " + to_string(o.work.pick) + ", " +
         std::to_string(o.work.wallets) + " wallets, " +
         (o.load.how == load_settings::model::closed
              ? "closed loop " + std::to_string(o.load.concurrency)
              : "open loop " + std::to_string(static_cast<long>(o.load.rate)) + "/s");
}

void write_reports(const run_report& r, const std::string& dir) {
  std::filesystem::create_directories(dir);
  write_json(r, dir + "/report.json");
  write_svg(r, dir + "/report.svg");
  write_markdown(r, dir + "/report.md", "report.svg");
  std::fprintf(stderr, "reports: %s/report.{json,md,svg}\n", dir.c_str());
}

int run(const options& o) {
  naming names;
  names.wallet_prefix = o.wallet_prefix;
  names.run_tag = run_tag();
  run_report r;
  r.title = o.title.empty() ? default_title(o) : o.title;
  r.settings = describe(o);
  r.settings.emplace_back("run tag", names.run_tag);
  r.machine = read_machine_facts();
  const std::string facts_url = o.transport == "naive" ? naive_url_of(o) : o.pg_url;
  if (!facts_url.empty()) {
    pqxx::connection conn(facts_url);
    r.postgres = read_server_facts(conn);
  }
  r.main = o.transport == "naive" ? run_naive(o, names) : run_service(o, names);
  if (o.baseline) r.baseline = run_naive(o, names);
  if (!o.out_dir.empty()) write_reports(r, o.out_dir);
  print_summary(r);
  return r.ok() || o.no_verify ? 0 : exit_failed_verification;
}

}  // namespace
}  // namespace wallet::loadtest

int main(int argc, char** argv) {
  using namespace wallet::loadtest;
  int exit_code = 0;
  const auto o = parse_options(argc, argv, exit_code);
  if (!o) return exit_code;
  try {
    if (!o->delete_streams.empty()) {
      const std::string problems = delete_streams(o->nats, o->delete_streams);
      if (problems.empty()) return 0;
      std::fprintf(stderr, "wallet-loadtest: %s\n", problems.c_str());
      return exit_could_not_run;
    }
    return run(*o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wallet-loadtest: %s\n", e.what());
    return exit_could_not_run;
  }
}
