// Builds the shards (store, router, saga per shard), admits commands, and stops cleanly.
#include "wallet/actors/runtime.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "shard_context.hpp"
#include "wallet/actors/system_keys.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::actors {

namespace {

// Records every shard's circuit state for readiness, then tells the application's probe.
class circuit_watch final : public runtime_probe {
 public:
  circuit_watch(std::shared_ptr<runtime_probe> inner, std::uint32_t shards)
      : inner_(std::move(inner)), states_(shards) {}

  [[nodiscard]] circuit_state worst() const noexcept {
    auto worst = circuit_state::closed;
    for (const auto& s : states_) {
      const auto state = static_cast<circuit_state>(s.load(std::memory_order_relaxed));
      if (state == circuit_state::open ||
          (state == circuit_state::half_open && worst == circuit_state::closed)) {
        worst = state;
      }
    }
    return worst;
  }

  void circuit_changed(std::uint32_t shard, circuit_state state) override {
    states_.at(shard).store(static_cast<std::uint8_t>(state), std::memory_order_relaxed);
    inner_->circuit_changed(shard, state);
  }
  void batch_committed(std::uint32_t shard, std::size_t writes,
                       std::chrono::microseconds latency) override {
    inner_->batch_committed(shard, writes, latency);
  }
  void write_waited(std::uint32_t shard, std::chrono::microseconds waited) override {
    inner_->write_waited(shard, waited);
  }
  void batch_failed(std::uint32_t shard, std::size_t writes, const store_error& error) override {
    inner_->batch_failed(shard, writes, error);
  }
  void command_answered(std::string_view command, const submit_outcome& outcome) override {
    inner_->command_answered(command, outcome);
  }
  void wallet_load_failed(std::uint32_t shard, const store_error& error) override {
    inner_->wallet_load_failed(shard, error);
  }
  void wallet_gave_up(std::uint32_t shard, const store_error& error) override {
    inner_->wallet_gave_up(shard, error);
  }
  void actor_failed(std::string_view kind, std::uint32_t shard, std::string_view reason) override {
    {
      std::lock_guard lock{mutex_};
      if (!failure_) {
        failure_ = std::string{kind} + " actor of shard " + std::to_string(shard) +
                   " died: " + std::string{reason};
      }
    }
    inner_->actor_failed(kind, shard, reason);
  }
  [[nodiscard]] std::optional<std::string> failure() const {
    std::lock_guard lock{mutex_};
    return failure_;
  }
  void aml_review(std::string_view event, std::string_view wallet_id,
                  std::string_view review_id) override {
    inner_->aml_review(event, wallet_id, review_id);
  }
  void wallets_resident(std::uint32_t shard, std::size_t count) override {
    inner_->wallets_resident(shard, count);
  }
  void wallets_dormant(std::uint32_t shard, std::size_t count) override {
    inner_->wallets_dormant(shard, count);
  }
  void saga_leg_failed(std::string_view transfer_id, std::string_view why) override {
    inner_->saga_leg_failed(transfer_id, why);
  }
  void keys_evicted(std::uint32_t shard, std::size_t count) override {
    inner_->keys_evicted(shard, count);
  }
  void key_lookup(std::uint32_t shard, std::string_view outcome,
                  const store_error* error) override {
    inner_->key_lookup(shard, outcome, error);
  }
  void scan_failed(std::uint32_t shard, const store_error& error) override {
    inner_->scan_failed(shard, error);
  }

 private:
  std::shared_ptr<runtime_probe> inner_;
  std::vector<std::atomic<std::uint8_t>> states_;
  mutable std::mutex mutex_;
  std::optional<std::string> failure_;
};

// The top of the supervision tree: watches every shard's store, router and saga actor. Wallet
// actors restart themselves (reload with backoff) and routers respawn them on demand; a shard
// actor that dies means a bug, so the runtime reports itself failed and walletd exits for its
// process supervisor to restart it (ADR 0002).
caf::behavior supervisor_behavior(caf::event_based_actor* self,
                                  const std::shared_ptr<const directory>& actors,
                                  const std::shared_ptr<circuit_watch>& watch) {
  auto kinds = std::make_shared<std::map<caf::actor_addr, std::pair<std::string, std::uint32_t>>>();
  const auto watch_one = [&](const auto& handle, const char* kind, std::uint32_t shard) {
    self->monitor(handle);
    kinds->emplace(handle.address(), std::make_pair(std::string{kind}, shard));
  };
  for (std::uint32_t shard = 0; shard < actors->stores.size(); ++shard) {
    if (!actors->stores[shard]) {
      continue;  // owned by another instance
    }
    watch_one(actors->stores[shard], "store", shard);
    watch_one(actors->routers[shard], "router", shard);
    watch_one(actors->sagas[shard], "saga", shard);
  }
  self->set_down_handler([self, kinds, watch](const caf::down_msg& down) {
    const auto it = kinds->find(down.source);
    if (it == kinds->end()) {
      return;
    }
    if (down.reason && down.reason != caf::exit_reason::user_shutdown) {
      watch->actor_failed(it->second.first, it->second.second, caf::to_string(down.reason));
    }
    kinds->erase(it);
    if (kinds->empty()) {
      self->quit();
    }
  });
  return {[](const std::string&) {}};
}

engine::timestamp system_now() {
  return std::chrono::time_point_cast<engine::duration>(std::chrono::system_clock::now());
}

}  // namespace

struct runtime::impl {
  caf::actor_system& system;
  runtime_settings settings;
  std::shared_ptr<circuit_watch> watch;
  std::shared_ptr<directory> actors = std::make_shared<directory>();
  std::shared_ptr<compliance_controls> compliance = std::make_shared<compliance_controls>();
  std::vector<std::atomic<std::size_t>> in_flight;  // per shard, client commands only
  std::atomic<bool> accepting{true};
  caf::actor supervisor;

  impl(caf::actor_system& sys, runtime_settings s, std::shared_ptr<runtime_probe> probe)
      : system(sys),
        settings(s),
        watch(std::make_shared<circuit_watch>(std::move(probe), settings.shards)),
        in_flight(settings.shards) {}
};

runtime::runtime(caf::actor_system& system, runtime_settings settings,
                 const store_factory& make_store, std::shared_ptr<runtime_probe> probe, clock now,
                 remote_submit remote)
    : impl_(std::make_unique<impl>(system, settings,
                                   probe ? std::move(probe) : std::make_shared<runtime_probe>())) {
  auto& d = *impl_->actors;
  const std::uint32_t shards = impl_->settings.shards;
  if (!now) {
    now = system_now;
  }
  for (const std::uint32_t owned : impl_->settings.owned_shards) {
    WALLET_ASSERT(owned < shards);
  }
  d.stores.resize(shards);
  d.routers.resize(shards);
  d.sagas.resize(shards);
  for (std::uint32_t shard = 0; shard < shards; ++shard) {
    if (!owns_shard(impl_->settings, shard)) {
      continue;
    }
    auto ctx = std::make_shared<shard_context>();
    ctx->shard = shard;
    ctx->settings = impl_->settings;
    ctx->clock = now;
    ctx->probe = impl_->watch;
    ctx->actors = impl_->actors;
    ctx->remote = remote;
    ctx->compliance = impl_->compliance;
    // One port for loads and scans (and the commits when one at a time), and with several
    // commits in flight one per commit (each a connection of its own).
    std::shared_ptr<store_port> port = make_store(shard);
    std::vector<std::shared_ptr<store_port>> commit_ports;
    if (impl_->settings.commits_in_flight_max > 1) {
      for (std::size_t i = 0; i < impl_->settings.commits_in_flight_max; ++i) {
        commit_ports.emplace_back(make_store(shard));
      }
    }
    d.stores[shard] = spawn_store(system, ctx, std::move(port), std::move(commit_ports));
    d.routers[shard] = spawn_router(system, ctx);
    d.sagas[shard] = spawn_saga(system, ctx);
  }
  // Held: CAF stops an actor nobody holds a handle to.
  impl_->supervisor = system.spawn(supervisor_behavior,
                                   std::shared_ptr<const directory>{impl_->actors}, impl_->watch);
}

runtime::~runtime() { stop(std::chrono::milliseconds{0}); }

void runtime::submit(engine::command cmd, std::function<void(submit_outcome)> done) {
  submit(std::move(cmd), command_context{}, std::move(done));
}

void runtime::submit(engine::command cmd, command_context context,
                     std::function<void(submit_outcome)> done) {
  if (is_system_key(cmd.idempotency_key)) {
    done(refused(submit_errc::reserved_key));
    return;
  }
  admit(std::move(cmd), std::move(done), false, std::move(context));
}

void runtime::submit_internal(engine::command cmd, std::function<void(submit_outcome)> done) {
  WALLET_ASSERT(is_system_key(cmd.idempotency_key));
  admit(std::move(cmd), std::move(done), true);
}

void runtime::submit_review_decision(engine::command cmd, command_context context,
                                     std::function<void(submit_outcome)> done) {
  WALLET_ASSERT(is_review_decision(cmd));
  admit(std::move(cmd), std::move(done), true, std::move(context));
}

// Internal legs count towards the shard's in-flight bound too: stop() waits for them, and a NAK
// for `overloaded` only delays a leg whose sender retries.
void runtime::admit(engine::command cmd, std::function<void(submit_outcome)> done, bool internal,
                    command_context context) {
  if (!impl_->accepting.load(std::memory_order_acquire)) {
    done(refused(submit_errc::shutting_down));
    return;
  }
  const std::uint32_t shard = engine::shard_of(cmd.wallet_id, impl_->settings.shards);
  if (!impl_->actors->routers[shard]) {
    done(refused(submit_errc::not_owner));
    return;
  }
  auto& counter = impl_->in_flight[shard];
  if (counter.fetch_add(1, std::memory_order_relaxed) >= impl_->settings.store_queue_max) {
    counter.fetch_sub(1, std::memory_order_relaxed);
    done(refused(submit_errc::overloaded));
    return;
  }
  completion answer{[&counter, done = std::move(done)](submit_outcome o) {
    counter.fetch_sub(1, std::memory_order_relaxed);
    done(std::move(o));
  }};
  caf::anon_send(impl_->actors->routers[shard],
                 submission{std::move(cmd), std::move(answer), internal, std::move(context)});
}

std::future<submit_outcome> runtime::submit(engine::command cmd) {
  auto promise = std::make_shared<std::promise<submit_outcome>>();
  auto future = promise->get_future();
  submit(std::move(cmd), [promise](submit_outcome o) { promise->set_value(std::move(o)); });
  return future;
}

bool runtime::stop(std::chrono::milliseconds grace) {
  if (!impl_ || !impl_->accepting.exchange(false)) {
    return in_flight() == 0;
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  const bool drained = in_flight() == 0;
  const auto& d = *impl_->actors;
  const auto stop_all = [](const auto& handles) {
    for (const auto& a : handles) {
      if (a) {
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      }
    }
  };
  stop_all(d.routers);
  stop_all(d.sagas);
  stop_all(d.stores);
  return drained;
}

std::uint32_t runtime::shard_count() const noexcept { return impl_->settings.shards; }

std::size_t runtime::in_flight() const noexcept {
  std::size_t total = 0;
  for (const auto& c : impl_->in_flight) {
    total += c.load(std::memory_order_relaxed);
  }
  return total;
}

compliance_controls& runtime::compliance() noexcept { return *impl_->compliance; }

circuit_state runtime::circuit() const noexcept { return impl_->watch->worst(); }

std::optional<std::string> runtime::failure() const { return impl_->watch->failure(); }

}  // namespace wallet::actors
