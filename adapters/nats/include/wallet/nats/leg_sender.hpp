// Transfer legs out to the instance owning their wallet's shard (runtime::remote_submit): each is
// published on the command stream's system subject of its wallet, with its system key as
// Nats-Msg-Id, and its outcome comes back on this instance's inbox to complete the leg
// (docs/adr/0003-cross-instance-transfers.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "wallet/actors/outcome.hpp"
#include "wallet/engine/command.hpp"
#include "wallet/nats/client.hpp"

namespace wallet::nats {

class leg_sender {
 public:
  // `failed` hears of NATS calls that failed (for logs); called on the sender's threads.
  leg_sender(const client& c, std::function<void(std::string_view)> failed);
  ~leg_sender();
  leg_sender(const leg_sender&) = delete;
  leg_sender& operator=(const leg_sender&) = delete;
  leg_sender(leg_sender&&) = delete;
  leg_sender& operator=(leg_sender&&) = delete;

  // Subscribes the inbox and starts the publishing thread.
  [[nodiscard]] std::optional<nats_error> start();
  // Queues a leg; never blocks (an actor calls it). `done` gets the outcome the owning instance
  // replies, or `unavailable` when the publish fails, no reply comes within the reply timeout,
  // or the sender stops: the saga then retries with the same key, which is always safe.
  void send(engine::command cmd, actors::completion done);
  // Answers everything queued or awaiting a reply `unavailable` and stops.
  void stop();

  [[nodiscard]] const std::string& inbox() const noexcept { return inbox_; }

 private:
  struct awaiting {
    std::vector<actors::completion> done;
    std::chrono::steady_clock::time_point deadline;
  };
  struct queued {
    engine::command cmd;
    actors::completion done;
  };

  static void on_reply(natsConnection* conn, natsSubscription* sub, natsMsg* msg, void* closure);
  void reply(natsMsg* msg);
  void run();
  void publish(queued leg);
  void expire(std::chrono::steady_clock::time_point now);

  const client& client_;
  std::function<void(std::string_view)> failed_;
  std::chrono::milliseconds reply_timeout_;
  std::string inbox_;
  natsSubscription* subscription_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<queued> queue_;
  std::unordered_map<std::string, awaiting> awaiting_;  // by idempotency key
  std::thread thread_;
};

}  // namespace wallet::nats
