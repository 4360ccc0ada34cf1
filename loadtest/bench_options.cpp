// Parsing runtime_bench's command line (--name value or --name=value).
#include "bench_options.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>

namespace wallet::loadtest {
namespace {

constexpr const char* usage_text =
    R"(runtime_bench: the actor runtime over PostgreSQL, in process (no NATS, no HTTP).

Creates a fresh database, opens and funds the wallets through the runtime, then runs transfer
scenarios: closed loops (a fixed number of transfers outstanding) and an open loop (transfers sent
at a fixed rate, latency measured from the intended send time). Prints a summary and optionally
writes it as JSON. See loadtest/README.md.

Options (defaults in brackets):
  --pg-url URL          PostgreSQL server [$WALLET_PG_URL]
  --database NAME       database to drop and create on that server [wallet_bench]
  --wallets N           wallets opened and funded [100000]
  --hot-wallets N       hot wallets of the hot scenario (ids w1..wN) [10]
  --transfers N         transfers per closed-loop scenario [200000]
  --concurrency N       transfers outstanding in a closed loop [8192]
  --shards N            runtime shards (store actors, connections) [4]
  --batch N             store batch_size_max [512]
  --flush-us N          store flush_interval in microseconds [1000]
  --wallet-inflight N   runtime wallet_inflight_max [1024]
  --commits-in-flight N store commits_in_flight_max: batches of a shard committing at once [1]
  --threads N           CAF scheduler.max-threads [2]
  --policy P            CAF scheduler.policy: stealing | sharing [sharing]
  --scenario LIST       comma-separated: uniform, hot, open, or all [all]
  --rate N              open-loop transfers/s [half the uniform peak; needs uniform first]
  --open-seconds S      open-loop duration [15]
  --seed N              random seed of the workloads [20261130]
  --no-analyze          skip ANALYZE after the set-up
  --no-checkpoint       skip CHECKPOINT before each timed phase
  --json PATH           write the results there as JSON
  --help                this text
)";

bool parse_size(std::string_view text, std::size_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool parse_double(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0' && out >= 0;
}

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

using setter = std::function<bool(bench_options&, const std::string&)>;

setter size_of(std::size_t bench_options::*field) {
  return [field](bench_options& o, const std::string& v) { return parse_size(v, o.*field); };
}

const std::map<std::string, setter, std::less<>>& setters() {
  static const std::map<std::string, setter, std::less<>> table{
      {"pg-url", [](bench_options& o, const std::string& v) { return !(o.pg_url = v).empty(); }},
      {"database",
       [](bench_options& o, const std::string& v) { return !(o.database = v).empty(); }},
      {"wallets", size_of(&bench_options::wallets)},
      {"hot-wallets", size_of(&bench_options::hot_wallets)},
      {"transfers", size_of(&bench_options::transfers)},
      {"concurrency", size_of(&bench_options::concurrency)},
      {"batch", size_of(&bench_options::batch)},
      {"flush-us", size_of(&bench_options::flush_us)},
      {"wallet-inflight", size_of(&bench_options::wallet_inflight)},
      {"commits-in-flight", size_of(&bench_options::commits_in_flight)},
      {"threads", size_of(&bench_options::threads)},
      {"shards",
       [](bench_options& o, const std::string& v) {
         std::size_t n = 0;
         if (!parse_size(v, n) || n == 0 || n > 1024) return false;
         o.shards = static_cast<std::uint32_t>(n);
         return true;
       }},
      {"policy",
       [](bench_options& o, const std::string& v) {
         o.policy = v;
         return v == "stealing" || v == "sharing";
       }},
      {"scenario",
       [](bench_options& o, const std::string& v) {
         o.scenarios = v == "all" ? std::vector<std::string>{"uniform", "hot", "open"} : split(v);
         for (const auto& s : o.scenarios) {
           if (s != "uniform" && s != "hot" && s != "open") return false;
         }
         return !o.scenarios.empty();
       }},
      {"rate", [](bench_options& o, const std::string& v) { return parse_double(v, o.rate); }},
      {"open-seconds",
       [](bench_options& o, const std::string& v) {
         return parse_double(v, o.open_seconds) && o.open_seconds > 0;
       }},
      {"seed",
       [](bench_options& o, const std::string& v) {
         std::size_t n = 0;
         const bool ok = parse_size(v, n);
         o.seed = n;
         return ok;
       }},
      {"json", [](bench_options& o, const std::string& v) { return !(o.json = v).empty(); }},
  };
  return table;
}

bool validate(const bench_options& o) {
  const auto fail = [](const char* why) {
    std::fprintf(stderr, "runtime_bench: %s (see --help)\n", why);
    return false;
  };
  if (o.pg_url.empty()) return fail("no server: pass --pg-url or set WALLET_PG_URL");
  if (o.wallets < 2 || o.hot_wallets == 0 || o.hot_wallets >= o.wallets) {
    return fail("need at least 2 wallets and 1 <= hot wallets < wallets");
  }
  if (o.concurrency == 0 || o.batch == 0 || o.threads == 0 || o.wallet_inflight == 0 ||
      o.commits_in_flight == 0) {
    return fail(
        "concurrency, batch, threads, wallet-inflight and commits-in-flight must be positive");
  }
  return true;
}

}  // namespace

std::optional<bench_options> parse_options(int argc, char** argv, int& exit_code) {
  bench_options o;
  if (const char* url = std::getenv("WALLET_PG_URL")) o.pg_url = url;
  exit_code = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text, stdout);
      exit_code = 0;
      return std::nullopt;
    }
    if (arg == "--no-analyze" || arg == "--no-checkpoint") {
      (arg == "--no-analyze" ? o.analyze : o.checkpoint) = false;
      continue;
    }
    if (!arg.starts_with("--")) {
      std::fprintf(stderr, "runtime_bench: unexpected argument '%s' (see --help)\n", argv[i]);
      return std::nullopt;
    }
    arg.remove_prefix(2);
    std::string value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    const auto it = setters().find(arg);
    if (it == setters().end() || !it->second(o, value)) {
      std::fprintf(stderr, "runtime_bench: bad option --%.*s '%s' (see --help)\n",
                   static_cast<int>(arg.size()), arg.data(), value.c_str());
      return std::nullopt;
    }
  }
  if (!validate(o)) return std::nullopt;
  exit_code = 0;
  return o;
}

}  // namespace wallet::loadtest
