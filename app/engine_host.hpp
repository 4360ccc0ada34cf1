// Brings the engine up inside walletd: prepares the database (migrations, shard count,
// partitions), starts the actor runtime over one PostgreSQL store per shard, keeps partitions
// ahead while it runs, and stops it cleanly.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "remote_legs.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/config/config.hpp"
#include "wallet/logging/log.hpp"
#include "wallet/metrics/metrics.hpp"
#include "wallet/postgres/outbox.hpp"

namespace wallet::app {

// Months of event partitions kept created ahead of the current one.
inline constexpr int partition_months_ahead = 3;
// How often the maintenance thread re-checks partitions and reconciles the database.
inline constexpr std::chrono::hours maintenance_interval{1};

class engine_host {
 public:
  // The runtime reports to the log and to `metrics`.
  engine_host(const config::config& cfg, logging::logger log,
              std::shared_ptr<metrics::registry> metrics);
  engine_host(const engine_host&) = delete;
  engine_host& operator=(const engine_host&) = delete;
  engine_host(engine_host&&) = delete;
  engine_host& operator=(engine_host&&) = delete;
  ~engine_host();

  // Prepares the database and starts the runtime. On failure, logs why and returns false.
  bool start();
  // Stops taking commands, drains what is in flight (up to the grace period) and stops the
  // actors. Returns whether everything in flight was answered.
  bool stop();

  [[nodiscard]] actors::runtime* runtime() { return runtime_.get(); }
  // Where the runtime sends legs for wallets of other instances (instance.count > 1).
  [[nodiscard]] remote_legs& remote() noexcept { return *remote_; }
  // Where the stores wake this process's outbox publisher after a commit (ADR 0014).
  [[nodiscard]] std::shared_ptr<postgres::outbox_wakeups> outbox_wakeups() const noexcept {
    return outbox_wakeups_;
  }
  // The PostgreSQL connection string (holds the password: never log it), once started.
  [[nodiscard]] const std::string& conninfo() const noexcept { return conninfo_; }
  // Why the runtime cannot go on, if it cannot.
  [[nodiscard]] std::optional<std::string> failure() const {
    return runtime_ ? runtime_->failure() : std::nullopt;
  }

 private:
  bool prepare_database();
  void maintain();
  void maintain_once();

  const config::config& cfg_;
  logging::logger log_;
  std::shared_ptr<metrics::registry> metrics_;
  std::string conninfo_;
  actors::runtime_settings settings_;
  caf::actor_system_config caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<remote_legs> remote_ = std::make_shared<remote_legs>();
  std::shared_ptr<postgres::outbox_wakeups> outbox_wakeups_ =
      std::make_shared<postgres::outbox_wakeups>();
  std::unique_ptr<actors::runtime> runtime_;
  std::thread maintenance_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace wallet::app
