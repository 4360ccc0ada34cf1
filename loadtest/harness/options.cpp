// wallet-loadtest's options: one table gives each option's parser, its default and its help line,
// so that --help cannot drift from what is parsed.
#include "options.hpp"

#include <unistd.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

namespace wallet::loadtest {
namespace {

constexpr const char* intro = R"(wallet-loadtest: load, verify and report on a wallet service.

Sets up --wallets wallets (open and fund each), runs jobs over a transport in a closed loop
(--concurrency jobs outstanding) or an open loop (--rate jobs per second, latency from the intended
send time), bounded by --duration or --count after a --warmup, then verifies: every command
answered, balances as the answers say, none below its limit, money conserved, the event stream
complete, every duplicate applied once, every invalid command rejected with the right code,
wallet-reconcile clean. Exit status: 0 verified, 1 verification failed, 2 bad command line,
3 the run could not start or finish (a server missing). See loadtest/README.md.

Options (default in brackets):
)";

bool to_number(std::string_view text, double& out, double min, double max) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v) || v < min ||
      v > max) {
    return false;
  }
  out = v;
  return true;
}

template <class Int>
bool to_integer(std::string_view text, Int& out, Int min) {
  Int v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < min) return false;
  out = v;
  return true;
}

struct option_spec {
  const char* name;
  const char* value;  // the value's name in the help, "" for a flag
  const char* help;
  std::function<bool(options&, std::string_view)> set;
};

std::function<bool(options&, std::string_view)> text(std::string options::*field) {
  return [field](options& o, std::string_view v) {
    o.*field = v;
    return !v.empty();
  };
}

std::function<bool(options&, std::string_view)> flag(bool options::*field) {
  return [field](options& o, std::string_view /*v*/) { return o.*field = true; };
}

const std::vector<option_spec>& specs() {
  static const std::vector<option_spec> table{
      {"transport", "T", "nats | http | naive [nats]",
       [](options& o, std::string_view v) {
         o.transport = v;
         return v == "nats" || v == "http" || v == "naive";
       }},
      {"nats-url", "URL", "NATS server [$WALLET_NATS_URL, else nats://127.0.0.1:54222]",
       [](options& o, std::string_view v) { return !(o.nats.url = v).empty(); }},
      {"prefix", "P", "walletd's subject prefix (nats.subject_prefix) [wallet]",
       [](options& o, std::string_view v) { return !(o.nats.prefix = v).empty(); }},
      {"nats-creds", "FILE", "NATS credentials file [none]",
       [](options& o, std::string_view v) { return !(o.nats.credentials_file = v).empty(); }},
      {"http-url", "URL", "walletd's HTTP API [http://127.0.0.1:8080]", text(&options::http_url)},
      {"token-file", "FILE", "bearer token for HTTP [$WALLET_LOADTEST_TOKEN, else none]",
       text(&options::token_file)},
      {"http-connections", "N", "HTTP keep-alive connections [64]",
       [](options& o, std::string_view v) {
         return to_integer<std::size_t>(v, o.http_connections, 1);
       }},
      {"pg-url", "URL", "walletd's database, read to verify [$WALLET_PG_URL]",
       text(&options::pg_url)},
      {"baseline", "", "also run the same workload against the naive baseline; print the ratio",
       flag(&options::baseline)},
      {"naive-url", "URL", "the baseline's database [--pg-url's server, database wallet_naive]",
       text(&options::naive_url)},
      {"naive-connections", "N", "the baseline's connections [32]",
       [](options& o, std::string_view v) {
         return to_integer<std::size_t>(v, o.naive_connections, 1);
       }},
      {"wallets", "N", "wallets of the run, <wallet-prefix>1..N [10000]",
       [](options& o, std::string_view v) {
         return to_integer<std::uint32_t>(v, o.work.wallets, 2);
       }},
      {"wallet-prefix", "P", "wallet ids start with it [lt-]", text(&options::wallet_prefix)},
      {"pick", "HOW", "wallet choice: uniform | zipf:S | hot:K:SHARE [uniform]",
       [](options& o, std::string_view v) {
         const auto p = parse_pick(v);
         if (p) o.work.pick = *p;
         return p.has_value();
       }},
      {"mix", "LIST", "weights, e.g. deposit=40,withdraw=20,transfer=30,hold=10 [transfer]",
       [](options& o, std::string_view v) {
         const auto m = parse_mix(v);
         if (m) o.work.weights = *m;
         return m.has_value();
       }},
      {"duplicates", "SHARE", "share of jobs whose command is sent twice, same key [0.01]",
       [](options& o, std::string_view v) { return to_number(v, o.work.duplicate_share, 0, 1); }},
      {"invalid", "SHARE", "share of jobs that are an invalid command [0.01]",
       [](options& o, std::string_view v) { return to_number(v, o.work.invalid_share, 0, 1); }},
      {"amount-max", "N", "amounts are 1..N minor units (EUR cents) [100]",
       [](options& o, std::string_view v) {
         return to_integer<std::int64_t>(v, o.work.amount_max, 2);
       }},
      {"funding", "N", "minor units deposited into each wallet at set-up [10000000]",
       [](options& o, std::string_view v) {
         return to_integer<std::int64_t>(v, o.work.funding, 1);
       }},
      {"model", "M", "closed | open [closed]",
       [](options& o, std::string_view v) {
         o.load.how = v == "open" ? load_settings::model::open : load_settings::model::closed;
         return v == "open" || v == "closed";
       }},
      {"concurrency", "N", "closed loop: jobs outstanding [256]",
       [](options& o, std::string_view v) {
         return to_integer<std::size_t>(v, o.load.concurrency, 1) && o.load.concurrency < 1 << 23;
       }},
      {"rate", "R", "open loop: jobs started per second [1000]",
       [](options& o, std::string_view v) { return to_number(v, o.load.rate, 1e-3, 1e7); }},
      {"outstanding-max", "N", "open loop: jobs in flight at most [100000]",
       [](options& o, std::string_view v) {
         return to_integer<std::size_t>(v, o.load.outstanding_max, 1) &&
                o.load.outstanding_max < 1 << 23;
       }},
      {"duration", "S", "seconds measured after the warm-up (0: bounded by --count) [30]",
       [](options& o, std::string_view v) { return to_number(v, o.load.duration_s, 0, 1e7); }},
      {"count", "N", "jobs in all, warm-up included (0: bounded by --duration) [0]",
       [](options& o, std::string_view v) { return to_integer<std::uint64_t>(v, o.load.jobs, 0); }},
      {"warmup", "S", "seconds run first and not measured [5]",
       [](options& o, std::string_view v) { return to_number(v, o.load.warmup_s, 0, 1e6); }},
      {"skip-setup", "", "the wallets exist and are funded already", flag(&options::skip_setup)},
      {"setup-concurrency", "N", "wallets set up at a time [1024]",
       [](options& o, std::string_view v) {
         return to_integer<std::size_t>(v, o.setup_concurrency, 1) && o.setup_concurrency < 1 << 23;
       }},
      {"answer-timeout", "S", "a command unanswered this long has failed [60]",
       [](options& o, std::string_view v) {
         return to_number(v, o.load.answer_timeout_s, 1, 1e6);
       }},
      {"settle-timeout", "S", "longest wait for credits and events after the run [120]",
       [](options& o, std::string_view v) { return to_number(v, o.settle_timeout_s, 0, 1e6); }},
      {"service-pid", "PID",
       "walletd's process: its RSS and CPU time are sampled into the report [none]",
       [](options& o, std::string_view v) { return to_integer<int>(v, o.service_pid, 1); }},
      {"reconcile", "PATH", "wallet-reconcile [next to this program, else on PATH]",
       text(&options::reconcile)},
      {"no-reconcile", "", "skip wallet-reconcile (the check reports skipped)",
       flag(&options::no_reconcile)},
      {"no-verify", "", "do not verify (exit 0 after any run that finished)",
       flag(&options::no_verify)},
      {"before-verify", "CMD", "run CMD (sh -c) after the load, before verifying: fault injection",
       text(&options::before_verify)},
      {"out", "DIR", "write report.json, report.md and report.svg there [none]",
       text(&options::out_dir)},
      {"title", "TEXT", "the report's title [from the settings]", text(&options::title)},
      {"seed", "N", "the workload's random seed [20261130]",
       [](options& o, std::string_view v) { return to_integer<std::uint64_t>(v, o.work.seed, 0); }},
      {"progress", "WHEN", "live line on stderr: auto (a terminal) | on | off [auto]",
       [](options& o, std::string_view v) {
         if (v == "on" || v == "off") o.load.progress = v == "on";
         return v == "on" || v == "off" || v == "auto";
       }},
      {"delete-streams", "LIST", "only delete these JetStream streams and exit",
       text(&options::delete_streams)},
  };
  return table;
}

void usage() {
  std::fputs(intro, stdout);
  for (const option_spec& s : specs()) {
    std::string left = std::string("  --") + s.name + (*s.value != '\0' ? " " : "") + s.value;
    std::printf("%-26s %s\n", left.c_str(), s.help);
  }
  std::printf("%-26s %s\n", "  --help", "this text");
}

bool validate(options& o) {
  const auto fail = [](const char* why) {
    std::fprintf(stderr, "wallet-loadtest: %s (see --help)\n", why);
    return false;
  };
  if (o.work.pick.how == pick_settings::kind::hot && o.work.pick.hot_k >= o.work.wallets) {
    return fail("the hot set must be smaller than --wallets");
  }
  if (o.load.duration_s == 0 && o.load.jobs == 0) return fail("--duration 0 needs --count");
  if (o.pg_url.empty() && !o.no_verify && o.transport != "naive") {
    return fail("the verify phase reads walletd's database: pass --pg-url (or --no-verify)");
  }
  if (o.baseline && o.transport == "naive") return fail("--baseline compares with naive already");
  return true;
}

// A setting as people write it: 0.01, 30, 1000.
std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

}  // namespace

std::optional<options> parse_options(int argc, char** argv, int& exit_code) {
  options o;
  o.work.duplicate_share = 0.01;
  o.work.invalid_share = 0.01;
  o.load.duration_s = 30;
  o.load.warmup_s = 5;
  if (const char* url = std::getenv("WALLET_NATS_URL")) o.nats.url = url;
  if (const char* url = std::getenv("WALLET_PG_URL")) o.pg_url = url;
  o.load.progress = isatty(2) != 0;
  exit_code = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage();
      exit_code = 0;
      return std::nullopt;
    }
    std::string_view value;
    const auto eq = arg.find('=');
    const std::string_view name =
        arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2);
    const auto spec = std::find_if(specs().begin(), specs().end(),
                                   [&](const option_spec& s) { return name == s.name; });
    if (!arg.starts_with("--") || spec == specs().end()) {
      std::fprintf(stderr, "wallet-loadtest: unknown argument '%s' (see --help)\n", argv[i]);
      return std::nullopt;
    }
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (*spec->value != '\0' && i + 1 < argc) {
      value = argv[++i];
    }
    if (!spec->set(o, value)) {
      std::fprintf(stderr, "wallet-loadtest: bad value '%.*s' for --%s (see --help)\n",
                   static_cast<int>(value.size()), value.data(), spec->name);
      return std::nullopt;
    }
  }
  if (!validate(o)) return std::nullopt;
  exit_code = 0;
  return o;
}

std::vector<std::pair<std::string, std::string>> describe(const options& o) {
  const bool open = o.load.how == load_settings::model::open;
  std::vector<std::pair<std::string, std::string>> s{
      {"transport", o.transport},
      {"wallets", std::to_string(o.work.wallets)},
      {"wallet choice", to_string(o.work.pick)},
      {"mix", to_string(o.work.weights)},
      {"duplicates", number(o.work.duplicate_share)},
      {"invalid", number(o.work.invalid_share)},
      {"amounts", "1.." + std::to_string(o.work.amount_max) + " minor units"},
      {"load model", open ? "open loop, " + number(o.load.rate) + " jobs/s"
                          : "closed loop, " + std::to_string(o.load.concurrency) + " outstanding"},
      {"bound", o.load.duration_s > 0 ? number(o.load.duration_s) + " s"
                                      : std::to_string(o.load.jobs) + " jobs"},
      {"warm-up", number(o.load.warmup_s) + " s"},
      {"set-up", o.skip_setup ? "skipped" : std::to_string(o.setup_concurrency) + " at a time"},
      {"seed", std::to_string(o.work.seed)},
  };
  if (o.transport == "nats") s.emplace_back("NATS", o.nats.url + ", prefix " + o.nats.prefix);
  if (o.transport == "http") s.emplace_back("HTTP", o.http_url);
  if (o.baseline || o.transport == "naive") {
    s.emplace_back("naive baseline", std::to_string(o.naive_connections) + " connections");
  }
  return s;
}

}  // namespace wallet::loadtest
