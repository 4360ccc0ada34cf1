// The outbox publisher: PostgreSQL rows in commit order -> the event stream -> the cursor.
#include "wallet/nats/event_publisher.hpp"

#include <pqxx/pqxx>

#include <algorithm>

#include "wallet/nats/wire.hpp"
#include "wallet/postgres/outbox.hpp"

namespace wallet::nats {

event_publisher::event_publisher(const client& c, publisher_settings settings,
                                 std::shared_ptr<publisher_probe> probe)
    : client_(c),
      settings_(std::move(settings)),
      probe_(probe ? std::move(probe) : std::make_shared<publisher_probe>()) {}

event_publisher::~event_publisher() { stop(); }

void event_publisher::start() {
  if (running_.exchange(true)) return;
  const std::size_t n =
      std::max<std::size_t>(1, std::min(settings_.threads, settings_.shards.size()));
  std::vector<std::vector<std::uint32_t>> shares(n);
  for (std::size_t i = 0; i < settings_.shards.size(); ++i) {
    shares[i % n].push_back(settings_.shards[i]);
  }
  for (auto& share : shares) {
    threads_.emplace_back([this, share = std::move(share)]() mutable { run(std::move(share)); });
  }
}

void event_publisher::stop() {
  {
    const std::lock_guard lock{mutex_};
    running_.store(false);
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool event_publisher::drain(pqxx::connection_base& conn, std::uint32_t shard, bool& found) {
  auto batch = postgres::read_outbox(conn, shard, settings_.rows_per_read);
  if (!batch.ok()) {
    probe_->failed("reading the outbox of shard " + std::to_string(shard) + ": " +
                   batch.error().detail);
    return false;
  }
  const postgres::outbox_batch& b = batch.value();
  if (b.position_to == b.position_from) return true;
  found = true;
  const std::string& prefix = client_.settings().prefix;
  for (const postgres::outbox_event& e : b.events) {
    const auto ccy = engine::currency::from_code(e.currency);
    msg_ptr msg = make_msg(event_subject(prefix, e.wallet_id),
                           encode_event(e.wallet_id, e.event, ccy ? *ccy : engine::currency{}));
    if (!msg) {
      probe_->failed("creating an event message");
      return false;
    }
    const std::string id = e.wallet_id + ":" + std::to_string(e.event.seq);
    natsMsgHeader_Set(msg.get(), header::msg_id, id.c_str());
    for (const auto& [key, value] : {std::pair{header::idempotency_key, &e.idempotency_key},
                                     std::pair{header::command_id, &e.command_id},
                                     std::pair{header::traceparent, &e.trace_parent}}) {
      if (!value->empty()) natsMsgHeader_Set(msg.get(), key, value->c_str());
    }
    if (auto error = client_.publish_stored(msg.get())) {
      // Stop at the first failure: resuming from the cursor keeps each wallet's order.
      probe_->failed(error->message);
      return false;
    }
  }
  auto advanced = postgres::advance_outbox(conn, shard, b.position_to);
  if (!advanced.ok()) {
    probe_->failed("moving the outbox cursor of shard " + std::to_string(shard) + ": " +
                   advanced.error().detail);
    return false;
  }
  published_.fetch_add(b.events.size());
  probe_->published(shard, b.events.size());
  return true;
}

void event_publisher::run(std::vector<std::uint32_t> shards) {
  std::unique_ptr<pqxx::connection> conn;
  while (running_.load()) {
    bool found = false;
    bool failed = false;
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(settings_.conninfo);
      for (const std::uint32_t shard : shards) {
        if (!running_.load()) break;
        if (!drain(*conn, shard, found)) {
          failed = true;
          break;
        }
      }
    } catch (const std::exception& e) {
      // The connection could not be made: the message may name the server, never the password
      // (libpq does not repeat it).
      probe_->failed(std::string{"connecting to PostgreSQL: "} + e.what());
      conn.reset();
      failed = true;
    }
    if (found && !failed) continue;  // more may be pending
    std::unique_lock lock{mutex_};
    wake_.wait_for(lock, failed ? settings_.retry : settings_.idle_poll,
                   [this] { return !running_.load(); });
  }
}

}  // namespace wallet::nats
