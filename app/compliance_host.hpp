// The compliance files inside walletd (docs/compliance.md): the KYC policy and the feature flags
// loaded at start-up, installed into the runtime, and reloaded while it runs when a file changes.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "wallet/actors/audit.hpp"
#include "wallet/actors/compliance.hpp"
#include "wallet/compliance/reloader.hpp"
#include "wallet/config/config.hpp"
#include "wallet/logging/log.hpp"
#include "wallet/metrics/metrics.hpp"

namespace wallet::app {

// Audit records of file loads that wait for the database; past it the oldest is dropped (logged).
inline constexpr std::size_t audit_pending_max = 64;

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
  // With `audit_conninfo` (the database's; it holds the password), the files in force at the
  // start and every reload are recorded in the audit trail (docs/compliance.md): principal
  // system:start-up or system:file-reload, the file's SHA-256 before and after.
  void start_watching(actors::compliance_controls& target, std::string audit_conninfo = {});
  void stop();

 private:
  void poll_all();
  void report(const compliance::file_reloader& r, std::string_view file,
              const compliance::file_reloader::report& what);
  // A file of `kind` (0 policy, 1 flags) was loaded with this text: remembers its digest and,
  // once watching, queues the reload's audit record.
  void loaded_text(std::size_t kind, std::string_view text);
  // Writes the queued audit records, oldest first; on a failure keeps them for the next poll.
  void write_audit();

  const config::config& cfg_;
  logging::logger log_;
  metrics::compliance_metrics metrics_;
  actors::compliance_controls loaded_;  // what load() read, before the runtime exists
  // Where reloads go: loaded_, then the runtime's (set before the watcher thread starts).
  actors::compliance_controls* target_ = &loaded_;
  std::optional<compliance::file_reloader> policy_;
  std::optional<compliance::file_reloader> flags_;
  // The SHA-256 of the text in force, per kind (policy, flags); audit records waiting to be
  // written (at most audit_pending_max) and the connection that writes them (watcher thread only).
  std::array<std::string, 2> digests_;
  std::deque<actors::audit_entry> audit_pending_;
  std::string audit_conninfo_;
  struct audit_connection;  // a libpqxx connection, opened on first use
  std::unique_ptr<audit_connection> audit_db_;
  bool watching_ = false;
  std::thread watcher_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace wallet::app
