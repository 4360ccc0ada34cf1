// Transfer legs to other instances over the command stream; their outcomes back over an inbox.
#include "wallet/nats/leg_sender.hpp"

#include "wallet/nats/wire.hpp"

namespace wallet::nats {
namespace {

struct inbox_deleter {
  void operator()(natsInbox* i) const noexcept { natsInbox_Destroy(i); }
};

// The publishing thread wakes at least this often to expire legs whose reply did not come.
constexpr std::chrono::milliseconds expiry_tick{500};
// How long stop() waits for reply callbacks under way to finish.
constexpr std::int64_t drain_wait_ms = 2'000;

}  // namespace

leg_sender::leg_sender(const client& c, std::function<void(std::string_view)> failed)
    // A leg's command is redelivered after ack_wait when the owner took it but did not answer:
    // waiting as long for its reply covers one delivery, and then the saga's retry takes over.
    : client_(c),
      failed_(std::move(failed)),
      reply_timeout_(std::chrono::duration_cast<std::chrono::milliseconds>(c.settings().ack_wait)) {
}

leg_sender::~leg_sender() { stop(); }

std::optional<nats_error> leg_sender::start() {
  natsInbox* raw = nullptr;
  if (const natsStatus s = natsInbox_Create(&raw); s != NATS_OK) {
    return failure("creating the legs' inbox", s);
  }
  const std::unique_ptr<natsInbox, inbox_deleter> unique{raw};
  // Under the prefix, so that one permission ("<prefix>.>") covers everything walletd uses; the
  // inbox's unique part keeps instances apart.
  const std::string_view id{unique.get()};
  inbox_ = client_.settings().prefix + ".legs." + std::string{id.substr(id.rfind('.') + 1)};
  if (const natsStatus s = natsConnection_Subscribe(&subscription_, client_.connection(),
                                                    inbox_.c_str(), &leg_sender::on_reply, this);
      s != NATS_OK) {
    return failure("subscribing to " + inbox_, s);
  }
  thread_ = std::thread([this] { run(); });
  return std::nullopt;
}

void leg_sender::send(engine::command cmd, actors::completion done) {
  {
    const std::lock_guard lock{mutex_};
    if (!stopping_) {
      queue_.push_back(queued{std::move(cmd), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(actors::refused(actors::submit_errc::unavailable));
}

void leg_sender::stop() {
  {
    const std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (subscription_ != nullptr) {
    // Drained, so that no reply callback runs once this returns and `this` may go.
    if (natsSubscription_Drain(subscription_) == NATS_OK) {
      natsSubscription_WaitForDrainCompletion(subscription_, drain_wait_ms);
    }
    natsSubscription_Destroy(subscription_);
    subscription_ = nullptr;
  }
  std::deque<queued> queue;
  std::unordered_map<std::string, awaiting> waiting;
  {
    const std::lock_guard lock{mutex_};
    queue.swap(queue_);
    waiting.swap(awaiting_);
  }
  for (auto& leg : queue) leg.done(actors::refused(actors::submit_errc::unavailable));
  for (auto& [key, entry] : waiting) {
    for (auto& done : entry.done) done(actors::refused(actors::submit_errc::unavailable));
  }
}

void leg_sender::run() {
  std::unique_lock lock{mutex_};
  while (!stopping_) {
    wake_.wait_for(lock, expiry_tick, [this] { return stopping_ || !queue_.empty(); });
    while (!stopping_ && !queue_.empty()) {
      queued leg = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      publish(std::move(leg));
      lock.lock();
    }
    lock.unlock();
    expire(std::chrono::steady_clock::now());
    lock.lock();
  }
  lock.unlock();
  nats_ReleaseThreadMemory();
}

void leg_sender::publish(queued leg) {
  const std::string key = leg.cmd.idempotency_key;
  msg_ptr msg = make_msg(system_subject(client_.settings().prefix, leg.cmd.wallet_id),
                         encode_internal_command(leg.cmd));
  if (!msg) {
    leg.done(actors::refused(actors::submit_errc::unavailable));
    return;
  }
  // The key as Nats-Msg-Id: a leg the saga sends again within the duplicate window is stored
  // once; its reply, when it comes, answers every leg awaiting that key.
  natsMsgHeader_Set(msg.get(), header::msg_id, key.c_str());
  natsMsgHeader_Set(msg.get(), header::reply_to, inbox_.c_str());
  {
    // Awaited before it is published: the reply may come before the stream's acknowledgement.
    const std::lock_guard lock{mutex_};
    awaiting& entry = awaiting_[key];
    entry.done.push_back(std::move(leg.done));
    entry.deadline = std::chrono::steady_clock::now() + reply_timeout_;
  }
  if (auto error = client_.publish_stored(msg.get())) {
    failed_(error->message);
    std::vector<actors::completion> done;
    {
      const std::lock_guard lock{mutex_};
      if (const auto it = awaiting_.find(key); it != awaiting_.end()) {
        done.swap(it->second.done);
        awaiting_.erase(it);
      }
    }
    for (auto& d : done) d(actors::refused(actors::submit_errc::unavailable));
  }
}

void leg_sender::expire(std::chrono::steady_clock::time_point now) {
  std::vector<actors::completion> late;
  {
    const std::lock_guard lock{mutex_};
    for (auto it = awaiting_.begin(); it != awaiting_.end();) {
      if (it->second.deadline <= now) {
        for (auto& d : it->second.done) late.push_back(std::move(d));
        it = awaiting_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& d : late) d(actors::refused(actors::submit_errc::unavailable));
}

void leg_sender::on_reply(natsConnection* /*conn*/, natsSubscription* /*sub*/, natsMsg* msg,
                          void* closure) {
  static_cast<leg_sender*>(closure)->reply(msg);
  natsMsg_Destroy(msg);
}

void leg_sender::reply(natsMsg* msg) {
  const std::string key = header_of(msg, header::idempotency_key);
  const actors::submit_outcome outcome = decode_internal_outcome(std::string_view{
      natsMsg_GetData(msg), static_cast<std::size_t>(std::max(0, natsMsg_GetDataLength(msg)))});
  std::vector<actors::completion> done;
  {
    const std::lock_guard lock{mutex_};
    if (const auto it = awaiting_.find(key); it != awaiting_.end()) {
      done.swap(it->second.done);
      awaiting_.erase(it);
    }
  }
  for (auto& d : done) d(outcome);
}

}  // namespace wallet::nats
