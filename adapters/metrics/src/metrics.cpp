// The metrics adapter: Prometheus families, the probes that record into them, and the exposer.
#include "wallet/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <utility>
#include <variant>
#include <vector>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/command.hpp"
#include "wallet/engine/event.hpp"
#include "wallet/engine/rejection.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::metrics {

namespace {

// What a label value falls back to when a probe hands over a text outside its fixed set: the
// series stays bounded and the surprise stays visible.
constexpr std::string_view other = "other";

using counter_family = prometheus::Family<prometheus::Counter>;

// One counter per value of one label, all created up front (so each series exists from start-up,
// at 0, and rate() works from the first scrape); unknown values count under "other".
class labelled_counters {
 public:
  labelled_counters(counter_family& family, const prometheus::Labels& fixed,
                    const std::string& label, const std::vector<std::string>& values) {
    for (const std::string& value : values) {
      prometheus::Labels labels = fixed;
      labels[label] = value;
      counters_.emplace(value, &family.Add(labels));
    }
    if (!counters_.contains(other)) {
      prometheus::Labels labels = fixed;
      labels[label] = std::string{other};
      counters_.emplace(std::string{other}, &family.Add(labels));
    }
  }

  [[nodiscard]] prometheus::Counter& at(std::string_view value) const {
    auto it = counters_.find(value);
    if (it == counters_.end()) it = counters_.find(other);
    WALLET_ASSERT(it != counters_.end());
    return *it->second;
  }

 private:
  std::map<std::string, prometheus::Counter*, std::less<>> counters_;
};

template <std::size_t... I>
std::vector<std::string> command_names(std::index_sequence<I...> /*unused*/) {
  return {std::string{engine::command_name(engine::command_body{std::in_place_index<I>})}...};
}

std::vector<std::string> command_names() {
  return command_names(std::make_index_sequence<std::variant_size_v<engine::command_body>>{});
}

// Every submit_errc by its name. to_string answers "unknown" past the last enumerator.
std::vector<std::string> submit_errc_names() {
  std::vector<std::string> names;
  for (unsigned e = 0; e <= 0xff; ++e) {
    const std::string_view name = actors::to_string(static_cast<actors::submit_errc>(e));
    if (name == "unknown") break;
    names.emplace_back(name);
  }
  return names;
}

std::vector<std::string> rejection_codes() {
  std::vector<std::string> codes;
  for (unsigned r = 1; r <= engine::rejection_count; ++r) {
    codes.emplace_back(engine::code(static_cast<engine::rejection>(r)));
  }
  return codes;
}

std::vector<std::string> outcome_names() {
  std::vector<std::string> names{"accepted", "rejected"};
  for (std::string& e : submit_errc_names()) names.push_back(std::move(e));
  return names;
}

std::vector<std::string> joined(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// The runtime names each answered command (engine::command_name); an event name is accepted too
// and counted under the command that appends that event, so a command's outcomes share one label
// value whichever name a probe caller uses.
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> command_of_event{{
    {"wallet_opened", "open_wallet"},
    {"deposited", "deposit"},
    {"withdrawn", "withdraw"},
    {"transfer_debited", "transfer_debit"},
    {"transfer_credited", "transfer_credit"},
    {"transfer_reversed", "transfer_reversal"},
    {"hold_placed", "hold_place"},
    {"hold_captured", "hold_capture"},
    {"hold_released", "hold_release"},
    {"hold_expired", "hold_expire"},
    {"wallet_frozen", "freeze"},
    {"wallet_unfrozen", "unfreeze"},
    {"wallet_closed", "close_wallet"},
    {"kyc_level_set", "set_kyc_level"},
}};
static_assert(command_of_event.size() == std::variant_size_v<engine::event_body>);

std::string_view outcome_name(const actors::submit_outcome& o) noexcept {
  if (o.error) return actors::to_string(*o.error);
  return o.result.rejected ? "rejected" : "accepted";
}

prometheus::Histogram::BucketBoundaries batch_writes_buckets() {
  prometheus::Histogram::BucketBoundaries bounds;
  for (std::size_t b = 1; b <= batch_writes_bucket_max; b *= 2) {
    bounds.push_back(static_cast<double>(b));
  }
  return bounds;
}

prometheus::Histogram::BucketBoundaries commit_seconds_buckets() {
  // 1-2.5-5 steps: fine where commits usually are, coarse where only trouble goes. Written out:
  // computed bounds pick up rounding noise that shows in every `le` label.
  prometheus::Histogram::BucketBoundaries bounds{0.000'5, 0.001, 0.002'5, 0.005, 0.01, 0.025,
                                                 0.05,    0.1,   0.25,    0.5,   1.0,  2.5};
  WALLET_ASSERT(bounds.front() == commit_seconds_bucket_min);
  WALLET_ASSERT(bounds.back() == commit_seconds_bucket_max);
  return bounds;
}

std::string shard_label(std::uint32_t shard) { return std::to_string(shard); }

counter_family& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& r, const std::string& name,
                                             const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Histogram>& histogram(prometheus::Registry& r,
                                                     const std::string& name,
                                                     const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

}  // namespace

struct registry::families {
  explicit families(prometheus::Registry& r);

  // Commands: one labelled_counters (by outcome) per command name.
  std::map<std::string, labelled_counters, std::less<>> commands;
  labelled_counters rejections;

  // Store and runtime.
  counter_family& store_batches;
  prometheus::Histogram& batch_writes;
  prometheus::Histogram& commit_seconds;
  prometheus::Histogram& store_wait_seconds;
  prometheus::Family<prometheus::Gauge>& circuit_state;
  prometheus::Family<prometheus::Gauge>& wallets_resident;
  prometheus::Family<prometheus::Gauge>& wallets_dormant;
  counter_family& load_failures;
  counter_family& gave_up;
  labelled_counters actor_failures;
  labelled_counters saga_leg_failures;
  counter_family& scan_failures;
  labelled_counters aml_reviews;
  prometheus::Counter& keys_evicted;
  labelled_counters key_lookups;

  // NATS.
  labelled_counters dead_letters;
  labelled_counters deferred;
  prometheus::Counter& redeliveries;
  prometheus::Histogram& command_delivery_seconds;
  prometheus::Histogram& command_engine_seconds;
  labelled_counters nats_answered;
  labelled_counters nats_failures;
  counter_family& events_published;
  labelled_counters outbox_takes;
  labelled_counters outbox_events_taken;
  labelled_counters publish_failures;
  labelled_counters query_failures;

  // Compliance files: one labelled_counters (by result) per file.
  std::map<std::string, labelled_counters, std::less<>> compliance_reloads;
  // Audit records of walletd's own that could not be written yet (retried; docs/compliance.md).
  prometheus::Counter* audit_write_failures = nullptr;
};

registry::families::families(prometheus::Registry& r)
    : rejections{counter(r, "wallet_rejections_total",
                         "Commands decided as a business rejection, by rejection code."),
                 {},
                 "code",
                 rejection_codes()},
      store_batches{counter(r, "wallet_store_batches_total",
                            "Store batches by shard and result (committed or failed).")},
      batch_writes{
          histogram(r, "wallet_store_batch_writes", "Wallet writes per committed store batch.")
              .Add({}, batch_writes_buckets())},
      commit_seconds{
          histogram(r, "wallet_store_commit_seconds", "Time to commit one store batch, in seconds.")
              .Add({}, commit_seconds_buckets())},
      store_wait_seconds{histogram(r, "wallet_store_wait_seconds",
                                   "Time from a wallet's write to the start of the commit of the "
                                   "store batch that holds it, in seconds.")
                             .Add({}, commit_seconds_buckets())},
      circuit_state{gauge(r, "wallet_circuit_state",
                          "Database circuit breaker per shard: 0 closed, 1 half-open, 2 open.")},
      wallets_resident{gauge(r, "wallet_wallets_resident", "Wallets in memory, per shard.")},
      wallets_dormant{gauge(r, "wallet_wallets_dormant",
                            "Resident wallets kept dormant (state, no actor), per shard.")},
      load_failures{counter(r, "wallet_wallet_load_failures_total",
                            "Wallet loads from the database that failed, by shard and error.")},
      gave_up{counter(r, "wallet_wallets_given_up_total",
                      "Wallet actors stopped after spending their restart budget, by shard.")},
      actor_failures{counter(r, "wallet_actor_failures_total",
                             "Store, router or saga actors that died (walletd exits), by kind."),
                     {},
                     "kind",
                     {"store", "router", "saga"}},
      saga_leg_failures{
          counter(r, "wallet_saga_leg_failures_total",
                  "Transfer legs that failed and will be retried, by why (a refusal or a "
                  "rejection code)."),
          {},
          "why",
          joined({submit_errc_names(), rejection_codes()})},
      scan_failures{
          counter(r, "wallet_recovery_scan_failures_total",
                  "Recovery scans (pending transfers, due holds) that failed, by shard.")},
      aml_reviews{
          counter(r, "wallet_aml_reviews_total",
                  "AML reviews committed: opened, and ended approved, rejected or expired."),
          {},
          "event",
          {"opened", "approved", "rejected", "expired"}},
      keys_evicted{counter(r, "wallet_idempotency_keys_evicted_total",
                           "Idempotency records that left a wallet's resident window for its "
                           "evicted-key filter (ADR 0017).")
                       .Add({})},
      key_lookups{counter(r, "wallet_idempotency_key_lookups_total",
                          "Database lookups of keys a wallet's evicted-key filter may hold, by "
                          "outcome: found (a repeat), absent (a new key), failed (answered "
                          "unavailable)."),
                  {},
                  "outcome",
                  {"found", "absent", "failed"}},
      dead_letters{
          counter(r, "wallet_nats_dead_letters_total",
                  "Commands moved to the dead-letter subject, by reason."),
          {},
          "reason",
          joined({{"too_large", "deliveries_exceeded", "subject_mismatch", "not_system_key",
                   std::string{nats::to_string(nats::decode_errc::malformed)},
                   std::string{nats::to_string(nats::decode_errc::invalid)}},
                  submit_errc_names()})},
      deferred{counter(r, "wallet_nats_deferred_total",
                       "Commands NAKed for a later redelivery, by refusal."),
               {},
               "why",
               submit_errc_names()},
      redeliveries{
          counter(r, "wallet_nats_redeliveries_total", "Command messages delivered more than once.")
              .Add({})},
      command_delivery_seconds{
          histogram(r, "wallet_nats_command_delivery_seconds",
                    "Time from JetStream storing a command to the consumer taking it, in seconds "
                    "(the server's clock against walletd's).")
              .Add({}, commit_seconds_buckets())},
      command_engine_seconds{histogram(r, "wallet_nats_command_engine_seconds",
                                       "Time from the consumer taking a command to the engine's "
                                       "outcome (after its commit), in seconds.")
                                 .Add({}, commit_seconds_buckets())},
      nats_answered{counter(r, "wallet_nats_commands_total",
                            "Commands taken from NATS and answered, by outcome."),
                    {},
                    "outcome",
                    outcome_names()},
      nats_failures{counter(r, "wallet_nats_failures_total",
                            "NATS calls that failed, by call (fetch, ack, reply, publish, "
                            "dead_letter, leg, other)."),
                    {},
                    "what",
                    {"fetch", "ack", "reply", "publish", "dead_letter", "leg"}},
      events_published{counter(r, "wallet_events_published_total",
                               "Events published from the outbox to JetStream, by shard.")},
      outbox_takes{counter(r, "wallet_outbox_takes_total",
                           "Where the outbox publisher took committed events from: reads of the "
                           "outbox in PostgreSQL (source database, also those that found none), or "
                           "takes from the stores' in-memory hand-off that gave events (source "
                           "memory; ADR 0015)."),
                   {},
                   "source",
                   {"database", "memory"}},
      outbox_events_taken{counter(r, "wallet_outbox_events_taken_total",
                                  "Events the outbox publisher took, by source (database: read "
                                  "back from PostgreSQL, memory: the stores' hand-off; ADR 0015)."),
                          {},
                          "source",
                          {"database", "memory"}},
      publish_failures{counter(r, "wallet_event_publish_failures_total",
                               "Outbox publisher failures, by stage (outbox_read, publish, "
                               "outbox_cursor, database, order: an event stored after an "
                               "earlier one of its wallet failed, other)."),
                       {},
                       "stage",
                       {"outbox_read", "publish", "outbox_cursor", "database", "order"}},
      query_failures{counter(r, "wallet_query_failures_total",
                             "Wallet queries over NATS that failed, by what (reply, database, "
                             "other)."),
                     {},
                     "what",
                     {"reply", "database"}} {
  auto& family = counter(r, "wallet_commands_total",
                         "Commands answered by the runtime, by command and outcome (accepted, "
                         "rejected, or why it was not decided).");
  const std::vector<std::string> outcomes = outcome_names();
  for (const std::string& name : joined({command_names(), {"replay", std::string{other}}})) {
    commands.emplace(
        std::piecewise_construct, std::forward_as_tuple(name),
        std::forward_as_tuple(family, prometheus::Labels{{"command", name}}, "outcome", outcomes));
  }
  auto& reloads = counter(r, "wallet_compliance_reloads_total",
                          "Loads of the compliance files by file (policy, flags) and result "
                          "(loaded, or refused: the previous value stays).");
  for (const std::string file : {"policy", "flags", "other"}) {
    compliance_reloads.emplace(
        std::piecewise_construct, std::forward_as_tuple(file),
        std::forward_as_tuple(reloads, prometheus::Labels{{"file", file}}, "result",
                              std::vector<std::string>{"loaded", "refused"}));
  }
  audit_write_failures = &counter(r, "wallet_audit_write_failures_total",
                                  "Attempts to write an audit record of walletd's own (a "
                                  "compliance file load or reload) that failed; the record is "
                                  "kept and retried.")
                              .Add({});
}

registry::registry()
    : registry_{std::make_shared<prometheus::Registry>()},
      families_{std::make_unique<families>(*registry_)} {}

registry::~registry() = default;

const std::shared_ptr<prometheus::Registry>& registry::prometheus_registry() const noexcept {
  return registry_;
}

// ----------------------------------------------------------------------------------------------
// runtime_metrics

runtime_metrics::runtime_metrics(std::shared_ptr<registry> r) : registry_{std::move(r)} {
  WALLET_ASSERT(registry_ != nullptr);
}

void runtime_metrics::batch_committed(std::uint32_t shard, std::size_t writes,
                                      std::chrono::microseconds latency) {
  auto& f = *registry_->families_;
  f.store_batches.Add({{"shard", shard_label(shard)}, {"result", "committed"}}).Increment();
  f.batch_writes.Observe(static_cast<double>(writes));
  f.commit_seconds.Observe(std::chrono::duration<double>(latency).count());
}

void runtime_metrics::write_waited(std::uint32_t /*shard*/, std::chrono::microseconds waited) {
  registry_->families_->store_wait_seconds.Observe(std::chrono::duration<double>(waited).count());
}

void runtime_metrics::batch_failed(std::uint32_t shard, std::size_t /*writes*/,
                                   const actors::store_error& /*error*/) {
  registry_->families_->store_batches.Add({{"shard", shard_label(shard)}, {"result", "failed"}})
      .Increment();
}

void runtime_metrics::circuit_changed(std::uint32_t shard, actors::circuit_state state) {
  // Ordered by how bad it is, so that max() over shards and alerts on "> 0" read naturally.
  double value = 0.0;
  switch (state) {
    case actors::circuit_state::closed:
      value = 0.0;
      break;
    case actors::circuit_state::half_open:
      value = 1.0;
      break;
    case actors::circuit_state::open:
      value = 2.0;
      break;
  }
  registry_->families_->circuit_state.Add({{"shard", shard_label(shard)}}).Set(value);
}

void runtime_metrics::command_answered(std::string_view command,
                                       const actors::submit_outcome& outcome) {
  auto& f = *registry_->families_;
  const std::string_view name = command_name_of(command);
  auto it = f.commands.find(name);
  if (it == f.commands.end()) it = f.commands.find(other);
  it->second.at(outcome_name(outcome)).Increment();
  if (!outcome.error && outcome.result.rejected) {
    f.rejections.at(engine::code(*outcome.result.rejected)).Increment();
  }
}

void runtime_metrics::wallet_load_failed(std::uint32_t shard, const actors::store_error& error) {
  registry_->families_->load_failures
      .Add({{"shard", shard_label(shard)}, {"error", std::string{actors::to_string(error.code)}}})
      .Increment();
}

void runtime_metrics::wallet_gave_up(std::uint32_t shard, const actors::store_error& /*error*/) {
  registry_->families_->gave_up.Add({{"shard", shard_label(shard)}}).Increment();
}

void runtime_metrics::actor_failed(std::string_view kind, std::uint32_t /*shard*/,
                                   std::string_view /*reason*/) {
  registry_->families_->actor_failures.at(kind).Increment();
}

void runtime_metrics::wallets_resident(std::uint32_t shard, std::size_t count) {
  registry_->families_->wallets_resident.Add({{"shard", shard_label(shard)}})
      .Set(static_cast<double>(count));
}

void runtime_metrics::wallets_dormant(std::uint32_t shard, std::size_t count) {
  registry_->families_->wallets_dormant.Add({{"shard", shard_label(shard)}})
      .Set(static_cast<double>(count));
}

void runtime_metrics::saga_leg_failed(std::string_view /*transfer_id*/, std::string_view why) {
  registry_->families_->saga_leg_failures.at(why).Increment();
}

void runtime_metrics::scan_failed(std::uint32_t shard, const actors::store_error& /*error*/) {
  registry_->families_->scan_failures.Add({{"shard", shard_label(shard)}}).Increment();
}

void runtime_metrics::keys_evicted(std::uint32_t /*shard*/, std::size_t count) {
  registry_->families_->keys_evicted.Increment(static_cast<double>(count));
}

void runtime_metrics::key_lookup(std::uint32_t /*shard*/, std::string_view outcome,
                                 const actors::store_error* /*error*/) {
  registry_->families_->key_lookups.at(outcome).Increment();
}

void runtime_metrics::aml_review(std::string_view event, std::string_view /*wallet_id*/,
                                 std::string_view /*review_id*/) {
  registry_->families_->aml_reviews.at(event).Increment();
}

std::string_view command_name_of(std::string_view answered) noexcept {
  for (const auto& [event, command] : command_of_event) {
    if (answered == event) return command;
  }
  return answered;
}

// ----------------------------------------------------------------------------------------------
// NATS probes

std::string_view nats_failure_kind(std::string_view message) noexcept {
  // The leading words are the adapter's own fixed texts (client.cpp's failure(doing, status));
  // what follows them (subjects, server texts) never reaches a label.
  if (message.starts_with("fetching")) return "fetch";
  if (message.starts_with("acking") || message.starts_with("NAKing")) return "ack";
  if (message.starts_with("replying")) return "reply";
  if (message.starts_with("publishing")) return "publish";
  if (message.starts_with("terminating a dead-lettered") ||
      message.starts_with("creating a dead letter")) {
    return "dead_letter";
  }
  return other;
}

consumer_metrics::consumer_metrics(std::shared_ptr<registry> r) : registry_{std::move(r)} {
  WALLET_ASSERT(registry_ != nullptr);
}

void consumer_metrics::dead_lettered(std::string_view reason, std::string_view /*detail*/) {
  registry_->families_->dead_letters.at(reason).Increment();
}

void consumer_metrics::deferred(std::string_view why) {
  registry_->families_->deferred.at(why).Increment();
}

void consumer_metrics::redelivered(std::uint64_t /*deliveries*/) {
  registry_->families_->redeliveries.Increment();
}

void consumer_metrics::answered(const actors::submit_outcome& outcome) {
  registry_->families_->nats_answered.at(outcome_name(outcome)).Increment();
}

void consumer_metrics::taken(std::chrono::nanoseconds since_stored) {
  registry_->families_->command_delivery_seconds.Observe(
      std::chrono::duration<double>(since_stored).count());
}

void consumer_metrics::decided(std::chrono::nanoseconds since_taken) {
  registry_->families_->command_engine_seconds.Observe(
      std::chrono::duration<double>(since_taken).count());
}

void consumer_metrics::failed(std::string_view what) {
  std::string_view kind = nats_failure_kind(what);
  // The consumer stores nothing but dead letters (outcomes go out as core NATS replies), so its
  // failed stored publish is a dead letter that could not be kept.
  if (kind == "publish") kind = "dead_letter";
  registry_->families_->nats_failures.at(kind).Increment();
}

publisher_metrics::publisher_metrics(std::shared_ptr<registry> r) : registry_{std::move(r)} {
  WALLET_ASSERT(registry_ != nullptr);
}

void publisher_metrics::published(std::uint32_t shard, std::size_t events) {
  registry_->families_->events_published.Add({{"shard", shard_label(shard)}})
      .Increment(static_cast<double>(events));
}

void publisher_metrics::taken(std::uint32_t /*shard*/, nats::outbox_source source,
                              std::size_t events) {
  auto& f = *registry_->families_;
  const std::string_view name = source == nats::outbox_source::memory ? "memory" : "database";
  f.outbox_takes.at(name).Increment();
  f.outbox_events_taken.at(name).Increment(static_cast<double>(events));
}

void publisher_metrics::failed(std::string_view what) {
  auto& f = *registry_->families_;
  std::string_view stage = other;
  if (what.starts_with("reading the outbox")) {
    stage = "outbox_read";
  } else if (what.starts_with("publishing") || what.starts_with("creating an event message")) {
    stage = "publish";
    f.nats_failures.at("publish").Increment();
  } else if (what.starts_with("moving the outbox cursor")) {
    stage = "outbox_cursor";
  } else if (what.starts_with("connecting to PostgreSQL")) {
    stage = "database";
  } else if (what.starts_with("event order broken")) {
    stage = "order";
  }
  f.publish_failures.at(stage).Increment();
}

query_metrics::query_metrics(std::shared_ptr<registry> r) : registry_{std::move(r)} {
  WALLET_ASSERT(registry_ != nullptr);
}

void query_metrics::failed(std::string_view what) {
  // Besides a failed reply and its own stop, the service reports only database errors (their
  // texts vary: connecting, or the read's detail).
  std::string_view kind = "database";
  if (what.starts_with("answering")) {
    kind = "reply";
  } else if (what.starts_with("a query was still running")) {
    kind = other;
  }
  registry_->families_->query_failures.at(kind).Increment();
}

compliance_metrics::compliance_metrics(std::shared_ptr<registry> r) : registry_{std::move(r)} {
  WALLET_ASSERT(registry_ != nullptr);
}

void compliance_metrics::reloaded(std::string_view file, bool loaded) {
  auto& reloads = registry_->families_->compliance_reloads;
  auto it = reloads.find(file);
  if (it == reloads.end()) it = reloads.find(other);
  WALLET_ASSERT(it != reloads.end());
  it->second.at(loaded ? "loaded" : "refused").Increment();
}

void compliance_metrics::audit_write_failed() {
  registry_->families_->audit_write_failures->Increment();
}

leg_metrics::leg_metrics(std::shared_ptr<registry> r) : registry_{std::move(r)} {
  WALLET_ASSERT(registry_ != nullptr);
}

void leg_metrics::failed(std::string_view /*what*/) {
  registry_->families_->nats_failures.at("leg").Increment();
}

// ----------------------------------------------------------------------------------------------
// exposer

engine::result<std::unique_ptr<exposer>, exposer_error> exposer::start(std::shared_ptr<registry> r,
                                                                       std::string_view address,
                                                                       std::uint16_t port) {
  WALLET_ASSERT(r != nullptr);
  // civetweb wants IPv6 literals in brackets.
  const bool ipv6 = address.find(':') != std::string_view::npos;
  const std::string bind =
      (ipv6 ? "[" + std::string{address} + "]" : std::string{address}) + ":" + std::to_string(port);
  std::unique_ptr<prometheus::Exposer> e;
  try {
    // Two threads: a scrape is rare and quick; a second keeps one slow client from blocking.
    e = std::make_unique<prometheus::Exposer>(bind, 2);
  } catch (const std::exception& ex) {
    // civetweb throws when it cannot listen (the port is taken, the address is not local).
    return exposer_error{"cannot serve metrics on " + bind + ": " + ex.what()};
  }
  const std::vector<int> ports = e->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0 || ports.front() > 0xffff) {
    return exposer_error{"cannot serve metrics on " + bind + ": no listening port"};
  }
  e->RegisterCollectable(r->prometheus_registry());
  const auto bound = static_cast<std::uint16_t>(ports.front());
  return std::unique_ptr<exposer>{new exposer{std::move(r), std::move(e), bound}};
}

exposer::exposer(std::shared_ptr<registry> r, std::unique_ptr<prometheus::Exposer> e,
                 std::uint16_t port)
    : registry_{std::move(r)}, exposer_{std::move(e)}, port_{port} {}

exposer::~exposer() = default;

}  // namespace wallet::metrics
