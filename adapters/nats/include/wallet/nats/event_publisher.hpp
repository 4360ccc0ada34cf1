// Events out: the transactional outbox's publisher. Takes each owned shard's committed events in
// commit order from the in-memory hand-off of its store (ADR 0015), or reads them from PostgreSQL
// when the hand-off cannot be known complete (start-up, after a failure, after it overflowed, or
// without a store in this process), publishes them to the event stream with Nats-Msg-Id = wallet id
// ':' seq, pipelined (a bounded window of publishes awaiting their stream acknowledgement per
// shard, and per wallet, on a connection of each thread's own that never reconnects: ADR 0011), and
// moves the shard's cursor only past events whose acknowledgement came. After any failure it
// resumes from the cursor: what was stored already is a duplicate the stream drops, so a subscriber
// sees each event once, in order, without gaps (within the stream's duplicate window). It wakes
// when a store of this process commits (ADR 0014) or on a NOTIFY, and polls as a fallback.
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

namespace wallet::postgres {
class outbox_wakeups;
}  // namespace wallet::postgres

namespace wallet::nats {

// Where a round's events came from: read from the outbox in PostgreSQL, or taken from the
// in-memory hand-off of the shard's store (ADR 0015).
enum class outbox_source : std::uint8_t { database, memory };

class publisher_probe {
 public:
  publisher_probe() = default;
  publisher_probe(const publisher_probe&) = delete;
  publisher_probe& operator=(const publisher_probe&) = delete;
  publisher_probe(publisher_probe&&) = delete;
  publisher_probe& operator=(publisher_probe&&) = delete;
  virtual ~publisher_probe() = default;
  virtual void published(std::uint32_t /*shard*/, std::size_t /*events*/) {}
  // A read of the outbox (`events` may be 0: it found nothing), or a take of the hand-off that
  // gave `events` (> 0).
  virtual void taken(std::uint32_t /*shard*/, outbox_source /*source*/, std::size_t /*events*/) {}
  virtual void failed(std::string_view /*what*/) {}  // a read, a publish or a cursor move failed
};

struct publisher_settings {
  std::string conninfo;               // PostgreSQL; holds the password: never logged
  std::vector<std::uint32_t> shards;  // the shards this instance owns
  std::size_t rows_per_read = 64;     // outbox rows (committed batches) per read
  // Publishes awaiting their stream acknowledgement, per shard (nats.publish_window_max).
  std::size_t window_max = 256;
  // Of them, events of one wallet (nats.publish_wallet_window_max), published in seq order on one
  // connection that never reconnects. 1: a wallet's next event waits for the previous one's
  // acknowledgement, and no failure of any kind can store them out of order (ADR 0011).
  std::size_t wallet_window_max = 32;
  // A publish whose acknowledgement has not come within this counts as failed.
  std::chrono::milliseconds ack_wait{5'000};
  // Every shard is read after this long without a notification (nats.outbox_poll_ms): the
  // fallback for a lost NOTIFY.
  std::chrono::milliseconds idle_poll{100};
  // Shortest time from one round's start to the next's (nats.publish_round_interval_ms) unless
  // the last round left rows behind: commits notified meanwhile are published together. 0: a
  // round starts at each notification.
  std::chrono::milliseconds round_interval{0};
  std::chrono::milliseconds retry{1'000};  // after a failure
  // Publishing threads, each with its own connections and a share of the shards: order matters
  // only within a wallet, and a wallet lives in one shard, so shards publish side by side.
  std::size_t threads = 4;
  // The stores of this process wake the thread of their shard here instead of by a NOTIFY (ADR
  // 0014); without it only NOTIFYs (and the poll) wake a thread.
  std::shared_ptr<postgres::outbox_wakeups> wakeups;
  // With `wakeups`: each shard's in-memory hand-off of committed events holds at most this many
  // (nats.outbox_handoff_events_max); past it the publisher reads the outbox until it has caught
  // up (ADR 0015). 0: no hand-off, every round reads the outbox.
  std::size_t handoff_events_max = 16'384;
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
  // Reads of the outbox (also those that found nothing), and the events taken from each source.
  [[nodiscard]] std::uint64_t database_reads() const noexcept { return database_reads_.load(); }
  [[nodiscard]] std::uint64_t events_from_database() const noexcept {
    return database_events_.load();
  }
  [[nodiscard]] std::uint64_t events_from_memory() const noexcept { return memory_events_.load(); }

 private:
  void run(const std::vector<std::uint32_t>& shards);
  // Waits up to `d` unless stopped; false when stopped.
  bool pause(std::chrono::milliseconds d);

  const client& client_;
  publisher_settings settings_;
  std::shared_ptr<publisher_probe> probe_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> database_reads_{0};
  std::atomic<std::uint64_t> database_events_{0};
  std::atomic<std::uint64_t> memory_events_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
};

}  // namespace wallet::nats
