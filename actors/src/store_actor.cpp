// The shard's store actor (detached: the port blocks). Batches the writes of many wallets into one
// transaction, guarded by a circuit breaker, and runs the shard's recovery scans.
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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

  static constexpr const char* name = "store";
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

// The writes of one wallet incarnation in the batch, as indices into `writes`, in commit order.
using wallet_group = std::vector<std::size_t>;

// Acks the wallet of a group for `count` of its writes (its first ones).
void acknowledge(self_ptr self, const wallet_group& g, std::size_t count) {
  const auto& r = self->state.replies[g.front()];
  if (count > 0) {
    caf::anon_send(r.wallet, commit_ack{r.epoch, count});
  }
}

// Tells the wallet of a group that its epoch failed; `culprit`: the database refused the group's
// first unacknowledged write itself (the rest only followed it).
void refuse(self_ptr self, const wallet_group& g, const store_error& error, bool culprit) {
  auto& s = self->state;
  if (s.failed_epochs.size() > failed_epochs_max) {
    s.failed_epochs.clear();
  }
  const auto& r = s.replies[g.front()];
  s.failed_epochs[r.wallet.address()] = r.epoch;
  caf::anon_send(r.wallet, commit_nack{r.epoch, error, culprit});
}

std::vector<wallet_group> group_by_wallet(const store_state& s) {
  std::vector<wallet_group> groups;
  std::unordered_map<caf::actor_addr, std::size_t> index;
  for (std::size_t i = 0; i < s.replies.size(); ++i) {
    const auto [it, fresh] = index.try_emplace(s.replies[i].wallet.address(), groups.size());
    if (fresh) {
      groups.emplace_back();
    }
    groups[it->second].push_back(i);
  }
  return groups;
}

// Commits `writes` in one transaction, keeping the breaker and the probe informed.
std::optional<store_error> commit_writes(self_ptr self, std::span<const wallet_write> writes) {
  auto& s = self->state;
  const auto started = steady::now();
  auto error = s.port->commit(writes);
  if (!error) {
    s.breaker.on_success();
    s.ctx->probe->batch_committed(
        s.ctx->shard, writes.size(),
        std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started));
  } else {
    // A fence conflict or a refused row says nothing about the database's health.
    if (error->code == store_errc::unavailable) {
      s.breaker.on_failure(steady::now());
    }
    s.ctx->probe->batch_failed(s.ctx->shard, writes.size(), *error);
  }
  return error;
}

std::optional<store_error> commit_groups(self_ptr self, std::span<const wallet_group> groups) {
  auto& s = self->state;
  std::vector<wallet_write> writes;
  for (const auto& g : groups) {
    for (const std::size_t i : g) {
      writes.push_back(s.writes[i]);
    }
  }
  auto error = commit_writes(self, writes);
  if (!error) {
    for (const auto& g : groups) {
      acknowledge(self, g, g.size());
    }
  }
  return error;
}

// One wallet's writes, refused by the database as a whole: commits them one at a time to find the
// write it refuses. The writes before it commit; it and those after it fail.
void isolate_write(self_ptr self, const wallet_group& g) {
  auto& s = self->state;
  std::size_t committed = 0;
  for (const std::size_t i : g) {
    const auto error = commit_writes(self, std::span{&s.writes[i], 1});
    if (error) {
      acknowledge(self, g, committed);
      refuse(self, g, *error, error->code == store_errc::rejected);
      return;
    }
    ++committed;
  }
  acknowledge(self, g, committed);  // the refusal did not repeat
}

// `groups` failed together with `error`. A refused row (rejected) or a fence conflict belongs to
// one wallet: commit the halves apart, down to single wallets, so that the others still commit
// (about 2·log2(n) extra transactions for one bad wallet among n). An unavailable database fails
// them all.
void isolate(self_ptr self, std::span<const wallet_group> groups, const store_error& error) {
  if (error.code == store_errc::unavailable) {
    for (const auto& g : groups) {
      refuse(self, g, error, false);
    }
    return;
  }
  if (groups.size() == 1) {
    if (error.code == store_errc::rejected) {
      isolate_write(self, groups.front());
    } else {
      refuse(self, groups.front(), error, false);  // the wallet reloads and retries
    }
    return;
  }
  const std::size_t half = groups.size() / 2;
  for (const auto part : {groups.first(half), groups.subspan(half)}) {
    if (const auto e = commit_groups(self, part)) {
      isolate(self, part, *e);
    }
  }
}

void flush(self_ptr self) {
  auto& s = self->state;
  if (s.writes.empty()) {
    return;
  }
  const auto before = s.breaker.state();
  const auto groups = group_by_wallet(s);
  if (!s.breaker.allow(steady::now())) {
    for (const auto& g : groups) {
      refuse(self, g, store_error{store_errc::unavailable, "circuit open"}, false);
    }
  } else if (const auto error = commit_writes(self, s.writes)) {
    isolate(self, groups, *error);
  } else {
    for (const auto& g : groups) {
      acknowledge(self, g, g.size());
    }
  }
  set_circuit(self, before);
  s.replies.clear();
  s.writes.clear();
  s.wallets_in_batch.clear();
}

// Flush now when the batch is full, or when nothing else waits and the batch has lingered long
// enough; otherwise make sure a timer will flush it. With flush_interval 0 a batch never lingers:
// the writes that arrive while a commit runs wait in the mailbox and form the next batch.
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
    if (settings.flush_interval.count() == 0) {
      // No linger: commit once the writes already waiting in the mailbox have joined the batch.
      // A message behind them does that without the clock thread's wake-up of a timer.
      self->send(self, flush_atom::value);
    } else {
      self->delayed_send(self, settings.flush_interval, flush_atom::value);
    }
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
  if (loaded.ok() && r.outgoing_since) {
    // Without its recent moves the velocity rules would start from nothing: the load fails
    // instead (the wallet actor retries), like any other part of the wallet that cannot be read.
    auto outgoing = s.port->recent_outgoing(r.wallet_id, *r.outgoing_since,
                                            engine::outgoing_velocity::outgoing_moves_max);
    if (outgoing.ok()) {
      auto value = std::move(loaded).value();
      value.outgoing = std::move(outgoing).value();
      loaded = std::move(value);
    } else {
      loaded = outgoing.error();
    }
  }
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
               submission{std::move(cmd), completion{[](const submit_outcome&) {}}, true, {}});
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
