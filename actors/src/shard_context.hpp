// What every actor of one shard shares: settings, the clock, the probe and the actor directory.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "wallet/actors/compliance.hpp"
#include "wallet/actors/messages.hpp"
#include "wallet/actors/probe.hpp"
#include "wallet/actors/settings.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/screening.hpp"
#include "wallet/engine/shard.hpp"

namespace wallet::actors {

using clock_fn = std::function<engine::timestamp()>;

// Carries a leg to the instance owning its wallet's shard (runtime::remote_submit).
using remote_submit_fn = std::function<void(engine::command, completion)>;

// Handles of every shard's actors, filled once at start-up before any command is taken. A shard
// owned by another instance has null handles.
struct directory {
  std::vector<router_actor> routers;
  std::vector<saga_actor> sagas;
  std::vector<store_actor> stores;
};

struct shard_context {
  std::uint32_t shard = 0;
  runtime_settings settings;
  clock_fn clock;
  std::shared_ptr<runtime_probe> probe;
  std::shared_ptr<directory> actors;  // filled during start-up, read-only once commands flow
  remote_submit_fn remote;            // empty: every shard is owned here
  // The KYC policy and the flags: read per decision, swapped by app/ (the pointer never changes).
  std::shared_ptr<const compliance_controls> compliance;

  [[nodiscard]] const router_actor& router_of(std::string_view wallet_id) const {
    return actors->routers.at(engine::shard_of(wallet_id, settings.shards));
  }
  // Whether the wallet's shard has a router in this process (is owned here).
  [[nodiscard]] bool is_local(std::string_view wallet_id) const {
    return static_cast<bool>(router_of(wallet_id));
  }
  [[nodiscard]] const store_actor& store() const { return actors->stores.at(shard); }
  [[nodiscard]] const saga_actor& saga() const { return actors->sagas.at(shard); }
};

// Shared, immutable after start-up: actors hold it by pointer.
using context_ptr = std::shared_ptr<const shard_context>;

struct dormant_wallet {
  engine::wallet_aggregate wallet;
  engine::outgoing_velocity velocity;
};

// Spawners, one per actor kind, defined beside each behavior (where its state type is complete).
// `woken`: the state the wallet kept while dormant; null: load it from the store.
wallet_actor spawn_wallet(caf::actor_system& system, std::string wallet_id,
                          std::uint64_t generation, context_ptr ctx,
                          std::shared_ptr<dormant_wallet> woken = nullptr);
router_actor spawn_router(caf::actor_system& system, context_ptr ctx);
// `port` serves loads and scans; each of `commit_ports` commits one batch at a time. Without
// commit ports the store commits on `port` itself, one batch after the other.
store_actor spawn_store(caf::actor_system& system, context_ptr ctx,
                        std::shared_ptr<store_port> port,
                        std::vector<std::shared_ptr<store_port>> commit_ports);
saga_actor spawn_saga(caf::actor_system& system, context_ptr ctx);

}  // namespace wallet::actors
