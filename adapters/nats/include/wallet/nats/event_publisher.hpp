// Events out: the transactional outbox's publisher. Reads each owned shard's committed events from
// PostgreSQL in commit order, publishes them to the event stream with Nats-Msg-Id = wallet id ':'
// seq, and only then moves the shard's cursor. After a crash or a NATS outage it resumes from the
// cursor: what was stored already is a duplicate the stream drops, so a subscriber sees each event
// once, in order, without gaps (within the stream's duplicate window).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wallet/nats/client.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace wallet::nats {

class publisher_probe {
 public:
  publisher_probe() = default;
  publisher_probe(const publisher_probe&) = delete;
  publisher_probe& operator=(const publisher_probe&) = delete;
  publisher_probe(publisher_probe&&) = delete;
  publisher_probe& operator=(publisher_probe&&) = delete;
  virtual ~publisher_probe() = default;
  virtual void published(std::uint32_t /*shard*/, std::size_t /*events*/) {}
  virtual void failed(std::string_view /*what*/) {}  // a read, a publish or a cursor move failed
};

struct publisher_settings {
  std::string conninfo;                      // PostgreSQL; holds the password: never logged
  std::vector<std::uint32_t> shards;         // the shards this instance owns
  std::size_t rows_per_read = 64;            // outbox rows (committed batches) per read
  std::chrono::milliseconds idle_poll{100};  // between reads when nothing was pending
  std::chrono::milliseconds retry{1'000};    // after a failure
  // Publishing threads, each with its own connection and a share of the shards: order matters
  // only within a wallet, and a wallet lives in one shard, so shards publish side by side.
  std::size_t threads = 4;
};

class event_publisher {
 public:
  event_publisher(const client& c, publisher_settings settings,
                  std::shared_ptr<publisher_probe> probe);
  ~event_publisher();
  event_publisher(const event_publisher&) = delete;
  event_publisher& operator=(const event_publisher&) = delete;
  event_publisher(event_publisher&&) = delete;
  event_publisher& operator=(event_publisher&&) = delete;

  void start();
  void stop();

  // Events published since start (for tests and metrics).
  [[nodiscard]] std::uint64_t published() const noexcept { return published_.load(); }

 private:
  void run(std::vector<std::uint32_t> shards);
  // Publishes what one shard has pending; false when it failed.
  bool drain(pqxx::connection_base& conn, std::uint32_t shard, bool& found);

  const client& client_;
  publisher_settings settings_;
  std::shared_ptr<publisher_probe> probe_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> published_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
};

}  // namespace wallet::nats
