// The shard router: one wallet actor per resident wallet, spawned on demand, passivated when idle
// and least recently used once the shard holds more than its share of resident wallets.
#include <unordered_map>

#include "shard_context.hpp"
#include "wallet/actors/lru.hpp"
#include "wallet/engine/assert.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/shard.hpp"

namespace wallet::actors {
namespace {

// Cold entries looked at per eviction: a busy cold end costs no more than this.
constexpr std::size_t eviction_scan_max = 32;

struct resident {
  wallet_actor actor;
  std::uint64_t generation = 0;
  std::uint64_t forwarded = 0;  // commands sent to this incarnation
  std::uint64_t answered = 0;   // as last reported by the wallet when it went idle
};

}  // namespace

struct router_state {
  context_ptr ctx;
  lru_map<resident> wallets;
  std::unordered_map<caf::actor_addr, std::pair<std::string, std::uint64_t>> by_address;
  std::uint64_t next_generation = 1;
  std::size_t resident_max = 1;

  static constexpr const char* name = "router";
};

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

void evict_if_needed(self_ptr self) {
  auto& s = self->state;
  while (s.wallets.size() > s.resident_max) {
    auto victim = s.wallets.pop_coldest([](const resident& r) { return r.forwarded == r.answered; },
                                        eviction_scan_max);
    if (!victim) {
      return;  // every cold wallet is busy: stay above the limit until one goes idle
    }
    self->send(victim->second.actor, passivate_atom::value);
  }
}

resident& find_or_spawn(self_ptr self, const std::string& wallet_id) {
  auto& s = self->state;
  if (resident* r = s.wallets.touch(wallet_id)) {
    return *r;
  }
  const std::uint64_t generation = s.next_generation++;
  auto actor = spawn_wallet(self->system(), wallet_id, generation, s.ctx);
  self->monitor(actor);
  s.by_address.emplace(actor.address(), std::make_pair(wallet_id, generation));
  resident& r = s.wallets.insert(wallet_id, resident{actor, generation, 0, 0});
  s.ctx->probe->wallets_resident(s.ctx->shard, s.wallets.size());
  return r;
}

void route(self_ptr self, submission& sub) {
  if (!engine::is_valid_id(sub.cmd.wallet_id, engine::wallet_id_length_max)) {
    sub.done(refused(submit_errc::invalid_wallet));
    return;
  }
  // Two routers must never both own a wallet: that would make two writers.
  WALLET_ASSERT(engine::shard_of(sub.cmd.wallet_id, self->state.ctx->settings.shards) ==
                self->state.ctx->shard);
  resident& r = find_or_spawn(self, sub.cmd.wallet_id);
  ++r.forwarded;
  self->send(r.actor, std::move(sub));
  evict_if_needed(self);
}

void on_idle(self_ptr self, const wallet_idle& idle) {
  auto& s = self->state;
  if (resident* r = s.wallets.peek(idle.wallet_id);
      r != nullptr && r->generation == idle.generation) {
    r->answered = idle.answered;
  }
  evict_if_needed(self);
}

void on_down(self_ptr self, const caf::down_msg& down) {
  auto& s = self->state;
  const auto it = s.by_address.find(down.source);
  if (it == s.by_address.end()) {
    return;
  }
  const auto& [wallet_id, generation] = it->second;
  if (resident* r = s.wallets.peek(wallet_id); r != nullptr && r->generation == generation) {
    s.wallets.erase(wallet_id);
  }
  s.by_address.erase(it);
  s.ctx->probe->wallets_resident(s.ctx->shard, s.wallets.size());
}

}  // namespace

namespace {

router_actor::behavior_type router_behavior(self_ptr self, context_ptr ctx) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  const std::size_t shards = s.ctx->settings.shards;
  s.resident_max = std::max<std::size_t>(1, s.ctx->settings.wallets_resident_max / shards);
  self->set_down_handler([self](const caf::down_msg& down) { on_down(self, down); });
  // Stopping the router stops its wallets: they hold nothing uncommitted once the runtime has
  // drained, and a wallet never outlives the router that counts its commands.
  self->set_exit_handler([self](const caf::exit_msg& exit) {
    for (const auto& [address, entry] : self->state.by_address) {
      caf::anon_send_exit(address, caf::exit_reason::user_shutdown);
    }
    self->quit(exit.reason);
  });
  return {
      [self](submission& sub) { route(self, sub); },
      [self](const wallet_idle& idle) { on_idle(self, idle); },
  };
}

}  // namespace

router_actor spawn_router(caf::actor_system& system, context_ptr ctx) {
  return system.spawn(router_behavior, std::move(ctx));
}

}  // namespace wallet::actors
