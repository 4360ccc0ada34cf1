// The shard's store actor (detached: the port blocks). Batches the writes of many wallets into one
// transaction, guarded by a circuit breaker, and runs the shard's recovery scans.
#include <unordered_map>
#include <unordered_set>

#include "shard_context.hpp"
#include "wallet/actors/system_keys.hpp"

namespace wallet::actors {

// Remembered failed epochs per shard. Past it the memory is dropped: a stale write that then slips
// into a batch only fails that batch's fence and its wallets reload — safe, merely slower.
constexpr std::size_t failed_epochs_max = 65'536;

struct store_state {
  context_ptr ctx;
  std::shared_ptr<store_port> port;
  struct reply_to {
    std::uint64_t epoch = 0;
    wallet_actor wallet;
  };
  std::vector<wallet_write> writes;  // the batch, handed to the port as is
  std::vector<reply_to> replies;     // who wrote writes[i]
  std::unordered_set<std::string> wallets_in_batch;
  // Wallet actor (one incarnation) -> the epoch whose batch failed: later writes of that epoch
  // are dropped unsent.
  std::unordered_map<caf::actor_addr, std::uint64_t> failed_epochs;
  circuit_breaker breaker{circuit_breaker_settings{}};
  std::chrono::steady_clock::time_point first_write{};
  bool flush_scheduled = false;

  static inline const char* name = "store";
};

namespace {

using self_ptr = store_actor::stateful_pointer<store_state>;
using steady = std::chrono::steady_clock;

void set_circuit(self_ptr self, circuit_state before) {
  auto& s = self->state;
  if (s.breaker.state() != before) {
    s.ctx->probe->circuit_changed(s.ctx->shard, s.breaker.state());
  }
}

// Acks each wallet once for all its writes in the batch.
void acknowledge(self_ptr self) {
  auto& s = self->state;
  std::unordered_map<caf::actor_addr, std::size_t> counts;
  for (const auto& r : s.replies) {
    ++counts[r.wallet.address()];
  }
  for (const auto& r : s.replies) {
    const auto it = counts.find(r.wallet.address());
    if (it != counts.end()) {
      caf::anon_send(r.wallet, commit_ack{r.epoch, it->second});
      counts.erase(it);
    }
  }
}

void reject_batch(self_ptr self, const store_error& error) {
  auto& s = self->state;
  std::unordered_set<caf::actor_addr> told;
  if (s.failed_epochs.size() > failed_epochs_max) {
    s.failed_epochs.clear();
  }
  for (std::size_t i = 0; i < s.replies.size(); ++i) {
    const auto& r = s.replies[i];
    s.failed_epochs[r.wallet.address()] = r.epoch;
    if (told.insert(r.wallet.address()).second) {
      caf::anon_send(r.wallet, commit_nack{r.epoch, error});
    }
  }
}

void flush(self_ptr self) {
  auto& s = self->state;
  if (s.writes.empty()) {
    return;
  }
  const auto before = s.breaker.state();
  if (!s.breaker.allow(steady::now())) {
    reject_batch(self, store_error{store_errc::unavailable, "circuit open"});
  } else {
    const auto started = steady::now();
    const auto error = s.port->commit(s.writes);
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started);
    if (!error) {
      s.breaker.on_success();
      s.ctx->probe->batch_committed(s.ctx->shard, s.writes.size(), latency);
      acknowledge(self);
    } else {
      // A fence conflict or a refused row says nothing about the database's health.
      if (error->code == store_errc::unavailable) {
        s.breaker.on_failure(steady::now());
      }
      s.ctx->probe->batch_failed(s.ctx->shard, s.writes.size(), *error);
      reject_batch(self, *error);
    }
  }
  set_circuit(self, before);
  s.replies.clear();
  s.writes.clear();
  s.wallets_in_batch.clear();
}

// Flush now when the batch is full, or when nothing else waits and the batch has lingered long
// enough; otherwise make sure a timer will flush it.
void maybe_flush(self_ptr self) {
  auto& s = self->state;
  const auto& settings = s.ctx->settings;
  if (s.writes.empty()) {
    return;
  }
  const bool full = s.writes.size() >= settings.batch_size_max;
  const bool lingered = steady::now() - s.first_write >= settings.flush_interval;
  if (full || (self->mailbox().empty() && lingered)) {
    flush(self);
    return;
  }
  if (!s.flush_scheduled) {
    s.flush_scheduled = true;
    self->delayed_send(self, settings.flush_interval, flush_atom::value);
  }
}

void on_append(self_ptr self, append_request& r) {
  auto& s = self->state;
  const auto failed = s.failed_epochs.find(r.reply_to.address());
  if (failed != s.failed_epochs.end()) {
    if (failed->second >= r.epoch) {
      return;  // its wallet was told this epoch failed and has answered the command
    }
    s.failed_epochs.erase(failed);
  }
  if (s.writes.empty()) {
    s.first_write = steady::now();
  }
  s.wallets_in_batch.insert(r.write.wallet_id);
  s.replies.push_back(store_state::reply_to{r.epoch, std::move(r.reply_to)});
  s.writes.push_back(std::move(r.write));
  maybe_flush(self);
}

void on_load(self_ptr self, load_request& r) {
  auto& s = self->state;
  // A wallet reloading after passivation must see its own last writes.
  if (s.wallets_in_batch.contains(r.wallet_id)) {
    flush(self);
  }
  const auto before = s.breaker.state();
  if (!s.breaker.allow(steady::now())) {
    caf::anon_send(r.reply_to, load_result{store_error{store_errc::unavailable, "circuit open"}});
    return;
  }
  auto loaded = s.port->load_wallet(r.wallet_id, r.keys_since);
  if (loaded.ok()) {
    s.breaker.on_success();
  } else if (loaded.error().code == store_errc::unavailable) {
    s.breaker.on_failure(steady::now());
  }
  set_circuit(self, before);
  caf::anon_send(r.reply_to, load_result{std::move(loaded)});
}

// Restarts the sagas of transfers left pending (a crash, a lost leg) and expires due holds of
// wallets that are not resident.
void scan(self_ptr self) {
  auto& s = self->state;
  const auto& settings = s.ctx->settings;
  self->delayed_send(self, settings.recovery_scan_interval, scan_atom::value);
  const engine::timestamp now = s.ctx->clock();
  const auto pending =
      s.port->pending_transfers(now - settings.recovery_scan_interval, settings.batch_size_max);
  if (pending.ok()) {
    for (const auto& t : pending.value()) {
      self->send(s.ctx->saga(), saga_start{t});
    }
  } else {
    s.ctx->probe->scan_failed(s.ctx->shard, pending.error());
  }
  const auto due = s.port->due_holds(now, settings.batch_size_max);
  if (!due.ok()) {
    s.ctx->probe->scan_failed(s.ctx->shard, due.error());
    return;
  }
  for (const auto& h : due.value()) {
    engine::command cmd{h.wallet_id, expiry_key(h.hold_id, h.expires_at),
                        engine::hold_expire{h.hold_id}};
    self->send(s.ctx->router_of(h.wallet_id),
               submission{std::move(cmd), completion{[](const submit_outcome&) {}}, true});
  }
}

}  // namespace

namespace {

store_actor::behavior_type store_behavior(self_ptr self, context_ptr ctx,
                                          std::shared_ptr<store_port> port) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  s.port = std::move(port);
  s.breaker = circuit_breaker{s.ctx->settings.circuit};
  s.writes.reserve(s.ctx->settings.batch_size_max);
  s.replies.reserve(s.ctx->settings.batch_size_max);
  self->delayed_send(self, s.ctx->settings.recovery_scan_interval, scan_atom::value);
  return {
      [self](append_request& r) { on_append(self, r); },
      [self](load_request& r) { on_load(self, r); },
      [self](flush_atom) {
        self->state.flush_scheduled = false;
        flush(self);
      },
      [self](scan_atom) { scan(self); },
  };
}

}  // namespace

store_actor spawn_store(caf::actor_system& system, context_ptr ctx,
                        std::shared_ptr<store_port> port) {
  return system.spawn<caf::detached>(store_behavior, std::move(ctx), std::move(port));
}

}  // namespace wallet::actors
