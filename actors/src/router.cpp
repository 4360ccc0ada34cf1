// The shard router: one wallet actor per live wallet, spawned on demand; idle wallets past the
// shard's live limit go dormant (their state kept here, ADR 0010); the least recently used resident
// wallets, live or dormant, are passivated once the shard holds more than its share.
#include <list>
#include <memory>
#include <unordered_map>

#include "shard_context.hpp"
#include "wallet/actors/lru.hpp"
#include "wallet/engine/assert.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/shard.hpp"

namespace wallet::actors {
namespace {

// Cold entries looked at per eviction or dormancy pass: a busy cold end costs no more than this.
constexpr std::size_t eviction_scan_max = 32;

// One resident wallet, in one of three states:
//   live:    `actor` set, no `held`;
//   asked:   `actor` set and `held` set: asked to go dormant, its answer not back yet; commands
//            for it wait in `held`, in arrival order, so none reaches an actor that stopped;
//   dormant: no `actor`, `dormant` set: the next command spawns an actor from it.
struct resident {
  wallet_actor actor;
  std::uint64_t generation = 0;
  std::uint64_t forwarded = 0;  // commands sent to this incarnation
  std::uint64_t answered = 0;   // as last reported by the wallet when it went idle
  bool declined = false;        // refused to go dormant, and no command since
  std::unique_ptr<dormant_wallet> dormant;
  std::unique_ptr<std::list<submission>> held;
};

}  // namespace

struct router_state {
  context_ptr ctx;
  lru_map<resident> wallets;  // every resident wallet: live, asked or dormant
  // The live wallets (not asked, not dormant), least recently used last. The pointers stay valid:
  // lru_map keeps its values in list nodes, and an entry leaves `live` before it leaves `wallets`.
  lru_map<resident*> live;
  std::unordered_map<caf::actor_addr, std::pair<std::string, std::uint64_t>> by_address;
  std::uint64_t next_generation = 1;
  std::size_t resident_max = 1;
  std::size_t live_max = 0;
  std::size_t dormant = 0;

  static constexpr const char* name = "router";
};

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

void report_counts(self_ptr self) {
  auto& s = self->state;
  s.ctx->probe->wallets_resident(s.ctx->shard, s.wallets.size());
  s.ctx->probe->wallets_dormant(s.ctx->shard, s.dormant);
}

void evict_if_needed(self_ptr self) {
  auto& s = self->state;
  bool evicted = false;
  while (s.wallets.size() > s.resident_max) {
    auto victim = s.wallets.pop_coldest(
        [](const resident& r) { return r.forwarded == r.answered && !r.held; }, eviction_scan_max);
    if (!victim) {
      break;  // every cold wallet is busy: stay above the limit until one goes idle
    }
    evicted = true;
    s.live.erase(victim->first);
    if (victim->second.actor) {
      self->send(victim->second.actor, passivate_atom::value);
    } else {
      --s.dormant;  // its state is committed (it went dormant idle): dropping it loses nothing
    }
  }
  if (evicted) {
    report_counts(self);
  }
}

// Asks the coldest idle live wallets to go dormant while the shard has more live actors than its
// limit. An asked wallet leaves `live` at once, so it is asked once; one that declined is asked
// again only after it has taken another command (a hold's expiry is one).
void sleep_if_needed(self_ptr self) {
  auto& s = self->state;
  while (s.live.size() > s.live_max) {
    auto victim = s.live.pop_coldest(
        [](resident* r) { return r->forwarded == r->answered && !r->declined; }, eviction_scan_max);
    if (!victim) {
      return;  // every cold live wallet is busy: ask again when one reports idle
    }
    resident& r = *victim->second;
    r.held = std::make_unique<std::list<submission>>();
    self->send(r.actor, dormant_atom::value);
  }
}

void forward(self_ptr self, resident& r, submission sub) {
  ++r.forwarded;
  r.declined = false;
  self->send(r.actor, std::move(sub));
}

// Spawns the actor of `r` (from its dormant state, or loading from the store) as a new
// incarnation and makes it live.
void spawn_into(self_ptr self, const std::string& wallet_id, resident& r) {
  auto& s = self->state;
  std::shared_ptr<dormant_wallet> woken;
  if (r.dormant) {
    woken = std::make_shared<dormant_wallet>(std::move(*r.dormant));
    r.dormant.reset();
    --s.dormant;
  }
  r.generation = s.next_generation++;
  r.forwarded = 0;
  r.answered = 0;
  r.declined = false;
  r.actor = spawn_wallet(self->system(), wallet_id, r.generation, s.ctx, std::move(woken));
  self->monitor(r.actor);
  s.by_address.emplace(r.actor.address(), std::make_pair(wallet_id, r.generation));
  s.live.insert(wallet_id, &r);
}

void answer_overloaded(self_ptr self, submission& sub) {
  submit_outcome out = refused(submit_errc::overloaded);
  self->state.ctx->probe->command_answered(engine::command_name(sub.cmd.body), out);
  sub.done(std::move(out));
}

void route(self_ptr self, submission& sub) {
  auto& s = self->state;
  if (!engine::is_valid_id(sub.cmd.wallet_id, engine::wallet_id_length_max)) {
    sub.done(refused(submit_errc::invalid_wallet));
    return;
  }
  // Two routers must never both own a wallet: that would make two writers.
  WALLET_ASSERT(engine::shard_of(sub.cmd.wallet_id, s.ctx->settings.shards) == s.ctx->shard);
  resident* r = s.wallets.touch(sub.cmd.wallet_id);
  if (r == nullptr) {
    r = &s.wallets.insert(sub.cmd.wallet_id, resident{});
    spawn_into(self, sub.cmd.wallet_id, *r);
    report_counts(self);
  } else if (r->held) {
    // Asked to go dormant: the command waits for the answer, under the wallet's own bound (the
    // engine's own commands are bounded by the work that made them, as in the wallet).
    if (!sub.internal && r->held->size() >= s.ctx->settings.wallet_inflight_max) {
      answer_overloaded(self, sub);
    } else {
      r->held->push_back(std::move(sub));
    }
    return;
  } else if (r->dormant) {
    spawn_into(self, sub.cmd.wallet_id, *r);
    report_counts(self);
  } else {
    s.live.touch(sub.cmd.wallet_id);
  }
  forward(self, *r, std::move(sub));
  evict_if_needed(self);
  sleep_if_needed(self);
}

void on_idle(self_ptr self, const wallet_idle& idle) {
  auto& s = self->state;
  if (resident* r = s.wallets.peek(idle.wallet_id);
      r != nullptr && r->generation == idle.generation) {
    r->answered = idle.answered;
  }
  evict_if_needed(self);
  sleep_if_needed(self);
}

// The asked wallet's answer. Dormant: keep its state; declined: it is live again. Either way the
// commands that waited for the answer go on, in order, to the wallet's (possibly new) actor.
void on_dormant(self_ptr self, wallet_dormant& answer) {
  auto& s = self->state;
  resident* r = s.wallets.peek(answer.wallet_id);
  if (r == nullptr || r->generation != answer.generation || !r->held) {
    return;  // not asked (cannot happen: an asked wallet is neither evicted nor replaced)
  }
  std::list<submission> held = std::move(*r->held);
  r->held.reset();
  if (answer.state) {
    r->actor = wallet_actor{};  // stopped; its down message finds no live entry
    r->dormant = std::make_unique<dormant_wallet>(std::move(*answer.state));
    ++s.dormant;
    if (!held.empty()) {
      spawn_into(self, answer.wallet_id, *r);
    }
    report_counts(self);
  } else {
    r->declined = true;
    s.live.insert(answer.wallet_id, r);  // most recently used: the next pass looks at others
  }
  for (auto& sub : held) {
    forward(self, *r, std::move(sub));
  }
  evict_if_needed(self);
  sleep_if_needed(self);
}

void on_down(self_ptr self, const caf::down_msg& down) {
  auto& s = self->state;
  const auto it = s.by_address.find(down.source);
  if (it == s.by_address.end()) {
    return;
  }
  const std::string wallet_id = std::move(it->second.first);
  s.by_address.erase(it);
  resident* r = s.wallets.peek(wallet_id);
  if (r == nullptr || !r->actor || r->actor.address() != down.source) {
    return;  // passivated, dormant, or replaced already
  }
  s.live.erase(wallet_id);
  if (r->held) {
    // It stopped while asked, without an answer (a load failure or a crash): what waited goes to
    // a fresh actor, loaded from the store.
    std::list<submission> held = std::move(*r->held);
    r->held.reset();
    spawn_into(self, wallet_id, *r);
    for (auto& sub : held) {
      forward(self, *r, std::move(sub));
    }
  } else {
    s.wallets.erase(wallet_id);
  }
  report_counts(self);
}

}  // namespace

namespace {

router_actor::behavior_type router_behavior(self_ptr self, context_ptr ctx) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  const std::size_t shards = s.ctx->settings.shards;
  s.resident_max = std::max<std::size_t>(1, s.ctx->settings.wallets_resident_max / shards);
  s.live_max = s.ctx->settings.wallets_live_max / shards;
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
      [self](wallet_dormant& answer) { on_dormant(self, answer); },
  };
}

}  // namespace

router_actor spawn_router(caf::actor_system& system, context_ptr ctx) {
  return system.spawn(router_behavior, std::move(ctx));
}

}  // namespace wallet::actors
