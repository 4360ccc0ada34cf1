// Prometheus metrics (DESIGN.md §9): one registry with the engine's families, probes that record
// into it, and the /metrics endpoint. Label values come from fixed sets (shard numbers, enum names)
// so a scrape never grows with wallet ids, keys or error texts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wallet/actors/probe.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/nats/command_consumer.hpp"
#include "wallet/nats/event_publisher.hpp"
#include "wallet/nats/query_service.hpp"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace wallet::metrics {

// Histogram bounds: powers of two for the writes of one batch (batch_writes_max is 1024), and
// commit latency from half a millisecond (a local commit) to past the store's timeouts.
inline constexpr std::size_t batch_writes_bucket_max = 1'024;
inline constexpr double commit_seconds_bucket_min = 0.000'5;
inline constexpr double commit_seconds_bucket_max = 2.5;

// Owns the Prometheus registry and every family of the engine. Thread-safe: probes record from
// actor and NATS threads while the exposer collects.
class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;
  registry(registry&&) = delete;
  registry& operator=(registry&&) = delete;

  // What the exposer serves and what tests read back (Collect()).
  [[nodiscard]] const std::shared_ptr<prometheus::Registry>& prometheus_registry() const noexcept;

  struct families;  // defined in metrics.cpp: the probes record through it

 private:
  friend class runtime_metrics;
  friend class consumer_metrics;
  friend class publisher_metrics;
  friend class query_metrics;
  friend class leg_metrics;
  friend class compliance_metrics;

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<families> families_;
};

// The runtime's reports as metrics.
class runtime_metrics final : public actors::runtime_probe {
 public:
  explicit runtime_metrics(std::shared_ptr<registry> r);

  void batch_committed(std::uint32_t shard, std::size_t writes,
                       std::chrono::microseconds latency) override;
  void write_waited(std::uint32_t shard, std::chrono::microseconds waited) override;
  void batch_failed(std::uint32_t shard, std::size_t writes,
                    const actors::store_error& error) override;
  void circuit_changed(std::uint32_t shard, actors::circuit_state state) override;
  void command_answered(std::string_view command, const actors::submit_outcome& outcome) override;
  void wallet_load_failed(std::uint32_t shard, const actors::store_error& error) override;
  void wallet_gave_up(std::uint32_t shard, const actors::store_error& last_error) override;
  void actor_failed(std::string_view kind, std::uint32_t shard, std::string_view reason) override;
  void wallets_resident(std::uint32_t shard, std::size_t count) override;
  void wallets_dormant(std::uint32_t shard, std::size_t count) override;
  void saga_leg_failed(std::string_view transfer_id, std::string_view why) override;
  void scan_failed(std::uint32_t shard, const actors::store_error& error) override;
  void keys_evicted(std::uint32_t shard, std::size_t count) override;
  void key_lookup(std::uint32_t shard, std::string_view outcome,
                  const actors::store_error* error) override;
  void aml_review(std::string_view event, std::string_view wallet_id,
                  std::string_view review_id) override;

 private:
  std::shared_ptr<registry> registry_;
};

// The command consumer's reports as metrics.
class consumer_metrics final : public nats::consumer_probe {
 public:
  explicit consumer_metrics(std::shared_ptr<registry> r);

  void dead_lettered(std::string_view reason, std::string_view detail) override;
  void deferred(std::string_view why) override;
  void redelivered(std::uint64_t deliveries) override;
  void answered(const actors::submit_outcome& outcome) override;
  void taken(std::chrono::nanoseconds since_stored) override;
  void decided(std::chrono::nanoseconds since_taken) override;
  void failed(std::string_view what) override;

 private:
  std::shared_ptr<registry> registry_;
};

// The outbox publisher's reports as metrics.
class publisher_metrics final : public nats::publisher_probe {
 public:
  explicit publisher_metrics(std::shared_ptr<registry> r);

  void published(std::uint32_t shard, std::size_t events) override;
  void taken(std::uint32_t shard, nats::outbox_source source, std::size_t events) override;
  void failed(std::string_view what) override;

 private:
  std::shared_ptr<registry> registry_;
};

// The query service's reports as metrics.
class query_metrics final : public nats::query_probe {
 public:
  explicit query_metrics(std::shared_ptr<registry> r);

  void failed(std::string_view what) override;

 private:
  std::shared_ptr<registry> registry_;
};

// The leg sender's failures (it reports through a callback, not a probe class): each counts as a
// NATS call failure of kind `leg`.
class leg_metrics {
 public:
  explicit leg_metrics(std::shared_ptr<registry> r);
  void failed(std::string_view what);

 private:
  std::shared_ptr<registry> registry_;
};

// The reloads of the compliance files (the KYC policy and the feature flags; docs/compliance.md).
class compliance_metrics {
 public:
  explicit compliance_metrics(std::shared_ptr<registry> r);
  // `file` is "policy" or "flags" (anything else counts as "other"); `loaded`: the file was read
  // and installed, otherwise refused (the previous value stays).
  void reloaded(std::string_view file, bool loaded);
  // An audit record of a load or reload could not be written (it is kept and retried).
  void audit_write_failed();

 private:
  std::shared_ptr<registry> registry_;
};

// The command label for what runtime_probe::command_answered names: a command name as it is, an
// event name as the command that appends it ("deposited" -> "deposit"). Public for tests.
[[nodiscard]] std::string_view command_name_of(std::string_view answered) noexcept;

// The bounded label value for a failure message of a NATS call, from its leading words: fetch,
// ack (acks and NAKs), reply, publish, dead_letter or other. Public for tests.
[[nodiscard]] std::string_view nats_failure_kind(std::string_view message) noexcept;

struct exposer_error {
  std::string message;  // for the log line: the address and why it could not listen
};

// Serves the registry at http://<address>:<port>/metrics on the exposer's own threads.
class exposer {
 public:
  // `address` is an IPv4 or IPv6 literal (http.listen_address); port 0 picks a free port. A port
  // that is taken, or an address that cannot be bound, is an error, never an exception.
  [[nodiscard]] static engine::result<std::unique_ptr<exposer>, exposer_error> start(
      std::shared_ptr<registry> r, std::string_view address, std::uint16_t port);

  ~exposer();
  exposer(const exposer&) = delete;
  exposer& operator=(const exposer&) = delete;
  exposer(exposer&&) = delete;
  exposer& operator=(exposer&&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

 private:
  exposer(std::shared_ptr<registry> r, std::unique_ptr<prometheus::Exposer> e, std::uint16_t port);

  std::shared_ptr<registry> registry_;  // kept alive: the exposer holds it only weakly
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::uint16_t port_;
};

}  // namespace wallet::metrics
