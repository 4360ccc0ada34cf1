// The shard's store actor (detached: its port blocks). Batches the writes of many wallets into
// transactions, guarded by a circuit breaker, and runs the shard's recovery scans. It commits the
// batches itself, one after the other, or with store.commits_in_flight_max above 1 hands each to
// one of that many committers (detached, a port each), no wallet in two batches under way
// (ADR 0016).
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "shard_context.hpp"
#include "wallet/actors/system_keys.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::actors {

// Remembered failed epochs per shard. Past it the memory is dropped: a stale write that then slips
// into a batch only fails that batch's fence and its wallets reload — safe, merely slower.
constexpr std::size_t failed_epochs_max = 65'536;

namespace store_detail {

struct reply_to {
  std::uint64_t epoch = 0;
  wallet_actor wallet;
};

// A batch handed to a committer: the writes, as the port takes them, and who wrote each.
struct commit_job {
  std::vector<wallet_write> writes;
  std::vector<reply_to> replies;
};

// A committer's account of a job, once every write of it is acknowledged or refused.
struct commit_report {
  std::vector<bool> transactions;  // each transaction tried, in order: committed, or unavailable
  std::vector<std::pair<caf::actor_addr, std::uint64_t>> refused;  // wallet incarnation, epoch
};

}  // namespace store_detail
}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::store_detail::commit_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::store_detail::commit_report)

namespace wallet::actors {

using store_detail::commit_job;
using store_detail::commit_report;
using store_detail::reply_to;

// Commits one batch at a time on a connection of its own (detached: the port blocks).
using committer_actor = caf::typed_actor<caf::replies_to<commit_job>::with<commit_report>>;

struct committer_state {
  context_ptr ctx;
  std::shared_ptr<store_port> port;
  commit_job job;  // the batch being committed
  commit_report report;

  static constexpr const char* name = "store-committer";
};

struct store_state {
  context_ptr ctx;
  std::shared_ptr<store_port> port;  // loads and scans
  struct queued {
    wallet_write write;
    reply_to reply;
    std::chrono::steady_clock::time_point at;    // when the store took it
    std::chrono::steady_clock::time_point sent;  // when its wallet sent it
  };
  std::deque<queued> queue;  // writes in no batch yet, in arrival order
  // Writes per wallet id queued, and in batches being committed. A wallet's writes wait while
  // one of its batches is committed: its next batch could otherwise commit first.
  std::unordered_map<std::string, std::size_t> queued_wallets;
  std::unordered_map<std::string, std::size_t> committing_wallets;
  std::vector<committer_actor> idle;       // committers with no batch
  std::vector<load_request> parked_loads;  // of wallets with writes queued or being committed
  std::vector<key_lookup_request> parked_lookups;  // the same, for key lookups (ADR 0017)
  // With store.commits_in_flight_max 1 the store commits itself, on its own port, as a committer
  // would: no thread hand-off per batch, one connection per shard.
  std::unique_ptr<committer_state> inline_committer;
  // Wallet actor (one incarnation) -> the epoch whose batch failed: later writes of that epoch
  // are dropped unsent.
  std::unordered_map<caf::actor_addr, std::uint64_t> failed_epochs;
  circuit_breaker breaker{circuit_breaker_settings{}};
  bool flush_scheduled = false;

  static constexpr const char* name = "store";
};

namespace {

using steady = std::chrono::steady_clock;

// ---- the committer: one batch, its failures isolated, every wallet told ----

using committer_ptr = committer_actor::stateful_pointer<committer_state>;

// The writes of one wallet incarnation in the batch, as indices into `writes`, in commit order.
using wallet_group = std::vector<std::size_t>;

// Acks the wallet of a group for `count` of its writes (its first ones).
void acknowledge(committer_state& c, const wallet_group& g, std::size_t count) {
  const auto& r = c.job.replies[g.front()];
  if (count > 0) {
    caf::anon_send(r.wallet, commit_ack{r.epoch, count});
  }
}

// Tells the wallet of a group that its epoch failed; `culprit`: the database refused the group's
// first unacknowledged write itself (the rest only followed it).
void refuse(committer_state& c, const wallet_group& g, const store_error& error, bool culprit) {
  const auto& r = c.job.replies[g.front()];
  c.report.refused.emplace_back(r.wallet.address(), r.epoch);
  caf::anon_send(r.wallet, commit_nack{r.epoch, error, culprit});
}

std::vector<wallet_group> group_by_wallet(const std::vector<reply_to>& replies) {
  std::vector<wallet_group> groups;
  std::unordered_map<caf::actor_addr, std::size_t> index;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto [it, fresh] = index.try_emplace(replies[i].wallet.address(), groups.size());
    if (fresh) {
      groups.emplace_back();
    }
    groups[it->second].push_back(i);
  }
  return groups;
}

// Commits `writes` in one transaction, keeping the report (for the breaker) and the probe
// informed.
std::optional<store_error> commit_writes(committer_state& c, std::span<const wallet_write> writes) {
  const auto started = steady::now();
  auto error = c.port->commit(writes);
  if (!error) {
    c.report.transactions.push_back(true);
    c.ctx->probe->batch_committed(
        c.ctx->shard, writes.size(),
        std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started));
  } else {
    // A fence conflict or a refused row says nothing about the database's health.
    if (error->code == store_errc::unavailable) {
      c.report.transactions.push_back(false);
    }
    c.ctx->probe->batch_failed(c.ctx->shard, writes.size(), *error);
  }
  return error;
}

std::optional<store_error> commit_groups(committer_state& c, std::span<const wallet_group> groups) {
  std::vector<wallet_write> writes;
  for (const auto& g : groups) {
    for (const std::size_t i : g) {
      writes.push_back(c.job.writes[i]);
    }
  }
  auto error = commit_writes(c, writes);
  if (!error) {
    for (const auto& g : groups) {
      acknowledge(c, g, g.size());
    }
  }
  return error;
}

// One wallet's writes, refused by the database as a whole: commits them one at a time to find the
// write it refuses. The writes before it commit; it and those after it fail.
void isolate_write(committer_state& c, const wallet_group& g) {
  std::size_t committed = 0;
  for (const std::size_t i : g) {
    const auto error = commit_writes(c, std::span{&c.job.writes[i], 1});
    if (error) {
      acknowledge(c, g, committed);
      refuse(c, g, *error, error->code == store_errc::rejected);
      return;
    }
    ++committed;
  }
  acknowledge(c, g, committed);  // the refusal did not repeat
}

// `groups` failed together with `error`. A refused row (rejected) or a fence conflict belongs to
// one wallet: commit the halves apart, down to single wallets, so that the others still commit
// (about 2·log2(n) extra transactions for one bad wallet among n). An unavailable database fails
// them all.
void isolate(committer_state& c, std::span<const wallet_group> groups, const store_error& error) {
  if (error.code == store_errc::unavailable) {
    for (const auto& g : groups) {
      refuse(c, g, error, false);
    }
    return;
  }
  if (groups.size() == 1) {
    if (error.code == store_errc::rejected) {
      isolate_write(c, groups.front());
    } else {
      refuse(c, groups.front(), error, false);  // the wallet reloads and retries
    }
    return;
  }
  const std::size_t half = groups.size() / 2;
  for (const auto part : {groups.first(half), groups.subspan(half)}) {
    if (const auto e = commit_groups(c, part)) {
      isolate(c, part, *e);
    }
  }
}

commit_report commit_job_now(committer_state& c, commit_job& job) {
  c.job = std::move(job);
  c.report = commit_report{};
  const auto groups = group_by_wallet(c.job.replies);
  if (const auto error = commit_writes(c, c.job.writes)) {
    isolate(c, groups, *error);
  } else {
    for (const auto& g : groups) {
      acknowledge(c, g, g.size());
    }
  }
  c.job = commit_job{};
  return std::move(c.report);
}

committer_actor::behavior_type committer_behavior(committer_ptr self, context_ptr ctx,
                                                  std::shared_ptr<store_port> port) {
  self->state.ctx = std::move(ctx);
  self->state.port = std::move(port);
  return {
      [self](commit_job& job) { return commit_job_now(self->state, job); },
  };
}

// ---- the store: batches, the breaker, loads and scans ----

using self_ptr = store_actor::stateful_pointer<store_state>;

void set_circuit(self_ptr self, circuit_state before) {
  auto& s = self->state;
  if (s.breaker.state() != before) {
    s.ctx->probe->circuit_changed(s.ctx->shard, s.breaker.state());
  }
}

void count_down(std::unordered_map<std::string, std::size_t>& counts, const std::string& key) {
  const auto it = counts.find(key);
  WALLET_ASSERT(it != counts.end() && it->second > 0);
  if (--it->second == 0) {
    counts.erase(it);
  }
}

bool has_writes(const store_state& s, const std::string& wallet_id) {
  return s.queued_wallets.contains(wallet_id) || s.committing_wallets.contains(wallet_id);
}

// Whether the write's wallet was told that its epoch failed.
bool of_failed_epoch(const store_state& s, const reply_to& r) {
  const auto failed = s.failed_epochs.find(r.wallet.address());
  return failed != s.failed_epochs.end() && failed->second >= r.epoch;
}

void remember_failed(store_state& s, const caf::actor_addr& wallet, std::uint64_t epoch) {
  if (s.failed_epochs.size() > failed_epochs_max) {
    s.failed_epochs.clear();
  }
  s.failed_epochs[wallet] = epoch;
}

// The next batch: the queued writes in arrival order, but none of a wallet with a batch being
// committed, nor any after such a write of the same wallet (they keep their order in the queue).
// Writes of an epoch that failed meanwhile are dropped: their wallet has answered them.
commit_job take_batch(store_state& s) {
  commit_job job;
  std::unordered_set<std::string> waiting;  // wallets whose writes stay queued
  std::deque<store_state::queued> kept;
  const auto now = steady::now();
  while (!s.queue.empty() && job.writes.size() < s.ctx->settings.batch_size_max) {
    store_state::queued q = std::move(s.queue.front());
    s.queue.pop_front();
    const std::string& id = q.write.wallet_id;
    if (of_failed_epoch(s, q.reply)) {
      count_down(s.queued_wallets, id);
      continue;
    }
    if (s.committing_wallets.contains(id) || waiting.contains(id)) {
      waiting.insert(id);
      kept.push_back(std::move(q));
      continue;
    }
    count_down(s.queued_wallets, id);
    s.ctx->probe->write_waited(s.ctx->shard,
                               std::chrono::duration_cast<std::chrono::microseconds>(now - q.sent));
    job.replies.push_back(std::move(q.reply));
    job.writes.push_back(std::move(q.write));
  }
  std::move(s.queue.begin(), s.queue.end(), std::back_inserter(kept));
  s.queue = std::move(kept);
  return job;
}

// Whether a batch can be handed out now.
bool can_commit(const store_state& s) { return s.inline_committer || !s.idle.empty(); }

void settle(self_ptr self, const std::vector<std::string>& wallets, const commit_report& report);
void on_report(self_ptr self, const committer_actor& committer,
               const std::vector<std::string>& wallets, const commit_report& report);
void retry_parked_loads(self_ptr self);

// Hands the next batches to the idle committers, or refuses them while the circuit is open.
void dispatch(self_ptr self) {
  auto& s = self->state;
  while (can_commit(s) && !s.queue.empty()) {
    commit_job job = take_batch(s);
    if (job.writes.empty()) {
      break;  // what is queued waits for batches being committed
    }
    const auto before = s.breaker.state();
    if (!s.breaker.allow(steady::now())) {
      const store_error open{store_errc::unavailable, "circuit open"};
      std::unordered_set<caf::actor_addr> told;
      for (const auto& r : job.replies) {
        if (told.insert(r.wallet.address()).second) {
          remember_failed(s, r.wallet.address(), r.epoch);
          caf::anon_send(r.wallet, commit_nack{r.epoch, open, false});
        }
      }
      set_circuit(self, before);
      continue;
    }
    if (s.inline_committer) {
      // Committed before the store reads its next message: no wallet is marked as committing.
      settle(self, {}, commit_job_now(*s.inline_committer, job));
      continue;
    }
    std::vector<std::string> wallets;
    wallets.reserve(job.writes.size());
    for (const auto& w : job.writes) {
      ++s.committing_wallets[w.wallet_id];
      wallets.push_back(w.wallet_id);
    }
    committer_actor committer = std::move(s.idle.back());
    s.idle.pop_back();
    self->request(committer, caf::infinite, std::move(job))
        .then([self, committer, wallets = std::move(wallets)](commit_report& report) {
          on_report(self, committer, wallets, report);
        });
  }
  retry_parked_loads(self);  // writes of failed epochs may have been dropped
}

// Commit now when a batch is full, or when nothing else waits and the oldest write has lingered
// long enough; otherwise make sure a message or timer will. With flush_interval 0 a write never
// lingers: the writes that arrive while the committers are busy form the next batches. With no
// committer idle, a report brings the next dispatch.
void maybe_flush(self_ptr self) {
  auto& s = self->state;
  const auto& settings = s.ctx->settings;
  if (s.queue.empty() || !can_commit(s)) {
    return;
  }
  const bool full = s.queue.size() >= settings.batch_size_max;
  const bool lingered = steady::now() - s.queue.front().at >= settings.flush_interval;
  if (full || (self->mailbox().empty() && lingered)) {
    dispatch(self);
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

// A batch's outcome: the breaker, the failed epochs, its wallets free for their next batch.
void settle(self_ptr self, const std::vector<std::string>& wallets, const commit_report& report) {
  auto& s = self->state;
  const auto before = s.breaker.state();
  for (const bool committed : report.transactions) {
    if (committed) {
      s.breaker.on_success();
    } else {
      s.breaker.on_failure(steady::now());
    }
  }
  set_circuit(self, before);
  // First the failed epochs, then the wallets' queued writes may go: a write of a failed epoch
  // that was queued behind the batch is dropped, not committed.
  for (const auto& [wallet, epoch] : report.refused) {
    remember_failed(s, wallet, epoch);
  }
  for (const auto& id : wallets) {
    count_down(s.committing_wallets, id);
  }
}

void on_report(self_ptr self, const committer_actor& committer,
               const std::vector<std::string>& wallets, const commit_report& report) {
  settle(self, wallets, report);
  self->state.idle.push_back(committer);
  retry_parked_loads(self);
  maybe_flush(self);
}

void on_append(self_ptr self, append_request& r) {
  auto& s = self->state;
  const auto failed = s.failed_epochs.find(r.reply_to.address());
  if (failed != s.failed_epochs.end()) {
    if (failed->second >= r.epoch) {
      return;  // its wallet was told this epoch failed and has answered the command
    }
    if (!has_writes(s, r.write.wallet_id)) {
      s.failed_epochs.erase(failed);  // no write of the failed epoch is left to drop
    }
  }
  ++s.queued_wallets[r.write.wallet_id];
  const auto now = steady::now();
  s.queue.push_back(store_state::queued{std::move(r.write),
                                        reply_to{r.epoch, std::move(r.reply_to)}, now,
                                        r.sent == steady::time_point{} ? now : r.sent});
  maybe_flush(self);
}

void load_now(self_ptr self, load_request& r) {
  auto& s = self->state;
  const auto before = s.breaker.state();
  if (!s.breaker.allow(steady::now())) {
    caf::anon_send(r.reply_to, load_result{store_error{store_errc::unavailable, "circuit open"}});
    return;
  }
  auto loaded = s.port->load_wallet(r.wallet_id, r.keys_since, r.bounds);
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

// A read of a wallet's stored state waits while the wallet has writes queued or being committed:
// a wallet reloading (after passivation, or after a failed commit) must see its own last writes,
// and a key may be in one of them (ADR 0017).
template <typename Request>
void read_when_settled(self_ptr self, Request& r, std::vector<Request>& parked,
                       void (*now)(self_ptr, Request&)) {
  if (has_writes(self->state, r.wallet_id)) {
    parked.push_back(std::move(r));
    maybe_flush(self);
    return;
  }
  now(self, r);
}

// The stored record of a key a wallet's evicted-key filter may hold (ADR 0017), under the breaker
// like a load: a failure answers the wallet, which answers its command unavailable.
void look_up_now(self_ptr self, key_lookup_request& r) {
  auto& s = self->state;
  const auto before = s.breaker.state();
  if (!s.breaker.allow(steady::now())) {
    caf::anon_send(r.reply_to,
                   key_looked_up{r.epoch, store_error{store_errc::unavailable, "circuit open"}});
    return;
  }
  auto found = s.port->find_key(r.wallet_id, r.key, r.since);
  if (found.ok()) {
    s.breaker.on_success();
  } else if (found.error().code == store_errc::unavailable) {
    s.breaker.on_failure(steady::now());
  }
  set_circuit(self, before);
  caf::anon_send(r.reply_to, key_looked_up{r.epoch, std::move(found)});
}

// After a dispatch or a report: the loads and lookups whose wallets' writes are all settled now.
void retry_parked_loads(self_ptr self) {
  auto& s = self->state;
  if (!s.parked_loads.empty()) {
    std::vector<load_request> parked;
    parked.swap(s.parked_loads);
    for (auto& r : parked) {
      if (has_writes(s, r.wallet_id)) {
        s.parked_loads.push_back(std::move(r));
      } else {
        load_now(self, r);
      }
    }
  }
  if (!s.parked_lookups.empty()) {
    std::vector<key_lookup_request> parked;
    parked.swap(s.parked_lookups);
    for (auto& r : parked) {
      if (has_writes(s, r.wallet_id)) {
        s.parked_lookups.push_back(std::move(r));
      } else {
        look_up_now(self, r);
      }
    }
  }
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
                                          std::shared_ptr<store_port> port,
                                          std::vector<std::shared_ptr<store_port>> commit_ports) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  s.port = std::move(port);
  s.breaker = circuit_breaker{s.ctx->settings.circuit};
  if (commit_ports.empty()) {
    s.inline_committer = std::make_unique<committer_state>();
    s.inline_committer->ctx = s.ctx;
    s.inline_committer->port = s.port;
  }
  // Linked: a committer that dies (a port that throws, which it promises not to) takes the store
  // with it, and the supervisor reports the store's failure.
  for (auto& p : commit_ports) {
    s.idle.push_back(
        self->spawn<caf::detached + caf::linked>(committer_behavior, s.ctx, std::move(p)));
  }
  self->delayed_send(self, s.ctx->settings.recovery_scan_interval, scan_atom::value);
  return {
      [self](append_request& r) { on_append(self, r); },
      [self](load_request& r) { read_when_settled(self, r, self->state.parked_loads, load_now); },
      [self](key_lookup_request& r) {
        read_when_settled(self, r, self->state.parked_lookups, look_up_now);
      },
      [self](flush_atom) {
        self->state.flush_scheduled = false;
        if (can_commit(self->state)) {
          dispatch(self);
        }
      },
      [self](scan_atom) { scan(self); },
  };
}

}  // namespace

store_actor spawn_store(caf::actor_system& system, context_ptr ctx,
                        std::shared_ptr<store_port> port,
                        std::vector<std::shared_ptr<store_port>> commit_ports) {
  return system.spawn<caf::detached>(store_behavior, std::move(ctx), std::move(port),
                                     std::move(commit_ports));
}

}  // namespace wallet::actors
