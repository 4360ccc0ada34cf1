// The wallet actor: decide and apply at once (so the next command sees the result), persist through
// the shard's store, answer each command only after its write is committed.
#include <list>
#include <optional>
#include <set>

#include "screening_worker.hpp"
#include "shard_context.hpp"
#include "wallet/actors/system_keys.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/overloaded.hpp"
#include "wallet/engine/review.hpp"
#include "wallet/engine/screening.hpp"
#include "wallet/engine/shard.hpp"

namespace wallet::actors {

namespace {

// A command decided but not yet answered.
struct pending {
  completion done;
  submit_outcome outcome;
  bool write = false;  // waits for its own write; otherwise only for the writes before it
  std::optional<transfer_record> saga;  // a debit whose saga starts once committed
  std::string_view command;             // engine::command_name: a static string
  // An AML review this write opens or ends (ADR 0009), reported once committed: "opened",
  // "approved", "rejected", "expired" (static strings); empty for any other write.
  std::string_view review_event;
  std::string review_id;
};

}  // namespace

struct wallet_actor_state {
  std::string id;
  std::uint64_t generation = 0;
  context_ptr ctx;
  std::optional<engine::wallet_aggregate> wallet;  // empty while loading
  // Lists, not deques: an empty std::deque still holds about 600 bytes (its map and a first
  // block), and most of a million resident wallets are idle with both queues empty.
  std::list<submission> waiting;  // arrived while loading
  std::list<pending> inflight;    // in commit order
  std::uint64_t epoch = 0;        // bumped on every failed commit: older acks are stale
  std::uint64_t answered = 0;     // commands answered, reported to the router when idle
  std::set<std::string> timers;   // holds with an expiry timer scheduled
  restart_budget restarts{backoff_settings{}};  // reloads after failed commits
  // AML screening (ADR 0007): the outgoing moves of the window, and the command waiting for its
  // verdict. While it waits, later commands wait in `waiting`: the wallet stays serialized, but
  // the actor keeps taking acks, loads and timers (no CAF worker is blocked).
  engine::outgoing_velocity velocity;
  std::optional<submission> screening;
  std::shared_ptr<const screening_setup> screening_setup_used;  // the setup it was asked under
  screening_request screening_asked;
  std::uint64_t screenings = 0;  // numbers each screening: a late answer is told apart
  // The first command of `waiting` waits for the store's lookup of its key, which the evicted-key
  // filter may hold (ADR 0017); the commands behind it wait in order, as behind a screening. The
  // lookup's answer carries the epoch it was asked in: a failed commit makes it stale.
  bool looking_up = false;

  static constexpr const char* name = "wallet";
};

namespace {

using self_ptr = wallet_actor::stateful_pointer<wallet_actor_state>;

// Every command reaches the wallet through its router, which counts them: `answered` lets the
// router tell when the wallet is idle and may be passivated.
void answer(self_ptr self, const completion& done, submit_outcome outcome,
            std::string_view command) {
  auto& s = self->state;
  s.ctx->probe->command_answered(command, outcome);
  done(std::move(outcome));
  ++s.answered;
}

void report_idle(self_ptr self) {
  auto& s = self->state;
  if (s.inflight.empty() && s.waiting.empty() && !s.screening && !s.looking_up) {
    self->send(s.ctx->actors->routers.at(s.ctx->shard),
               wallet_idle{s.id, s.generation, s.answered});
  }
}

engine::idempotency_bounds bounds_of(const runtime_settings& settings) {
  return engine::idempotency_bounds{
      std::chrono::duration_cast<engine::duration>(settings.idempotency_retention),
      settings.idempotency_keys_resident};
}

void request_load(self_ptr self) {
  auto& s = self->state;
  const engine::timestamp now = s.ctx->clock();
  const engine::timestamp since = now - s.ctx->settings.idempotency_retention;
  load_request request{s.id, since, self};
  request.bounds = bounds_of(s.ctx->settings);
  // With a screening provider installed, the velocity window is rebuilt from the stored events
  // (the flag may be switched on at any time, so whether it is on now does not matter).
  if (const auto setup = s.ctx->compliance->screening(); setup && setup->port) {
    request.outgoing_since = now - setup->rules.velocity_window;
  }
  self->send(s.ctx->store(), std::move(request));
}

void schedule_expiry(self_ptr self, const std::string& hold_id, engine::timestamp expires_at) {
  auto& s = self->state;
  if (!s.timers.insert(hold_id).second) {
    return;
  }
  const auto delay = std::max(expires_at - s.ctx->clock(), engine::duration{0});
  self->delayed_send(self, delay, expire_atom::value, hold_id);
}

// The state a write carries: everything but the holds, which the store derives from events.
engine::wallet_state snapshot(const engine::wallet_state& state) {
  engine::wallet_state out;
  out.id = state.id;
  out.owner = state.owner;
  out.ccy = state.ccy;
  out.balance = state.balance;
  out.held = state.held;
  out.status = state.status;
  out.version = state.version;
  out.overdraft_limit = state.overdraft_limit;
  out.kyc_level = state.kyc_level;
  out.outgoing_day = state.outgoing_day;
  out.outgoing_today = state.outgoing_today;
  return out;
}

std::optional<transfer_record> saga_of(const engine::event& e, const engine::wallet_state& state) {
  const auto* debit = std::get_if<engine::transfer_debited>(&e.body);
  if (debit == nullptr) {
    return std::nullopt;
  }
  return transfer_record{debit->transfer_id,       state.id,
                         debit->destination,       engine::money{debit->amount, state.ccy},
                         transfer_status::pending, e.at};
}

// The outgoing moves the velocity rules count: every withdrawal, transfer debit and hold capture
// appended (a hold is money out only once captured).
void record_outgoing(self_ptr self, const engine::event& e) {
  auto& s = self->state;
  if (const auto* w = std::get_if<engine::withdrawn>(&e.body)) {
    s.velocity.record(e.at, w->amount);
  } else if (const auto* d = std::get_if<engine::transfer_debited>(&e.body)) {
    s.velocity.record(e.at, d->amount);
  } else if (const auto* c = std::get_if<engine::hold_captured>(&e.body); c && c->captured > 0) {
    s.velocity.record(e.at, c->captured);
  }
}

// The AML review an appended event opens or ends (ADR 0009), as the probe names it; empty when
// the event touches no review hold.
using review_ref = std::pair<std::string_view, std::string>;  // (event, review id)
review_ref review_event_of(const engine::event& e) {
  const auto of = [](std::string_view what, const std::string& hold_id) {
    return engine::is_review_hold(hold_id)
               ? review_ref{what, std::string(engine::review_of_hold(hold_id))}
               : review_ref{};
  };
  return std::visit(
      engine::overloaded{
          [&](const engine::hold_placed& x) { return of("opened", x.hold_id); },
          [&](const engine::hold_captured& x) { return of("approved", x.hold_id); },
          [&](const engine::hold_released& x) { return of("rejected", x.hold_id); },
          [&](const engine::hold_expired& x) { return of("expired", x.hold_id); },
          // A transfer's approval debits its review hold (ADR 0009).
          [&](const engine::transfer_debited& x) { return of("approved", x.hold_id); },
          [](const auto&) { return review_ref{}; },
      },
      e.body);
}

// How a screened command is decided: `refused` (aml_denied or aml_unavailable) answers it in
// place of decide; `review_until` holds a withdrawal or transfer for review until then (ADR 0009),
// opened for `reasons`. Neither: decided as it is.
struct screening_result {
  std::optional<engine::rejection> refused;
  std::optional<engine::timestamp> review_until;
  engine::screening_reasons reasons = 0;
};

void decide_now(self_ptr self, submission sub, const screening_result& screened) {
  auto& s = self->state;
  const std::string_view command = engine::command_name(sub.cmd.body);
  // The current values, whole: a reload swaps them between two decisions, never during one.
  const auto policy = s.ctx->compliance->policy();
  const auto flags = s.ctx->compliance->flags();
  const engine::timestamp now = s.ctx->clock();
  const engine::key_check checked =
      sub.key_absent ? engine::key_check::absent_from_store : engine::key_check::unchecked;
  engine::handled h =
      screened.review_until
          ? s.wallet->hold_for_review(sub.cmd, now, *policy, *flags, *screened.review_until,
                                      checked)
          : s.wallet->handle(sub.cmd, now, *policy, *flags, screened.refused, checked);
  if (h.lookup) {
    // decide_one asks the store first: a key the filter may hold is never decided unasked.
    answer(self, sub.done, refused(submit_errc::unavailable), command);
    return;
  }
  if (h.evicted > 0) {
    s.ctx->probe->keys_evicted(s.ctx->shard, h.evicted);
  }

  submit_outcome out;
  out.result = h.result;
  out.replayed = h.replayed;
  out.ccy = s.wallet->state().ccy;
  if (h.replayed || !h.remembered) {
    // Nothing new to write. A replay may repeat a command still in flight: answer it after
    // everything before it has committed.
    if (s.inflight.empty() || !h.replayed) {
      answer(self, sub.done, std::move(out), command);
      return;
    }
    s.inflight.push_back(
        pending{std::move(sub.done), std::move(out), false, std::nullopt, command, {}, {}});
    return;
  }

  const engine::wallet_state& state = s.wallet->state();
  wallet_write write;
  write.wallet_id = s.id;
  write.expected_version = h.appended ? state.version - 1 : state.version;
  write.after = snapshot(state);
  write.idempotency_key = sub.cmd.idempotency_key;
  write.record = h.recorded;
  if (is_administrative(sub.cmd.body) || is_review_decision(sub.cmd)) {
    const audit_context* asked = sub.context.audit ? &*sub.context.audit : nullptr;
    write.audit = audit_of(sub.cmd, asked, sub.context.trace_parent);
  }
  write.command_id = std::move(sub.context.command_id);
  write.trace_parent = std::move(sub.context.trace_parent);
  std::optional<transfer_record> saga;
  review_ref review;
  if (h.appended) {
    review = review_event_of(*h.appended);
    if (review.first == "opened") {
      write.review_reasons = screened.reasons;
      if (const auto* t = std::get_if<engine::transfer_debit>(&sub.cmd.body)) {
        write.review_transfer_id = t->transfer_id;
        write.review_destination = t->destination;
      }
    }
    if (const auto* placed = std::get_if<engine::hold_placed>(&h.appended->body)) {
      schedule_expiry(self, placed->hold_id, placed->expires_at);
    }
    saga = saga_of(*h.appended, state);
    record_outgoing(self, *h.appended);
    write.events.push_back(*h.appended);
    out.event = std::move(h.appended);
  }
  self->send(s.ctx->store(),
             append_request{std::move(write), s.epoch, self, std::chrono::steady_clock::now()});
  s.inflight.push_back(pending{std::move(sub.done), std::move(out), true, std::move(saga), command,
                               review.first, std::move(review.second)});
}

// Starts the screening of `sub` when it needs one (ADR 0007): the aml_screening flag is on, a
// provider is installed, the command is a client's withdrawal or transfer, a rule fires, and
// the engine would accept it now (a repeat or a move refused anyway asks no provider). The
// provider runs on a detached actor of its own; `screened` or the deadline brings the answer.
bool start_screening(self_ptr self, submission& sub) {
  auto& s = self->state;
  const auto setup = s.ctx->compliance->screening();
  const auto flags = s.ctx->compliance->flags();
  const auto amount = engine::screened_amount(sub.cmd.body);
  if (!setup || !setup->port || !flags->aml_screening || sub.internal || !amount) {
    return false;
  }
  const engine::timestamp now = s.ctx->clock();
  s.velocity.expire(now, setup->rules.velocity_window);
  const engine::screening_reasons reasons =
      engine::screening_needed(setup->rules, s.velocity, *amount);
  const engine::key_check checked =
      sub.key_absent ? engine::key_check::absent_from_store : engine::key_check::unchecked;
  if (reasons == 0 ||
      !s.wallet->would_accept(sub.cmd, now, *s.ctx->compliance->policy(), *flags, checked)) {
    return false;
  }
  if (setup->inflight.fetch_add(1, std::memory_order_relaxed) >= setup->inflight_max) {
    setup->inflight.fetch_sub(1, std::memory_order_relaxed);
    answer(self, sub.done, refused(submit_errc::overloaded), engine::command_name(sub.cmd.body));
    return true;
  }
  screening_request request;
  request.wallet_id = s.id;
  request.owner = s.wallet->state().owner;
  request.command = std::string(engine::command_name(sub.cmd.body));
  request.idempotency_key = sub.cmd.idempotency_key;
  if (const auto* t = std::get_if<engine::transfer_debit>(&sub.cmd.body)) {
    request.destination = t->destination;
  }
  request.amount = *amount;
  request.reasons = reasons;
  request.velocity_count = s.velocity.count();
  request.velocity_sum = s.velocity.sum();
  const std::uint64_t id = ++s.screenings;
  spawn_screening(self->home_system(), setup, request, id, self);
  self->delayed_send(self, setup->deadline, screen_deadline_atom::value, id);
  s.screening = std::move(sub);
  s.screening_setup_used = setup;
  s.screening_asked = std::move(request);
  return true;
}

// Asks the store for the record of `sub`'s key, which the evicted-key filter may hold (ADR 0017).
// `sub` waits first in line; the commands behind it wait in order until the answer.
void start_lookup(self_ptr self, submission sub) {
  auto& s = self->state;
  key_lookup_request request{s.id, sub.cmd.idempotency_key,
                             s.ctx->clock() - s.ctx->settings.idempotency_retention, s.epoch, self};
  s.waiting.push_front(std::move(sub));
  s.looking_up = true;
  self->send(s.ctx->store(), std::move(request));
}

void decide_one(self_ptr self, submission sub) {
  auto& s = self->state;
  if (!sub.key_absent && s.wallet->needs_lookup(sub.cmd, s.ctx->clock())) {
    start_lookup(self, std::move(sub));
    return;
  }
  if (!start_screening(self, sub)) {
    decide_now(self, std::move(sub), screening_result{});
  }
}

// Decides what waits, in order, until it is empty or a command waits for its screening or for
// the lookup of its key.
void drain(self_ptr self) {
  auto& s = self->state;
  while (s.wallet && !s.screening && !s.looking_up && !s.waiting.empty()) {
    submission sub = std::move(s.waiting.front());
    s.waiting.pop_front();
    decide_one(self, std::move(sub));
  }
}

// The verdict (or its absence) for screening `id`: decide the command under it, then go on with
// the commands that waited behind it.
void on_screened(self_ptr self, std::uint64_t id, screening_answer answer_in) {
  auto& s = self->state;
  if (!s.screening || id != s.screenings) {
    return;  // the deadline answered it already, or the provider answered after the deadline
  }
  submission sub = std::move(*s.screening);
  s.screening.reset();
  const auto setup = std::move(s.screening_setup_used);
  if (!s.wallet) {
    // A failed commit dropped the state meanwhile: screen it again once reloaded.
    s.waiting.push_front(std::move(sub));
    return;
  }
  screening_result screened;
  if (!answer_in.verdict) {
    const bool allowed = setup->fail_open;
    setup->port->unanswered(s.screening_asked, answer_in.error, allowed);
    if (!allowed) screened.refused = engine::rejection::aml_unavailable;
  } else if (*answer_in.verdict == engine::screening_verdict::review &&
             !std::holds_alternative<engine::hold_place>(sub.cmd.body)) {
    // A withdrawal or transfer is held for an admin's decision (ADR 0009). A hold placement under
    // review is refused like a denial: a merchant's authorization cannot wait for a person.
    screened.review_until =
        s.ctx->clock() + std::chrono::duration_cast<engine::duration>(setup->review_hold);
    screened.reasons = s.screening_asked.reasons;
  } else if (*answer_in.verdict != engine::screening_verdict::allow) {
    screened.refused = engine::rejection::aml_denied;
  }
  decide_now(self, std::move(sub), screened);
  drain(self);
  report_idle(self);
}

void take(self_ptr self, submission sub) {
  auto& s = self->state;
  // The engine's own commands (saga legs, hold expiry) finish work admitted earlier: a hot
  // wallet must not push them back. They are bounded by that work (the transfers in flight,
  // the wallet's holds), not by this limit.
  const std::size_t screening = s.screening ? 1 : 0;
  if (!sub.internal &&
      s.inflight.size() + s.waiting.size() + screening >= s.ctx->settings.wallet_inflight_max) {
    answer(self, sub.done, refused(submit_errc::overloaded), engine::command_name(sub.cmd.body));
    return;
  }
  if (!s.wallet || s.screening || s.looking_up) {
    s.waiting.push_back(std::move(sub));
    return;
  }
  decide_one(self, std::move(sub));
  // A command answered at once (a replay, a transient rejection) leaves the wallet idle with no
  // commit to report it: without this the router would count it busy until its next write, and
  // never passivate it nor let it go dormant.
  report_idle(self);
}

void on_loaded(self_ptr self, load_result& r) {
  auto& s = self->state;
  if (!r.loaded.ok()) {
    // The wallet cannot be served now: answer what waits and stop; the router spawns a fresh
    // actor for the next command.
    s.ctx->probe->wallet_load_failed(s.ctx->shard, r.loaded.error());
    for (auto& sub : s.waiting) {
      answer(self, sub.done, refused(submit_errc::unavailable), engine::command_name(sub.cmd.body));
    }
    s.waiting.clear();
    self->quit();
    return;
  }
  loaded_wallet loaded = std::move(r.loaded).value();
  const engine::idempotency_bounds bounds = bounds_of(s.ctx->settings);
  engine::idempotency_window window;
  window.adopt_evicted(std::move(loaded.evicted));
  for (auto& [key, record] : loaded.keys) {
    if (window.find(key) == nullptr) {
      window.remember(std::move(key), record, bounds);
    }
  }
  s.velocity = engine::outgoing_velocity{};
  for (const outgoing_move& m : loaded.outgoing) {
    s.velocity.record(m.at, m.amount);
  }
  s.wallet.emplace(std::move(loaded.state), std::move(window), bounds);
  for (const auto& [hold_id, hold] : s.wallet->state().holds) {
    schedule_expiry(self, hold_id, hold.expires_at);
  }
  drain(self);
  report_idle(self);
}

void on_ack(self_ptr self, const commit_ack& ack) {
  auto& s = self->state;
  if (ack.epoch != s.epoch) {
    return;  // a write of a failed epoch: already answered as unavailable
  }
  std::size_t count = ack.count;
  while (!s.inflight.empty()) {
    pending& p = s.inflight.front();
    if (p.write) {
      if (count == 0) {
        break;
      }
      --count;
    }
    if (p.saga) {
      self->send(s.ctx->saga(), saga_start{std::move(*p.saga)});
    }
    if (!p.review_event.empty()) {
      s.ctx->probe->aml_review(p.review_event, s.id, p.review_id);
    }
    answer(self, p.done, std::move(p.outcome), p.command);
    s.inflight.pop_front();
  }
  report_idle(self);
}

void on_nack(self_ptr self, const commit_nack& nack) {
  auto& s = self->state;
  if (nack.epoch != s.epoch) {
    return;
  }
  // Nothing uncommitted survives: answer it all as unavailable (a retry with the same key is
  // safe), except a write the database refused itself; forget the in-memory state and reload
  // what the database holds.
  bool culprit = nack.culprit;
  for (auto& p : s.inflight) {
    const bool refused_write = culprit && p.write;
    culprit = culprit && !p.write;
    answer(self, p.done,
           refused(refused_write ? submit_errc::write_refused : submit_errc::unavailable),
           p.command);
  }
  s.inflight.clear();
  ++s.epoch;
  s.wallet.reset();
  s.timers.clear();
  s.looking_up = false;  // its answer is stale now: the command is looked up again once reloaded
  // Restart from the database after a backoff with jitter; past the restart budget, give up:
  // answer what waits and stop (the router spawns a fresh actor for the next command).
  const auto now = std::chrono::steady_clock::now();
  if (!s.restarts.record(now)) {
    s.ctx->probe->wallet_gave_up(s.ctx->shard, nack.error);
    for (auto& sub : s.waiting) {
      answer(self, sub.done, refused(submit_errc::unavailable), engine::command_name(sub.cmd.body));
    }
    s.waiting.clear();
    self->quit();
    return;
  }
  const auto delay =
      backoff_delay(s.ctx->settings.restart, s.restarts.recent() - 1, jitter_random());
  self->delayed_send(self, delay, reload_atom::value);
}

// The router asks an idle wallet to go dormant (ADR 0010). It goes only when nothing depends on
// the actor: loaded, nothing waiting, in flight or screened, and no hold (whose expiry needs a
// timer). It hands over its state and stops; the router sends it nothing more once it has asked,
// so no command can reach the stopped actor. Otherwise it declines and goes on as before.
void on_dormant(self_ptr self) {
  auto& s = self->state;
  const auto& router = s.ctx->actors->routers.at(s.ctx->shard);
  const bool can_sleep = s.wallet && s.inflight.empty() && s.waiting.empty() && !s.screening &&
                         !s.looking_up && s.timers.empty() && s.wallet->state().holds.empty();
  if (!can_sleep) {
    self->send(router, wallet_dormant{s.id, s.generation, nullptr});
    return;
  }
  auto kept =
      std::make_shared<dormant_wallet>(dormant_wallet{std::move(*s.wallet), std::move(s.velocity)});
  s.wallet.reset();
  self->send(router, wallet_dormant{s.id, s.generation, std::move(kept)});
  self->quit();
}

// The store's answer to the lookup of the first waiting command's key (ADR 0017): a record answers
// it as the repeat it is, nothing applied; none decides it as new; a failure answers it
// unavailable (the sender retries; a possible repeat is never applied). Then what waits behind it.
void on_key_looked_up(self_ptr self, key_looked_up& r) {
  auto& s = self->state;
  if (!s.looking_up || r.epoch != s.epoch || !s.wallet) {
    return;  // stale: a failed commit dropped the state, and the command is asked for again
  }
  s.looking_up = false;
  submission sub = std::move(s.waiting.front());
  s.waiting.pop_front();
  const std::string_view command = engine::command_name(sub.cmd.body);
  if (!r.found.ok()) {
    s.ctx->probe->key_lookup(s.ctx->shard, "failed", &r.found.error());
    answer(self, sub.done, refused(submit_errc::unavailable), command);
  } else if (const auto& stored = r.found.value()) {
    s.ctx->probe->key_lookup(s.ctx->shard, "found", nullptr);
    const engine::handled h = s.wallet->recall(sub.cmd, *stored);
    submit_outcome out;
    out.result = h.result;
    out.replayed = h.replayed;
    out.ccy = s.wallet->state().ccy;
    if (s.inflight.empty()) {
      answer(self, sub.done, std::move(out), command);
    } else {
      // Answered in order, after the writes decided before it.
      s.inflight.push_back(
          pending{std::move(sub.done), std::move(out), false, std::nullopt, command, {}, {}});
    }
  } else {
    s.ctx->probe->key_lookup(s.ctx->shard, "absent", nullptr);
    sub.key_absent = true;
    decide_one(self, std::move(sub));
  }
  drain(self);
  report_idle(self);
}

void on_expiry_timer(self_ptr self, const std::string& hold_id) {
  auto& s = self->state;
  s.timers.erase(hold_id);
  if (!s.wallet) {
    return;  // reloading: the reload schedules the timers again
  }
  const auto& holds = s.wallet->state().holds;
  const auto it = holds.find(hold_id);
  if (it == holds.end()) {
    return;
  }
  if (s.ctx->clock() < it->second.expires_at) {
    schedule_expiry(self, hold_id, it->second.expires_at);  // the timer ran early
    return;
  }
  // Through the router like every command, so that it knows this wallet is busy.
  engine::command cmd{s.id, expiry_key(hold_id, it->second.expires_at),
                      engine::hold_expire{hold_id}};
  self->send(s.ctx->actors->routers.at(s.ctx->shard),
             submission{std::move(cmd), completion{[](const submit_outcome&) {}}, true, {}});
}

}  // namespace

namespace {

wallet_actor::behavior_type wallet_behavior(self_ptr self, std::string wallet_id,
                                            std::uint64_t generation, context_ptr ctx,
                                            const std::shared_ptr<dormant_wallet>& woken) {
  auto& s = self->state;
  s.id = std::move(wallet_id);
  s.generation = generation;
  s.ctx = std::move(ctx);
  s.restarts = restart_budget{s.ctx->settings.restart};
  if (woken) {
    // Woken from dormancy: the kept state is what the store holds (it went dormant idle, every
    // write committed), so no load. It had no hold then, so no timer to schedule.
    s.wallet.emplace(std::move(woken->wallet));
    s.velocity = std::move(woken->velocity);
  } else {
    request_load(self);
  }
  return {
      [self](submission& sub) { take(self, std::move(sub)); },
      [self](load_result& r) { on_loaded(self, r); },
      [self](const commit_ack& ack) { on_ack(self, ack); },
      [self](const commit_nack& nack) { on_nack(self, nack); },
      [self](passivate_atom) { self->quit(); },
      [self](dormant_atom) { on_dormant(self); },
      [self](reload_atom) { request_load(self); },
      [self](expire_atom, const std::string& hold_id) { on_expiry_timer(self, hold_id); },
      [self](screened& r) { on_screened(self, r.id, std::move(r.answer)); },
      [self](key_looked_up& r) { on_key_looked_up(self, r); },
      [self](screen_deadline_atom, std::uint64_t id) {
        on_screened(self, id, screening_answer{std::nullopt, "no verdict within aml.deadline_ms"});
      },
  };
}

}  // namespace

wallet_actor spawn_wallet(caf::actor_system& system, std::string wallet_id,
                          std::uint64_t generation, context_ptr ctx,
                          std::shared_ptr<dormant_wallet> woken) {
  return system.spawn(wallet_behavior, std::move(wallet_id), generation, std::move(ctx),
                      std::move(woken));
}

}  // namespace wallet::actors
