// The actor runtime's front door: build it with a store per shard, submit commands, stop it.
// Inbound adapters (NATS, HTTP) and tests use only this header; CAF stays behind it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wallet/actors/circuit_breaker.hpp"
#include "wallet/actors/compliance.hpp"
#include "wallet/actors/outcome.hpp"
#include "wallet/actors/probe.hpp"
#include "wallet/actors/settings.hpp"
#include "wallet/actors/store_port.hpp"
#include "wallet/engine/command.hpp"

namespace caf {
class actor_system;
}

namespace wallet::actors {

class runtime {
 public:
  using store_factory = std::function<std::unique_ptr<store_port>(std::uint32_t shard)>;
  using clock = std::function<engine::timestamp()>;
  // Delivers a transfer leg (a command with its system key) to the instance that owns the
  // destination's shard; `done` gets that instance's outcome, or a refusal (unavailable: the saga
  // retries). Called on an actor thread: it must not block.
  using remote_submit = std::function<void(engine::command, completion done)>;

  // Spawns the store, router and saga actors of every owned shard (settings.owned_shards) in
  // `system`. `make_store` is called once per owned shard. The clock defaults to the system
  // clock. `remote` carries legs whose wallet is on a shard owned elsewhere; without it every
  // shard must be owned here (a leg to another shard would wait, pending, forever).
  runtime(caf::actor_system& system, runtime_settings settings, const store_factory& make_store,
          std::shared_ptr<runtime_probe> probe, clock now = {}, remote_submit remote = {});
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  runtime(runtime&&) = delete;
  runtime& operator=(runtime&&) = delete;
  ~runtime();

  // Submits a client command; `done` is called exactly once with its outcome, after commit.
  // Never blocks. Refuses keys with the system prefix, wallets of shards not owned here
  // (`not_owner`), and answers `overloaded` when the shard already has store_queue_max commands in
  // flight.
  void submit(engine::command cmd, std::function<void(submit_outcome)> done);
  // The same, with the client's command id and trace context for the command's events.
  void submit(engine::command cmd, command_context context,
              std::function<void(submit_outcome)> done);
  // A transfer leg or expiry sent by another instance's engine (remote_submit there). The key
  // must be a system key (asserted: inbound adapters check it, since the key came over the wire).
  // Refuses `not_owner` like submit, and is not held back by the wallet's in-flight limit.
  void submit_internal(engine::command cmd, std::function<void(submit_outcome)> done);
  // An admin's decision on an AML review (ADR 0009): a capture or a release of the review's hold
  // under its decision key (engine::review_decision_key; asserted with is_review_decision), with
  // who decides and why in `context.audit`. Refused `not_owner` like submit; not held back by the
  // wallet's in-flight limit (the reviews bound it).
  void submit_review_decision(engine::command cmd, command_context context,
                              std::function<void(submit_outcome)> done);
  // The same, as a future (for tools and tests; the hot path uses the callback).
  std::future<submit_outcome> submit(engine::command cmd);

  // Stops taking commands (they are answered shutting_down), waits up to `grace` for the commands
  // in flight to be answered, then stops every actor. Returns whether everything was answered.
  bool stop(std::chrono::milliseconds grace);

  [[nodiscard]] std::uint32_t shard_count() const noexcept;
  [[nodiscard]] std::size_t in_flight() const noexcept;
  // The KYC policy and the feature flags every wallet decision reads (no limits and every flag at
  // its default until set). Swapping either is atomic and takes effect from the next decision, on
  // every path (NATS, HTTP, in-process): the wallet actors read them, not the inbound adapters.
  [[nodiscard]] compliance_controls& compliance() noexcept;

  // The worst circuit state over all shards: readiness is "every circuit closed".
  [[nodiscard]] circuit_state circuit() const noexcept;
  // Why the runtime can no longer work (a shard actor died), or nothing while it is healthy.
  [[nodiscard]] std::optional<std::string> failure() const;

 private:
  void admit(engine::command cmd, std::function<void(submit_outcome)> done, bool internal,
             command_context context = {});

  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace wallet::actors
