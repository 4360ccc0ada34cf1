// Brings the NATS interface up inside walletd: connects (retrying in the background while the
// server is away), creates the streams, consumes commands into the runtime and publishes committed
// events from the outbox. Failures are logged; readiness tells whether it is serving.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "remote_legs.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/config/config.hpp"
#include "wallet/logging/log.hpp"
#include "wallet/metrics/metrics.hpp"
#include "wallet/nats/client.hpp"
#include "wallet/nats/command_consumer.hpp"
#include "wallet/nats/event_publisher.hpp"
#include "wallet/nats/leg_sender.hpp"
#include "wallet/nats/query_service.hpp"

namespace wallet::app {

// The shards instance `index` of `count` owns: those with shard mod count == index.
[[nodiscard]] std::vector<std::uint32_t> owned_shards(std::uint32_t shards, std::uint32_t index,
                                                      std::uint32_t count);

class nats_host {
 public:
  // `remote` gets this host's leg sender bound while it serves (several instances). The consumer,
  // publisher and queries report to the log and to `metrics`. The stores wake the publisher
  // through `wakeups` (ADR 0014); without it, by NOTIFY only.
  nats_host(const config::config& cfg, logging::logger log, actors::runtime& runtime,
            std::string conninfo, std::shared_ptr<metrics::registry> metrics,
            remote_legs* remote = nullptr,
            std::shared_ptr<postgres::outbox_wakeups> wakeups = nullptr);
  nats_host(const nats_host&) = delete;
  nats_host& operator=(const nats_host&) = delete;
  nats_host(nats_host&&) = delete;
  nats_host& operator=(nats_host&&) = delete;
  ~nats_host();

  // Connects and starts the bring-up in the background. False on a configuration problem.
  bool start();
  // Stops taking commands from NATS (the runtime drains what it has).
  void stop_intake();
  // Waits for the answers of what was taken, up to `grace`, then stops publishing and closes.
  void stop(std::chrono::milliseconds grace);

  [[nodiscard]] bool serving() const noexcept { return serving_.load(); }

 private:
  void bring_up();
  [[nodiscard]] bool cfg_instances_need_partitions() const;

  nats::nats_settings settings_;
  logging::logger log_;
  std::shared_ptr<metrics::registry> metrics_;
  actors::runtime& runtime_;
  std::string conninfo_;
  std::chrono::milliseconds outbox_poll_{100};
  std::size_t publish_window_ = 256;
  std::size_t publish_wallet_window_ = 32;
  std::size_t publish_threads_ = 4;
  std::chrono::milliseconds publish_round_interval_{0};
  std::size_t handoff_events_max_ = 16'384;
  std::unique_ptr<nats::client> client_;
  remote_legs* remote_ = nullptr;
  std::shared_ptr<postgres::outbox_wakeups> wakeups_;
  std::shared_ptr<nats::leg_sender> legs_;  // shared with the bound port: a late leg finds it
  std::unique_ptr<nats::command_consumer> consumer_;
  std::unique_ptr<nats::event_publisher> publisher_;
  std::unique_ptr<nats::query_service> queries_;
  std::atomic<bool> serving_{false};
  std::shared_ptr<std::atomic<bool>> closing_ = std::make_shared<std::atomic<bool>>(false);
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread bring_up_;
};

}  // namespace wallet::app
