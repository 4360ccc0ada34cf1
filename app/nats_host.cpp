// The NATS interface inside walletd.
#include "nats_host.hpp"

#include "wallet/metrics/tee.hpp"

namespace wallet::app {
namespace {

using namespace std::chrono_literals;

class consumer_log final : public nats::consumer_probe {
 public:
  explicit consumer_log(logging::logger log) : log_(std::move(log)) {}
  void dead_lettered(std::string_view reason, std::string_view detail) override {
    log_.warn("command dead-lettered", {{"reason", reason}, {"detail", detail}});
  }
  void deferred(std::string_view why) override {
    log_.debug("command NAKed for a later redelivery", {{"why", why}});
  }
  void failed(std::string_view what) override { log_.error("NATS call failed", {{"what", what}}); }

 private:
  logging::logger log_;
};

class publisher_log final : public nats::publisher_probe {
 public:
  explicit publisher_log(logging::logger log) : log_(std::move(log)) {}
  void failed(std::string_view what) override {
    log_.error("event publishing failed; will resume from the cursor", {{"what", what}});
  }

 private:
  logging::logger log_;
};

class query_log final : public nats::query_probe {
 public:
  explicit query_log(logging::logger log) : log_(std::move(log)) {}
  void failed(std::string_view what) override { log_.error("query failed", {{"what", what}}); }

 private:
  logging::logger log_;
};

nats::stream_limits limits(std::int64_t max_age_s) {
  return nats::stream_limits{std::chrono::seconds{max_age_s}, -1};
}

}  // namespace

std::vector<std::uint32_t> owned_shards(std::uint32_t shards, std::uint32_t index,
                                        std::uint32_t count) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t s = 0; s < shards; ++s) {
    if (count == 0 || s % count == index) out.push_back(s);
  }
  return out;
}

nats_host::nats_host(const config::config& cfg, logging::logger log, actors::runtime& runtime,
                     std::string conninfo, std::shared_ptr<metrics::registry> metrics,
                     remote_legs* remote, std::shared_ptr<postgres::outbox_wakeups> wakeups)
    : log_(std::move(log)),
      metrics_(std::move(metrics)),
      runtime_(runtime),
      conninfo_(std::move(conninfo)),
      publish_window_(static_cast<std::size_t>(cfg.integer("nats.publish_window_max"))),
      publish_wallet_window_(
          static_cast<std::size_t>(cfg.integer("nats.publish_wallet_window_max"))),
      publish_threads_(static_cast<std::size_t>(cfg.integer("nats.publish_threads"))),
      publish_round_interval_(cfg.integer("nats.publish_round_interval_ms")),
      handoff_events_max_(static_cast<std::size_t>(cfg.integer("nats.outbox_handoff_events_max"))),
      remote_(remote),
      wakeups_(std::move(wakeups)) {
  auto& s = settings_;
  s.url = cfg.text("nats.url");
  s.credentials_file = cfg.text("nats.credentials_file");
  s.prefix = cfg.text("nats.subject_prefix");
  s.partitioned = cfg.boolean("nats.partitioned");
  s.shards = static_cast<std::uint32_t>(cfg.integer("runtime.shards"));
  s.owned_shards = owned_shards(s.shards, static_cast<std::uint32_t>(cfg.integer("instance.index")),
                                static_cast<std::uint32_t>(cfg.integer("instance.count")));
  s.connection_name = "walletd-" + std::to_string(cfg.integer("instance.index"));
  s.command_stream = cfg.text("nats.command_stream");
  s.event_stream = cfg.text("nats.event_stream");
  s.dead_letter_stream = cfg.text("nats.dead_letter_stream");
  s.command_limits = limits(cfg.integer("nats.command_max_age_s"));
  s.event_limits = limits(cfg.integer("nats.event_max_age_s"));
  s.dead_letter_limits = limits(cfg.integer("nats.dead_letter_max_age_s"));
  s.replicas = cfg.integer("nats.replicas");
  s.memory_storage = cfg.text("nats.storage") == "memory";
  s.duplicate_window = std::chrono::seconds{cfg.integer("nats.duplicate_window_s")};
  s.message_bytes_max = static_cast<std::int32_t>(cfg.integer("nats.message_bytes_max"));
  s.ack_wait = std::chrono::seconds{cfg.integer("nats.ack_wait_s")};
  s.deliveries_max = cfg.integer("nats.deliveries_max");
  s.ack_pending_max = cfg.integer("nats.ack_pending_max");
  s.fetch_batch = static_cast<int>(cfg.integer("nats.fetch_batch"));
  s.send_asap = cfg.boolean("nats.send_asap");
  s.nak_delay = std::chrono::milliseconds{cfg.integer("nats.nak_delay_ms")};
  s.overloaded_nak_delay = std::chrono::milliseconds{cfg.integer("nats.overloaded_nak_delay_ms")};
  outbox_poll_ = std::chrono::milliseconds{cfg.integer("nats.outbox_poll_ms")};
}

nats_host::~nats_host() { stop(0ms); }

bool nats_host::start() {
  if (cfg_instances_need_partitions()) return false;
  nats::connection_events events;
  // The callbacks may outlive this object (NATS.c calls them from its own threads): they share
  // the closing flag rather than read a member.
  events.on_change = [log = log_, closing = closing_](bool connected) {
    if (connected) {
      log.info("NATS connected");
    } else if (closing->load()) {
      log.info("NATS connection closed");
    } else {
      log.warn("NATS disconnected; reconnecting");
    }
  };
  events.on_error = [log = log_](std::string_view error) {
    log.error("NATS asynchronous error", {{"error", error}});
  };
  auto c = nats::client::connect(settings_, std::move(events));
  if (!c.ok()) {
    log_.error("cannot set up the NATS connection", {{"error", c.error().message}});
    return false;
  }
  client_ = std::move(c).value();
  bring_up_ = std::thread([this] { bring_up(); });
  return true;
}

bool nats_host::cfg_instances_need_partitions() const {
  if (settings_.partitioned || settings_.owned_shards.size() == settings_.shards) return false;
  log_.error(
      "several instances need nats.partitioned: each must consume only its own shards' commands",
      {{"owned_shards", settings_.owned_shards.size()}, {"shards", settings_.shards}});
  return true;
}

void nats_host::bring_up() {
  auto wait = [this](std::chrono::milliseconds d) {
    std::unique_lock lock{mutex_};
    return !wake_.wait_for(lock, d, [this] { return stopping_; });
  };
  while (!client_->connected()) {
    if (!wait(500ms)) return;
  }
  while (auto error = nats::ensure_streams(*client_)) {
    log_.error("cannot create or update the NATS streams; retrying", {{"error", error->message}});
    if (!wait(2s)) return;
  }
  if (remote_ != nullptr) {
    legs_ = std::make_shared<nats::leg_sender>(
        *client_, [log = log_, counted = std::make_shared<metrics::leg_metrics>(metrics_)](
                      std::string_view error) {
          log.warn("a transfer leg for another instance was not sent; its saga retries",
                   {{"error", error}});
          counted->failed(error);
        });
    while (auto error = legs_->start()) {
      log_.error("cannot start sending transfer legs; retrying", {{"error", error->message}});
      if (!wait(2s)) return;
    }
    remote_->bind([legs = legs_](engine::command cmd, actors::completion done) {
      legs->send(std::move(cmd), std::move(done));
    });
  }
  consumer_ = std::make_unique<nats::command_consumer>(
      *client_,
      [&rt = runtime_](engine::command cmd, actors::command_context context,
                       std::function<void(actors::submit_outcome)> done) {
        rt.submit(std::move(cmd), std::move(context), std::move(done));
      },
      std::make_shared<metrics::consumer_tee>(
          std::make_shared<consumer_log>(log_),
          std::make_shared<metrics::consumer_metrics>(metrics_)),
      // Legs other instances send for this instance's wallets.
      // A leg's context stays with the client command that started the transfer.
      [&rt = runtime_](engine::command cmd, const actors::command_context& /*context*/,
                       std::function<void(actors::submit_outcome)> done) {
        rt.submit_internal(std::move(cmd), std::move(done));
      });
  while (auto error = consumer_->start()) {
    log_.error("cannot start consuming commands; retrying", {{"error", error->message}});
    if (!wait(2s)) return;
  }
  nats::publisher_settings p;
  p.conninfo = conninfo_;
  p.shards = settings_.owned_shards;
  p.idle_poll = outbox_poll_;
  p.window_max = publish_window_;
  p.threads = publish_threads_;
  p.round_interval = publish_round_interval_;
  // A replicated stream can change leaders between two publishes of one wallet and store the
  // second without the first: there a wallet's events go one at a time (ADR 0011).
  p.wallet_window_max = settings_.replicas > 1 ? 1 : publish_wallet_window_;
  if (settings_.replicas > 1 && publish_wallet_window_ > 1) {
    log_.info("event stream replicated: publishing one event per wallet at a time",
              {{"replicas", settings_.replicas}});
  }
  p.ack_wait = settings_.request_timeout;
  p.wakeups = wakeups_;
  p.handoff_events_max = handoff_events_max_;
  publisher_ = std::make_unique<nats::event_publisher>(
      *client_, p,
      std::make_shared<metrics::publisher_tee>(
          std::make_shared<publisher_log>(log_),
          std::make_shared<metrics::publisher_metrics>(metrics_)));
  publisher_->start();
  queries_ = std::make_unique<nats::query_service>(
      *client_, conninfo_,
      std::make_shared<metrics::query_tee>(std::make_shared<query_log>(log_),
                                           std::make_shared<metrics::query_metrics>(metrics_)));
  if (auto error = queries_->start()) {
    log_.error("cannot answer queries", {{"error", error->message}});
  }
  serving_.store(true);
  log_.info("NATS interface serving", {{"command_stream", settings_.command_stream},
                                       {"event_stream", settings_.event_stream},
                                       {"partitioned", settings_.partitioned},
                                       {"owned_shards", settings_.owned_shards.size()}});
}

void nats_host::stop_intake() {
  {
    const std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (bring_up_.joinable()) bring_up_.join();
  if (consumer_) consumer_->stop_fetching();
}

void nats_host::stop(std::chrono::milliseconds grace) {
  closing_->store(true);
  stop_intake();
  serving_.store(false);
  if (consumer_ && !consumer_->stop(grace)) {
    log_.warn("commands still unanswered at shutdown; NATS redelivers them",
              {{"in_flight", consumer_->in_flight()}});
  }
  if (remote_ != nullptr) remote_->unbind();
  if (legs_) legs_->stop();  // legs still awaiting a reply are answered unavailable: retried
  if (queries_) queries_->stop();
  if (publisher_) publisher_->stop();
  consumer_.reset();
  legs_.reset();
  publisher_.reset();
  queries_.reset();
  client_.reset();
}

}  // namespace wallet::app
