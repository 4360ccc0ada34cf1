// walletd's entry point: loads the configuration, logs, and runs until SIGINT or SIGTERM.
// Exit status: 0 success, 1 internal failure, 2 invalid configuration or command line.
#include <pthread.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigwait, pthread_sigmask
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "compliance_host.hpp"
#include "engine_host.hpp"
#include "http_host.hpp"
#include "nats_host.hpp"
#include "screening_host.hpp"
#include "wallet/app/version.hpp"
#include "wallet/config/describe.hpp"
#include "wallet/config/load.hpp"
#include "wallet/logging/log.hpp"
#include "wallet/metrics/metrics.hpp"

// POSIX declares it in no header; the C runtime owns it (hence not const).
// NOLINTNEXTLINE(readability-redundant-declaration,cppcoreguidelines-avoid-non-const-global-variables)
extern char** environ;

namespace {

namespace config = wallet::config;
namespace logging = wallet::logging;

constexpr int exit_success = 0;
constexpr int exit_failure = 1;
constexpr int exit_invalid_configuration = 2;

int report_errors(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) std::fprintf(stderr, "walletd: %s\n", e.c_str());
  std::fprintf(stderr, "walletd: invalid configuration (%zu problem%s); see walletd --help\n",
               errors.size(), errors.size() == 1 ? "" : "s");
  return exit_invalid_configuration;
}

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Blocks until one of `set` is pending and returns it, 0 if waiting failed, or -1 once
// `failed()` holds (checked every second). No handler is installed, so nothing runs in signal
// context.
template <class Failed>
int wait_for(const sigset_t& set, Failed failed) {
  const timespec tick{1, 0};
  for (;;) {
    const int signal_number = sigtimedwait(&set, nullptr, &tick);
    if (signal_number > 0) {
      return signal_number;
    }
    if (errno != EAGAIN && errno != EINTR) {
      return 0;
    }
    if (failed()) {
      return -1;
    }
  }
}

// Writes every line logged so far when it goes out of scope: a copy of the logger held elsewhere
// would otherwise keep the last lines buffered past main.
class flush_on_return {
 public:
  explicit flush_on_return(const logging::logger& log) : log_(log) {}
  flush_on_return(const flush_on_return&) = delete;
  flush_on_return& operator=(const flush_on_return&) = delete;
  flush_on_return(flush_on_return&&) = delete;
  flush_on_return& operator=(flush_on_return&&) = delete;
  ~flush_on_return() { log_.flush(); }

 private:
  const logging::logger& log_;
};

int run(const config::loaded& loaded) {
  // Blocked before any thread exists, so every thread inherits the mask and only sigwait below
  // receives these signals.
  const sigset_t signals = termination_signals();
  if (const int rc = pthread_sigmask(SIG_BLOCK, &signals, nullptr); rc != 0) {
    std::fprintf(stderr, "walletd: cannot block SIGINT and SIGTERM: error %d\n", rc);
    return exit_failure;
  }
  const auto min_level = logging::parse_level(loaded.values.text("log.level"));
  if (!min_level) {  // the schema's words and the logger's levels disagree: a build defect
    std::fprintf(stderr, "walletd: log.level %s has no logger level\n",
                 loaded.values.text("log.level").c_str());
    return exit_failure;
  }
  // Lines are written in batches by a writer thread (one write per flush interval, not per line);
  // the logger, and so the writer, lives until run() returns, and writes every line before that.
  logging::line_writer_settings output;
  output.flush_interval = std::chrono::milliseconds{loaded.values.integer("log.flush_interval_ms")};
  output.buffer_bytes_max = static_cast<std::size_t>(loaded.values.integer("log.buffer_bytes_max"));
  const logging::logger log("walletd", *min_level, output);
  // Whichever way run() returns, the lines logged so far are written before it does.
  const flush_on_return flush_guard{log};
  log.info("walletd starting",
           {{"version", wallet::app::version},
            {"pid", getpid()},
            {"config_file", loaded.file},
            {"config", logging::raw_json{config::to_json(loaded.values, false)}}});
  // Metrics first: a port already taken is a configuration mistake, found before the database is
  // touched, and nothing runs unobserved.
  auto metrics = std::make_shared<wallet::metrics::registry>();
  const std::string metrics_address = loaded.values.text("http.listen_address");
  const auto metrics_port = static_cast<std::uint16_t>(loaded.values.integer("metrics.port"));
  auto exposer = wallet::metrics::exposer::start(metrics, metrics_address, metrics_port);
  if (!exposer.ok()) {
    log.error("walletd cannot serve metrics (is metrics.port taken?); exiting",
              {{"error", exposer.error().message}, {"exit_code", exit_failure}});
    logging::shutdown();
    return exit_failure;
  }
  log.info("metrics served",
           {{"address", metrics_address}, {"port", exposer.value()->port()}, {"path", "/metrics"}});
  // The KYC policy and the feature flags, before the database is touched: a bad file is a
  // configuration mistake.
  wallet::app::compliance_host compliance{loaded.values, log, metrics};
  if (!compliance.load()) {
    log.error("walletd cannot start: a compliance file could not be loaded",
              {{"exit_code", exit_invalid_configuration}});
    logging::shutdown();
    return exit_invalid_configuration;
  }
  wallet::app::screening_host screening{loaded.values, log, metrics};
  if (!screening.load()) {
    log.error("walletd cannot start: the AML settings are invalid",
              {{"exit_code", exit_invalid_configuration}});
    logging::shutdown();
    return exit_invalid_configuration;
  }
  wallet::app::engine_host engine{loaded.values, log, metrics};
  if (!engine.start()) {
    log.error("walletd cannot start", {{"exit_code", exit_failure}});
    logging::shutdown();
    return exit_failure;
  }
  // Installed before any command can arrive; reloads go to the runtime from here on, and each one
  // is recorded in the audit trail.
  screening.install(engine.runtime()->compliance());
  compliance.start_watching(engine.runtime()->compliance(), engine.conninfo());
  // The runtime answers through the NATS connection: the engine stops (and drains) first.
  wallet::app::nats_host nats{loaded.values,          log,     *engine.runtime(),
                              engine.conninfo(),      metrics, &engine.remote(),
                              engine.outbox_wakeups()};
  // HTTP answers come from the runtime too: its listener closes first, its connections after the
  // engine has answered what it took.
  wallet::app::http_host http{loaded.values,     log,     *engine.runtime(),
                              engine.conninfo(), metrics, [&nats] { return nats.serving(); }};
  const auto stop_all = [&] {
    http.stop_accepting();
    nats.stop_intake();
    const bool drained = engine.stop();
    http.stop(std::chrono::seconds{2});
    nats.stop(std::chrono::seconds{2});
    return drained;
  };
  if (!http.start() || !nats.start()) {
    log.error("walletd cannot start", {{"exit_code", exit_failure}});
    stop_all();
    logging::shutdown();
    return exit_failure;
  }

  const int signal_number = wait_for(signals, [&] { return engine.failure().has_value(); });
  if (signal_number < 0) {
    log.error("engine runtime failed; exiting for a restart",
              {{"reason", engine.failure().value_or("")}, {"exit_code", exit_failure}});
    stop_all();
    logging::shutdown();
    return exit_failure;
  }
  if (signal_number == 0) {
    log.error("walletd cannot wait for SIGINT or SIGTERM; exiting");
    stop_all();
    logging::shutdown();
    return exit_failure;
  }
  log.info("walletd stopping", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  const bool drained = stop_all();
  log.info("walletd stopped", {{"exit_code", exit_success}, {"drained", drained}});
  logging::shutdown();
  return exit_success;
}

int main_checked(int argc, char** argv) {
  config::inputs in;
  for (int i = 1; i < argc; ++i) in.args.emplace_back(argv[i]);
  in.env = config::environment_from(environ);
  const config::loaded loaded = config::load(in);

  switch (loaded.what) {
    case config::action::help:
      std::fputs(config::help_text().c_str(), stdout);
      return exit_success;
    case config::action::version:
      std::printf("walletd %.*s\n", static_cast<int>(wallet::app::version.size()),
                  wallet::app::version.data());
      return exit_success;
    case config::action::print_config:
      if (!loaded.ok()) return report_errors(loaded.errors);
      std::fputs(config::to_json(loaded.values, true).c_str(), stdout);
      return exit_success;
    case config::action::run:
      if (!loaded.ok()) return report_errors(loaded.errors);
      return run(loaded);
  }
  return exit_failure;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_checked(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "walletd: internal failure: %s\n", e.what());
    return exit_failure;
  }
}
