// The transfer saga: once a debit is committed, deliver the credit to the destination (any shard,
// here or, through remote_submit, on the instance owning it); if the destination refuses it,
// deliver the compensating reversal to the source. Legs are idempotent (system keys), so
// redelivery after a crash or a lost answer is harmless.
#include <unordered_map>

#include "shard_context.hpp"
#include "wallet/actors/system_keys.hpp"

namespace wallet::actors {

namespace {

struct saga {
  transfer_record transfer;
  bool reversing = false;
  std::uint32_t attempt = 0;
};

}  // namespace

struct saga_state {
  context_ptr ctx;
  std::unordered_map<std::string, saga> active;  // by saga_id (source + transfer id)

  static constexpr const char* name = "saga";
};

namespace {

using self_ptr = saga_actor::stateful_pointer<saga_state>;

std::string saga_id(const transfer_record& t) { return credit_key(t.source, t.transfer_id); }

void deliver(self_ptr self, const std::string& id) {
  auto& s = self->state;
  const saga& g = s.active.at(id);
  const transfer_record& t = g.transfer;
  engine::command cmd;
  if (g.reversing) {
    cmd = engine::command{t.source, reversal_key(t.transfer_id),
                          engine::transfer_reversal{t.transfer_id, t.amount}};
  } else {
    cmd = engine::command{t.destination, credit_key(t.source, t.transfer_id),
                          engine::transfer_credit{t.transfer_id, t.source, t.amount}};
  }
  const bool reversal = g.reversing;
  saga_actor me = self;
  completion done{[me, id, reversal](submit_outcome o) {
    caf::anon_send(me, saga_leg_done{id, reversal, std::move(o)});
  }};
  if (s.ctx->is_local(cmd.wallet_id)) {
    const router_actor& router = s.ctx->router_of(cmd.wallet_id);  // before cmd is moved from
    self->send(router, submission{std::move(cmd), std::move(done), true, {}});
    return;
  }
  // Owned by another instance. The leg's system key makes every redelivery there harmless, so a
  // lost answer costs only a retry; the transfer stays pending (visible) meanwhile.
  if (!s.ctx->remote) {
    done(refused(submit_errc::not_owner));  // retried: a wiring fault, visible in the probe
    return;
  }
  s.ctx->remote(std::move(cmd), std::move(done));
}

void retry_later(self_ptr self, const std::string& id, std::string_view why) {
  auto& s = self->state;
  saga& g = s.active.at(id);
  s.ctx->probe->saga_leg_failed(g.transfer.transfer_id, why);
  const auto delay = backoff_delay(s.ctx->settings.restart, g.attempt++, jitter_random());
  self->delayed_send(self, delay, saga_retry_atom::value, id);
}

void on_leg_done(self_ptr self, saga_leg_done& d) {
  auto& s = self->state;
  const auto it = s.active.find(d.saga_id);
  if (it == s.active.end() || it->second.reversing != d.reversal) {
    return;  // a stale answer
  }
  saga& g = it->second;
  const submit_outcome& o = d.outcome;
  if (o.error) {
    retry_later(self, d.saga_id, to_string(*o.error));
    return;
  }
  if (o.result.rejected && engine::is_transient(*o.result.rejected)) {
    retry_later(self, d.saga_id, engine::code(*o.result.rejected));  // says nothing of the money
    return;
  }
  if (!o.result.rejected) {
    s.active.erase(it);  // credited, or reversed: the transfer row follows from the event
    return;
  }
  if (!g.reversing) {
    g.reversing = true;  // the destination refused the money: send it back
    g.attempt = 0;
    deliver(self, d.saga_id);
    return;
  }
  // A reversal is accepted in every status of an opened wallet; a refusal here needs a human.
  retry_later(self, d.saga_id, engine::code(*o.result.rejected));
}

}  // namespace

namespace {

saga_actor::behavior_type saga_behavior(self_ptr self, context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  return {
      [self](saga_start& start) {
        const std::string id = saga_id(start.transfer);
        if (self->state.active.contains(id)) {
          return;  // already under way (the recovery scan found it too)
        }
        self->state.active.emplace(id, saga{std::move(start.transfer), false, 0});
        deliver(self, id);
      },
      [self](saga_leg_done& d) { on_leg_done(self, d); },
      [self](saga_retry_atom, const std::string& id) {
        if (self->state.active.contains(id)) {
          deliver(self, id);
        }
      },
  };
}

}  // namespace

saga_actor spawn_saga(caf::actor_system& system, context_ptr ctx) {
  return system.spawn(saga_behavior, std::move(ctx));
}

}  // namespace wallet::actors
