// The compliance files inside walletd (docs/compliance.md): the KYC policy and the feature flags
// loaded at start-up, installed into the runtime, and reloaded while it runs when a file changes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "wallet/actors/compliance.hpp"
#include "wallet/compliance/reloader.hpp"
#include "wallet/config/config.hpp"
#include "wallet/logging/log.hpp"
#include "wallet/metrics/metrics.hpp"

namespace wallet::app {

class compliance_host {
 public:
  compliance_host(const config::config& cfg, logging::logger log,
                  std::shared_ptr<metrics::registry> metrics);
  compliance_host(const compliance_host&) = delete;
  compliance_host& operator=(const compliance_host&) = delete;
  compliance_host(compliance_host&&) = delete;
  compliance_host& operator=(compliance_host&&) = delete;
  ~compliance_host();

  // Reads the configured files, or says loudly what the defaults are. False, with the reason
  // logged, when a configured file cannot be loaded: walletd must not serve with controls other
  // than the ones the operator configured. Called before the engine starts.
  bool load();
  // Hands the loaded values to `target` (the runtime's) and, from then on, polls the files every
  // compliance.reload_poll_ms until stop(): a changed file is reloaded into `target`, a bad one
  // refused (logged and counted) and the value before it kept. Called before commands flow.
  void start_watching(actors::compliance_controls& target);
  void stop();

 private:
  void poll_all();
  void report(const compliance::file_reloader& r, std::string_view file,
              const compliance::file_reloader::report& what);

  const config::config& cfg_;
  logging::logger log_;
  metrics::compliance_metrics metrics_;
  actors::compliance_controls loaded_;  // what load() read, before the runtime exists
  // Where reloads go: loaded_, then the runtime's (set before the watcher thread starts).
  actors::compliance_controls* target_ = &loaded_;
  std::optional<compliance::file_reloader> policy_;
  std::optional<compliance::file_reloader> flags_;
  std::thread watcher_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace wallet::app
