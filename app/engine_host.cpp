// The engine inside walletd: database preparation, runtime, maintenance, shutdown.
#include "engine_host.hpp"

#include <pqxx/pqxx>

#include "log_probe.hpp"
#include "nats_host.hpp"
#include "wallet/engine/assert.hpp"
#include "wallet/metrics/tee.hpp"
#include "wallet/postgres/conninfo.hpp"
#include "wallet/postgres/database.hpp"
#include "wallet/postgres/pg_store.hpp"
#include "wallet/postgres/reconcile.hpp"

namespace wallet::app {
namespace {

std::size_t as_size(std::int64_t v) { return static_cast<std::size_t>(v); }

actors::runtime_settings runtime_settings_from(const config::config& cfg) {
  actors::runtime_settings s;
  s.shards = static_cast<std::uint32_t>(cfg.integer("runtime.shards"));
  s.wallets_resident_max = as_size(cfg.integer("runtime.wallets_resident_max"));
  s.wallets_live_max = as_size(cfg.integer("runtime.wallets_live_max"));
  s.wallet_inflight_max = as_size(cfg.integer("runtime.wallet_inflight_max"));
  s.idempotency_retention = std::chrono::seconds{cfg.integer("runtime.idempotency_retention_s")};
  s.idempotency_keys_resident = as_size(cfg.integer("runtime.idempotency_keys_resident"));
  s.batch_size_max = as_size(cfg.integer("store.batch_size_max"));
  s.flush_interval = cfg.duration("store.flush_interval_us");
  s.commits_in_flight_max = as_size(cfg.integer("store.commits_in_flight_max"));
  s.store_queue_max = as_size(cfg.integer("store.queue_max"));
  const auto count = static_cast<std::uint32_t>(cfg.integer("instance.count"));
  if (count > 1) {
    s.owned_shards =
        owned_shards(s.shards, static_cast<std::uint32_t>(cfg.integer("instance.index")), count);
  }
  return s;
}

engine::timestamp now() {
  return std::chrono::time_point_cast<engine::duration>(std::chrono::system_clock::now());
}

}  // namespace

engine_host::engine_host(const config::config& cfg, logging::logger log,
                         std::shared_ptr<metrics::registry> metrics)
    : cfg_(cfg),
      log_(std::move(log)),
      metrics_(std::move(metrics)),
      settings_(runtime_settings_from(cfg)) {
  // One worker per core unless set: the store actors are detached and get threads of their own.
  // Fewer workers than cores hand a command between threads less often (each hand-off wakes a
  // parked worker) and leave the other cores to PostgreSQL and nats-server.
  const auto cores = std::max(1U, std::thread::hardware_concurrency());
  const auto workers = cfg.integer("runtime.scheduler_threads");
  caf_config_.set("scheduler.max-threads", workers > 0 ? static_cast<std::size_t>(workers)
                                                       : static_cast<std::size_t>(cores));
  // The work-sharing scheduler parks idle workers on a condition variable; work stealing polls
  // in 50 us sleeps, which cost a quarter of the process's CPU in the runtime benchmark
  // (loadtest/README.md) and left less for PostgreSQL on small machines.
  caf_config_.set("scheduler.policy", caf::atom("sharing"));
}

engine_host::~engine_host() { stop(); }

bool engine_host::prepare_database() {
  postgres::connection_options options;
  options.url = cfg_.text("postgres.url");
  options.password_file = cfg_.text("postgres.password_file");
  options.sslmode = cfg_.text("postgres.sslmode");
  auto conninfo = postgres::make_conninfo(options);
  if (!conninfo.ok()) {
    log_.error("cannot build the database connection", {{"detail", conninfo.error().detail}});
    return false;
  }
  conninfo_ = std::move(conninfo).value();
  try {
    pqxx::connection conn{conninfo_};
    const auto applied = postgres::migrate(conn);
    if (!applied.ok()) {
      log_.error("database migration failed", {{"detail", applied.error().detail}});
      return false;
    }
    log_.info("database schema ready", {{"migrations_applied", applied.value().size()}});
    const auto shards = postgres::ensure_shard_count(conn, settings_.shards);
    if (!shards.ok()) {
      log_.error("shard count check failed", {{"detail", shards.error().detail}});
      return false;
    }
    const auto partitions = postgres::ensure_partitions(conn, now(), partition_months_ahead);
    if (!partitions.ok()) {
      log_.error("event partitions could not be created", {{"detail", partitions.error().detail}});
      return false;
    }
  } catch (const std::exception& e) {
    log_.error(
        "database unreachable at start-up",
        {{"detail", postgres::scrub_secret(e.what(), postgres::conninfo_password(conninfo_))}});
    return false;
  }
  return true;
}

bool engine_host::start() {
  // An empty owned set means "every shard" to the runtime; the configuration guarantees every
  // instance at least one (instance.count <= runtime.shards), else it would write others' wallets.
  WALLET_ASSERT(cfg_.integer("instance.count") == 1 || !settings_.owned_shards.empty());
  if (!prepare_database()) {
    return false;
  }
  system_ = std::make_unique<caf::actor_system>(caf_config_);
  auto probe = std::make_shared<metrics::runtime_tee>(
      std::make_shared<log_probe>(log_), std::make_shared<metrics::runtime_metrics>(metrics_));
  const std::string conninfo = conninfo_;
  const std::uint32_t shards = settings_.shards;
  runtime_ = std::make_unique<actors::runtime>(
      *system_, settings_,
      [conninfo, shards, wakeups = outbox_wakeups_](std::uint32_t shard) {
        postgres::pg_store_settings s;
        s.conninfo = conninfo;
        s.shard_id = shard;
        s.shard_count = shards;
        s.wakeups = wakeups;
        return std::make_unique<postgres::pg_store>(std::move(s));
      },
      probe, actors::runtime::clock{},
      // Only an instance sharing the shards with others has legs to send elsewhere.
      settings_.owned_shards.empty()
          ? actors::runtime::remote_submit{}
          : [remote = remote_](
                engine::command cmd,
                actors::completion done) { (*remote)(std::move(cmd), std::move(done)); });
  maintenance_ = std::thread{[this] { maintain(); }};
  log_.info("engine runtime started",
            {{"shards", shards},
             {"owned_shards",
              settings_.owned_shards.empty() ? std::size_t{shards} : settings_.owned_shards.size()},
             {"batch_size_max", settings_.batch_size_max},
             {"wallets_resident_max", settings_.wallets_resident_max},
             {"wallets_live_max", settings_.wallets_live_max}});
  return true;
}

void engine_host::maintain() {
  maintain_once();  // at start-up too: a restart is when a mismatch matters most
  std::unique_lock lock{mutex_};
  while (!wake_.wait_for(lock, maintenance_interval, [this] { return stopping_; })) {
    lock.unlock();
    maintain_once();
    lock.lock();
  }
}

// Keeps event partitions ahead, and reconciles: every wallet against the fold of its events,
// every currency's money against deposits and withdrawals (the one-shot form is wallet-reconcile).
void engine_host::maintain_once() {
  try {
    pqxx::connection conn{conninfo_};
    const auto partitions = postgres::ensure_partitions(conn, now(), partition_months_ahead);
    if (!partitions.ok()) {
      log_.error("partition maintenance failed", {{"detail", partitions.error().detail}});
    }
    const auto report = postgres::reconcile(conn, postgres::reconcile_options{});
    if (!report.ok()) {
      log_.error("reconciliation could not run", {{"detail", report.error().detail}});
    } else if (report.value().clean()) {
      log_.info("reconciliation clean", {{"wallets", report.value().wallets_checked},
                                         {"events", report.value().events_checked},
                                         {"transfers", report.value().transfers_checked}});
    } else {
      const auto& r = report.value();
      const auto* first = r.wallet_mismatches.empty() ? nullptr : &r.wallet_mismatches.front();
      log_.error("reconciliation found mismatches",
                 {{"wallet_mismatches", r.wallet_mismatches_total},
                  {"transfer_mismatches", r.transfer_mismatches_total},
                  {"first_wallet", first != nullptr ? first->wallet_id : std::string{}},
                  {"first_field", first != nullptr ? first->what : std::string{}}});
    }
  } catch (const std::exception& e) {
    log_.error(
        "maintenance could not connect",
        {{"detail", postgres::scrub_secret(e.what(), postgres::conninfo_password(conninfo_))}});
  }
}

bool engine_host::stop() {
  {
    std::lock_guard lock{mutex_};
    if (stopping_) {
      return true;
    }
    stopping_ = true;
  }
  wake_.notify_all();
  if (maintenance_.joinable()) {
    maintenance_.join();
  }
  bool drained = true;
  if (runtime_) {
    const auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::milliseconds{cfg_.integer("shutdown.grace_period_ms")});
    drained = runtime_->stop(grace);
    log_.info("engine runtime stopped",
              {{"drained", drained}, {"in_flight", runtime_->in_flight()}});
  }
  if (system_) {
    system_->await_all_actors_done();
  }
  runtime_.reset();
  system_.reset();
  return drained;
}

}  // namespace wallet::app
