// Commands in: durable JetStream pull consumers feed the engine, each message as it arrives (no
// wait for a whole batch). A message is acked only after its outcome is committed; NAKed with a
// delay while the engine is overloaded or unavailable (never dropped); dead-lettered at once when
// it cannot be decoded or is invalid, and after deliveries_max deliveries. The sender's
// Wallet-Reply-To subject gets the outcome. With an internal intake it also consumes the engine's
// own commands sent by other instances (transfer legs on the system subjects), decoded with
// origin::engine.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wallet/actors/outcome.hpp"
#include "wallet/nats/client.hpp"

namespace wallet::nats {

// What the consumer reports, for logs and metrics. Called on consumer and actor threads.
class consumer_probe {
 public:
  consumer_probe() = default;
  consumer_probe(const consumer_probe&) = delete;
  consumer_probe& operator=(const consumer_probe&) = delete;
  consumer_probe(consumer_probe&&) = delete;
  consumer_probe& operator=(consumer_probe&&) = delete;
  virtual ~consumer_probe() = default;
  virtual void dead_lettered(std::string_view /*reason*/, std::string_view /*detail*/) {}
  virtual void deferred(std::string_view /*why*/) {}  // NAKed for a later redelivery
  virtual void redelivered(std::uint64_t /*deliveries*/) {}
  virtual void answered(const actors::submit_outcome& /*outcome*/) {}
  // A command taken from the stream, `since_stored` after JetStream stored it (by the server's
  // clock against ours: one machine, or clocks in sync).
  virtual void taken(std::chrono::nanoseconds /*since_stored*/) {}
  // A command decided (or refused) by the engine, `since_taken` after the consumer took it.
  virtual void decided(std::chrono::nanoseconds /*since_taken*/) {}
  virtual void failed(std::string_view /*what*/) {}  // a NATS call failed
};

// The engine's intake: runtime::submit, or a fake in tests.
// The context carries the client's command id and traceparent to the command's events.
using submit_fn = std::function<void(engine::command, actors::command_context,
                                     std::function<void(actors::submit_outcome)> done)>;

class command_consumer {
 public:
  // `submit_internal` (runtime::submit_internal) takes the system subjects' commands; without it
  // they are not consumed (a single instance sends none).
  command_consumer(const client& c, submit_fn submit, std::shared_ptr<consumer_probe> probe,
                   submit_fn submit_internal = {});
  ~command_consumer();
  command_consumer(const command_consumer&) = delete;
  command_consumer& operator=(const command_consumer&) = delete;
  command_consumer(command_consumer&&) = delete;
  command_consumer& operator=(command_consumer&&) = delete;

  // Creates the durable consumers (one per owned shard when partitioned, else one; twice with an
  // internal intake) and starts a fetching thread for each.
  [[nodiscard]] std::optional<nats_error> start();

  // Stops fetching; what was fetched is still answered and acked.
  void stop_fetching();

  // Waits up to `grace` for every fetched message to be acked or NAKed, then stops. True when
  // nothing was left.
  bool stop(std::chrono::milliseconds grace);

  [[nodiscard]] std::size_t in_flight() const noexcept;

  struct shared;  // what outlives the consumer for answers still on their way

 private:
  // One durable consumer, pulled through a plain subscription on an inbox of our own (ADR 0008):
  // pull request n asks for replies on "<inbox>.n", and the subscription takes "<inbox>.*".
  struct subscription {
    natsSubscription* sub = nullptr;
    std::string inbox;
    std::string next;     // where pull requests go: $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>
    bool system = false;  // the engine's own commands
  };

  void fetch_loop(const subscription& sub);
  [[nodiscard]] std::optional<nats_error> subscribe(std::uint32_t shard, bool system);

  const client& client_;
  std::shared_ptr<shared> shared_;
  std::vector<subscription> subscriptions_;
  std::vector<std::thread> threads_;
};

}  // namespace wallet::nats
