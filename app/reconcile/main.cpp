// wallet-reconcile: checks once that the stored state matches the event log and that money is
// conserved (DESIGN.md §4), prints a readable report and one JSON line, and exits with the outcome.
// It reads walletd's configuration (file < WALLETD_* environment < flags) for the database.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <pqxx/pqxx>

#include "wallet/config/describe.hpp"
#include "wallet/config/load.hpp"
#include "wallet/postgres/conninfo.hpp"
#include "wallet/postgres/reconcile.hpp"

// POSIX declares it in no header; the C runtime owns it (hence not const).
// NOLINTNEXTLINE(readability-redundant-declaration,cppcoreguidelines-avoid-non-const-global-variables)
extern char** environ;

namespace {

namespace config = wallet::config;
namespace postgres = wallet::postgres;
namespace json = boost::json;

constexpr int exit_clean = 0;
constexpr int exit_mismatches = 1;
constexpr int exit_invalid_configuration = 2;
constexpr int exit_unreachable = 3;
constexpr int exit_check_failed = 4;

constexpr const char* usage =
    "Usage: wallet-reconcile [walletd's flags]\n"
    "\n"
    "Checks once, in one consistent snapshot of the database walletd is configured with, that\n"
    "every wallet's stored balance, held amount, status and version equal the fold of its events,\n"
    "that open holds and transfer records match the events, and that per currency the balances\n"
    "plus the money in flight equal deposits minus withdrawals minus captured holds. Prints a\n"
    "readable report and, last, one JSON line {\"reconcile\": {...}} on stdout.\n"
    "\n"
    "Exit status: 0 clean, 1 mismatches found, 2 invalid configuration or command line,\n"
    "3 database unreachable, 4 the check could not run (e.g. the schema is not migrated).\n"
    "\n"
    "It takes walletd's configuration; only postgres.url, postgres.password_file and\n"
    "postgres.sslmode are used. walletd's settings follow.\n\n";

int report_errors(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) std::fprintf(stderr, "wallet-reconcile: %s\n", e.c_str());
  std::fprintf(stderr, "wallet-reconcile: invalid configuration (%zu problem%s); see --help\n",
               errors.size(), errors.size() == 1 ? "" : "s");
  return exit_invalid_configuration;
}

// The one JSON line, last on stdout.
void print_json_line(json::object body) {
  json::object line;
  line["reconcile"] = std::move(body);
  std::printf("%s\n", json::serialize(line).c_str());
}

// A failure to connect or to run: a message on stderr and the JSON line, then its exit code.
int fail(int code, const std::string& error, const std::string& detail) {
  std::fprintf(stderr, "wallet-reconcile: %s: %s\n", error.c_str(), detail.c_str());
  print_json_line({{"clean", false}, {"error", error}, {"detail", detail}});
  return code;
}

// ---- the readable report ---------------------------------------------------------------------

void print_wallets(const postgres::reconcile_report& r) {
  std::printf("wallets: %zu mismatch%s in %zu wallet%s\n", r.wallet_mismatches_total,
              r.wallet_mismatches_total == 1 ? "" : "es", r.wallets_mismatched,
              r.wallets_mismatched == 1 ? "" : "s");
  for (const auto& m : r.wallet_mismatches) {
    std::printf(
        "  wallet %s: %s stored %lld, folded from events %lld (stored - folded = %lld)%s%s\n",
        m.wallet_id.c_str(), m.what.c_str(), static_cast<long long>(m.stored),
        static_cast<long long>(m.folded), static_cast<long long>(m.stored - m.folded),
        m.detail.empty() ? "" : "; ", m.detail.c_str());
  }
  if (r.wallet_mismatches.size() < r.wallet_mismatches_total) {
    std::printf("  ... %zu more not listed\n",
                r.wallet_mismatches_total - r.wallet_mismatches.size());
  }
}

void print_transfers(const postgres::reconcile_report& r) {
  std::printf("transfers: %zu mismatch%s\n", r.transfer_mismatches_total,
              r.transfer_mismatches_total == 1 ? "" : "es");
  for (const auto& m : r.transfer_mismatches) {
    std::printf("  transfer %s/%s (%s): %s expected %lld, found %lld%s%s\n", m.source.c_str(),
                m.transfer_id.c_str(), m.status.empty() ? "no record" : m.status.c_str(),
                m.what.c_str(), static_cast<long long>(m.expected), static_cast<long long>(m.found),
                m.detail.empty() ? "" : "; ", m.detail.c_str());
  }
  if (r.transfer_mismatches.size() < r.transfer_mismatches_total) {
    std::printf("  ... %zu more not listed\n",
                r.transfer_mismatches_total - r.transfer_mismatches.size());
  }
}

void print_currencies(const postgres::reconcile_report& r) {
  if (!r.currencies_checked) {
    std::printf("currencies: not checked (a shard filter was given)\n");
    return;
  }
  for (const auto& c : r.currencies) {
    std::printf(
        "currency %s: %s\n"
        "  balances %lld + in flight %lld vs deposits %lld - withdrawals %lld - captured %lld: "
        "difference %lld\n"
        "  debited %lld vs credited %lld + reversed %lld + in flight %lld: difference %lld\n",
        c.currency.c_str(), c.balanced() ? "balanced" : "NOT BALANCED",
        static_cast<long long>(c.balances), static_cast<long long>(c.in_flight),
        static_cast<long long>(c.deposits), static_cast<long long>(c.withdrawals),
        static_cast<long long>(c.captured), static_cast<long long>(c.difference),
        static_cast<long long>(c.debited), static_cast<long long>(c.credited),
        static_cast<long long>(c.reversed), static_cast<long long>(c.in_flight),
        static_cast<long long>(c.transfer_difference));
  }
}

// ---- the JSON report ---------------------------------------------------------------------------

json::array wallets_json(const postgres::reconcile_report& r) {
  json::array out;
  for (const auto& m : r.wallet_mismatches) {
    out.push_back(json::object{{"wallet_id", m.wallet_id},
                               {"what", m.what},
                               {"stored", m.stored},
                               {"folded", m.folded},
                               {"detail", m.detail}});
  }
  return out;
}

json::array transfers_json(const postgres::reconcile_report& r) {
  json::array out;
  for (const auto& m : r.transfer_mismatches) {
    out.push_back(json::object{{"source", m.source},
                               {"transfer_id", m.transfer_id},
                               {"status", m.status},
                               {"what", m.what},
                               {"expected", m.expected},
                               {"found", m.found},
                               {"detail", m.detail}});
  }
  return out;
}

json::array currencies_json(const postgres::reconcile_report& r) {
  json::array out;
  for (const auto& c : r.currencies) {
    out.push_back(json::object{{"currency", c.currency},
                               {"balances", c.balances},
                               {"in_flight", c.in_flight},
                               {"deposits", c.deposits},
                               {"withdrawals", c.withdrawals},
                               {"captured", c.captured},
                               {"debited", c.debited},
                               {"credited", c.credited},
                               {"reversed", c.reversed},
                               {"difference", c.difference},
                               {"transfer_difference", c.transfer_difference},
                               {"balanced", c.balanced()}});
  }
  return out;
}

json::object report_json(const postgres::reconcile_report& r, std::int64_t elapsed_ms) {
  return json::object{{"clean", r.clean()},
                      {"elapsed_ms", elapsed_ms},
                      {"wallets_checked", r.wallets_checked},
                      {"events_checked", r.events_checked},
                      {"transfers_checked", r.transfers_checked},
                      {"wallets_mismatched", r.wallets_mismatched},
                      {"wallet_mismatches_total", r.wallet_mismatches_total},
                      {"wallet_mismatches", wallets_json(r)},
                      {"transfer_mismatches_total", r.transfer_mismatches_total},
                      {"transfer_mismatches", transfers_json(r)},
                      {"currencies_checked", r.currencies_checked},
                      {"currencies", currencies_json(r)}};
}

// ---- running -----------------------------------------------------------------------------------

int reconcile(const config::config& cfg) {
  postgres::connection_options options;
  options.url = cfg.text("postgres.url");
  options.password_file = cfg.text("postgres.password_file");
  options.sslmode = cfg.text("postgres.sslmode");
  options.application_name = "wallet-reconcile";
  auto conninfo = postgres::make_conninfo(options);
  if (!conninfo.ok()) {
    return report_errors({"postgres: " + conninfo.error().detail});
  }
  const std::string password = postgres::conninfo_password(conninfo.value());
  const auto start = std::chrono::steady_clock::now();
  std::optional<pqxx::connection> conn;
  try {
    conn.emplace(conninfo.value());
  } catch (const std::exception& e) {
    return fail(exit_unreachable, "unavailable", postgres::scrub_secret(e.what(), password));
  }
  const auto result = postgres::reconcile(*conn, postgres::reconcile_options{});
  if (!result.ok()) {
    const auto& e = result.error();
    return fail(e.code == postgres::errc::unavailable ? exit_unreachable : exit_check_failed,
                std::string(postgres::to_string(e.code)),
                postgres::scrub_secret(e.detail, password));
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  const postgres::reconcile_report& r = result.value();
  std::printf("wallet-reconcile: %zu wallets, %zu events, %zu transfers checked in %lld ms\n",
              r.wallets_checked, r.events_checked, r.transfers_checked,
              static_cast<long long>(elapsed.count()));
  print_wallets(r);
  print_transfers(r);
  print_currencies(r);
  std::printf("result: %s\n", r.clean() ? "clean" : "MISMATCHES FOUND");
  print_json_line(report_json(r, elapsed.count()));
  return r.clean() ? exit_clean : exit_mismatches;
}

int main_checked(int argc, char** argv) {
  config::inputs in;
  for (int i = 1; i < argc; ++i) in.args.emplace_back(argv[i]);
  in.env = config::environment_from(environ);
  const config::loaded loaded = config::load(in);

  switch (loaded.what) {
    case config::action::help:
      std::fputs(usage, stdout);
      std::fputs(config::help_text().c_str(), stdout);
      return exit_clean;
    case config::action::version:
      std::printf("wallet-reconcile %s\n", WALLET_RECONCILE_VERSION);
      return exit_clean;
    case config::action::print_config:
      if (!loaded.ok()) return report_errors(loaded.errors);
      std::fputs(config::to_json(loaded.values, true).c_str(), stdout);
      return exit_clean;
    case config::action::run:
      if (!loaded.ok()) return report_errors(loaded.errors);
      return reconcile(loaded.values);
  }
  return exit_check_failed;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_checked(argc, argv);
  } catch (const std::exception& e) {
    // Messages of the code above never hold the password; a stray one is not printed whole.
    std::fprintf(stderr, "wallet-reconcile: internal failure: %s\n",
                 postgres::redact_conninfo(e.what()).c_str());
    return exit_check_failed;
  }
}
