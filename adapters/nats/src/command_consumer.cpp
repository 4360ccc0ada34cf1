// Commands in from JetStream pull consumers; outcomes out to reply subjects; dead letters.
#include "wallet/nats/command_consumer.hpp"

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_map>

#include "wallet/actors/system_keys.hpp"
#include "wallet/nats/jetstream_pull.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::nats {
namespace {

// The server holds a pull request open this long, then ends it with a 408 and the loop asks again.
constexpr std::chrono::milliseconds pull_expires{500};
// A request whose end never came (a lost status, a restarted server) is given up this long after
// it expired.
constexpr std::chrono::milliseconds pull_grace{200};
// The loop wakes at least this often: to publish dead letters, and to see a stop.
constexpr std::chrono::milliseconds poll_interval{100};
// NATS.c lifts a status line ("NATS/1.0 408 Request Timeout") into these headers.
constexpr const char* status_header = "Status";
constexpr const char* description_header = "Description";

using shared_msg = std::shared_ptr<natsMsg>;

// A W3C traceparent is 55 bytes (version 00); a longer header is not one and is not stored.
constexpr std::size_t trace_parent_length_max = 128;

struct dead_letter {
  shared_msg msg;
  std::string reason;
  std::string detail;
};

std::string_view reply_of(natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  return reply == nullptr ? std::string_view{} : std::string_view{reply};
}

// Whether a status message answers pull request `request` (its subject is "<inbox>.<request>").
bool answers(natsMsg* status, const std::string& inbox, std::uint64_t request) {
  const std::string_view subject{natsMsg_GetSubject(status)};
  return subject.size() > inbox.size() + 1 && subject.starts_with(inbox) &&
         subject[inbox.size()] == '.' &&
         subject.substr(inbox.size() + 1) == std::to_string(request);
}

// NAKed with a delay, never dead-lettered. not_owner among them: this instance's consumers see
// only its shards' subjects, so a refusal means ownership is moving (a resize rolling through) and
// a redelivery reaches the instance that owns the shard once it settles.
bool retryable(actors::submit_errc e) {
  return e == actors::submit_errc::overloaded || e == actors::submit_errc::unavailable ||
         e == actors::submit_errc::shutting_down || e == actors::submit_errc::not_owner;
}

}  // namespace

struct command_consumer::shared : std::enable_shared_from_this<shared> {
  const client* nats = nullptr;
  nats_settings settings;
  submit_fn submit;
  submit_fn submit_internal;
  std::shared_ptr<consumer_probe> probe;
  std::atomic<bool> fetching{true};
  std::atomic<std::size_t> in_flight{0};
  std::mutex mutex;
  std::condition_variable settled;  // in_flight fell, or a dead letter was queued
  std::deque<dead_letter> dead;     // queued by actor threads, published by a consumer thread
  // Deferrals (NAKs for overload or an open circuit) per stream sequence: they are not failures,
  // so they do not count against deliveries_max. Bounded: past the bound the memory is dropped,
  // and a message may be dead-lettered early (never lost).
  std::unordered_map<std::uint64_t, std::uint64_t> deferrals;

  std::size_t deferrals_max() const {
    return static_cast<std::size_t>(std::max<std::int64_t>(settings.ack_pending_max, 1)) * 4;
  }

  std::uint64_t deferred_before(std::uint64_t seq) {
    const std::lock_guard lock{mutex};
    const auto it = deferrals.find(seq);
    return it == deferrals.end() ? 0 : it->second;
  }

  // Counts one more deferral of the message; returns how many came before.
  std::uint64_t note_deferral(std::uint64_t seq) {
    const std::lock_guard lock{mutex};
    if (deferrals.size() >= deferrals_max()) deferrals.clear();
    return deferrals[seq]++;
  }

  // `overloaded` is a wallet's (or a shard's) queue full for a moment: the command comes back
  // soon, and later each time it meets it again. The other refusals last (an open circuit, a
  // stop, a shard moving): nak_delay at once.
  [[nodiscard]] std::chrono::milliseconds nak_delay_for(actors::submit_errc e,
                                                        std::uint64_t earlier) const {
    if (e != actors::submit_errc::overloaded) return settings.nak_delay;
    const auto doubled =
        settings.overloaded_nak_delay * (std::int64_t{1} << std::min<std::uint64_t>(earlier, 20));
    return std::min(settings.nak_delay, doubled);
  }

  void forget(std::uint64_t seq) {
    const std::lock_guard lock{mutex};
    deferrals.erase(seq);
  }

  // Answers JetStream on the message's reply subject (core NATS, no wait: a lost ack means a
  // redelivery after ack_wait, answered from the idempotency record). Only the connection is used,
  // never the subscription, so an answer after stop() is safe.
  void respond(natsMsg* msg, std::string_view body, std::string_view doing) const {
    const std::string to{reply_of(msg)};
    if (const natsStatus s = natsConnection_Publish(nats->connection(), to.c_str(), body.data(),
                                                    static_cast<int>(body.size()));
        s != NATS_OK) {
      probe->failed(failure(doing, s).message);
    }
  }

  void finished() {
    {
      const std::lock_guard lock{mutex};
      in_flight.fetch_sub(1);
    }
    settled.notify_all();
  }

  // Sends `body` to the message's Wallet-Reply-To subject, if it has one (core NATS: no wait).
  void reply(natsMsg* msg, const std::string& body, const std::string& key,
             const std::string& command_id) const {
    const std::string to = header_of(msg, header::reply_to);
    if (to.empty()) return;
    msg_ptr out = make_msg(to, body);
    if (!out) return;
    if (!key.empty()) natsMsgHeader_Set(out.get(), header::idempotency_key, key.c_str());
    if (!command_id.empty()) natsMsgHeader_Set(out.get(), header::command_id, command_id.c_str());
    const std::string trace = header_of(msg, header::traceparent);
    if (!trace.empty()) natsMsgHeader_Set(out.get(), header::traceparent, trace.c_str());
    if (const natsStatus s = natsConnection_PublishMsg(nats->connection(), out.get());
        s != NATS_OK) {
      probe->failed(failure("replying to " + to, s).message);
    }
  }

  void queue_dead_letter(shared_msg msg, std::string reason, std::string detail) {
    {
      const std::lock_guard lock{mutex};
      dead.push_back(dead_letter{std::move(msg), std::move(reason), std::move(detail)});
    }
    settled.notify_all();
  }

  // Publishes queued dead letters, then terminates their originals. One that cannot be stored is
  // NAKed: it comes back and is dead-lettered then.
  void publish_dead_letters() {
    std::deque<dead_letter> batch;
    {
      const std::lock_guard lock{mutex};
      batch.swap(dead);
    }
    for (auto& d : batch) {
      natsMsg* original = d.msg.get();
      msg_ptr out = make_msg(
          dead_letter_subject(settings.prefix),
          std::string_view{natsMsg_GetData(original),
                           static_cast<std::size_t>(std::max(0, natsMsg_GetDataLength(original)))});
      std::optional<nats_error> error;
      if (!out) {
        error = nats_error{"creating a dead letter", true};
      } else {
        natsMsgHeader_Set(out.get(), header::dead_reason, d.reason.c_str());
        const std::string detail = d.detail.substr(0, 1'024);
        natsMsgHeader_Set(out.get(), header::dead_detail, detail.c_str());
        natsMsgHeader_Set(out.get(), header::source_subject, natsMsg_GetSubject(original));
        if (const auto meta = pull::parse_ack_subject(reply_of(original))) {
          natsMsgHeader_Set(out.get(), header::source_stream, meta->stream.c_str());
          natsMsgHeader_Set(out.get(), header::source_sequence,
                            std::to_string(meta->stream_sequence).c_str());
          natsMsgHeader_Set(out.get(), header::deliveries,
                            std::to_string(meta->deliveries).c_str());
        }
        for (const char* key : {header::traceparent, header::msg_id, header::reply_to}) {
          const std::string v = header_of(original, key);
          if (!v.empty()) natsMsgHeader_Set(out.get(), key, v.c_str());
        }
        error = nats->publish_stored(out.get());
      }
      if (error) {
        probe->failed(error->message);
        respond(original, pull::nak_body(settings.nak_delay), "NAKing an unstored dead letter");
      } else {
        probe->dead_lettered(d.reason, d.detail);
        respond(original, pull::term_body, "terminating a dead-lettered command");
      }
      finished();
    }
  }

  // On an actor thread, once the command is decided (or refused).
  void on_outcome(const shared_msg& msg, std::uint64_t seq, const decoded_command& d,
                  const actors::submit_outcome& o) {
    probe->answered(o);
    if (o.error && retryable(*o.error)) {
      const std::uint64_t earlier = note_deferral(seq);
      probe->deferred(actors::to_string(*o.error));
      const std::chrono::milliseconds delay = nak_delay_for(*o.error, earlier);
      respond(msg.get(), pull::nak_body(delay), "NAKing a deferred command");
      finished();
      return;
    }
    const std::string body = encode_outcome(
        outcome_view{d.command.wallet_id, d.command.idempotency_key, d.command_id, o.ccy, o});
    reply(msg.get(), body, d.command.idempotency_key, d.command_id);
    forget(seq);
    if (o.error) {
      // Decided never to run (a bad wallet id, a reserved key, a write the database refuses):
      // a retry cannot help.
      queue_dead_letter(msg, std::string{actors::to_string(*o.error)}, body);
      return;
    }
    respond(msg.get(), pull::ack_body, "acking a command");
    finished();
  }

  // On a consumer thread: one fetched message; `system`: from the engine's own subjects.
  void take(shared_msg msg, bool system) {
    in_flight.fetch_add(1);
    const std::string_view data{
        natsMsg_GetData(msg.get()),
        static_cast<std::size_t>(std::max(0, natsMsg_GetDataLength(msg.get())))};
    const auto taken_at = std::chrono::steady_clock::now();
    std::uint64_t deliveries = 1;
    std::uint64_t seq = 0;
    if (const auto meta = pull::parse_ack_subject(reply_of(msg.get()))) {
      deliveries = meta->deliveries;
      seq = meta->stream_sequence;
      const auto stored = std::chrono::system_clock::time_point{
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::nanoseconds{meta->timestamp_ns})};
      probe->taken(std::max(std::chrono::nanoseconds{0},
                            std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now() - stored)));
    }
    if (deliveries > 1) probe->redelivered(deliveries);
    const std::uint64_t deferred = deferred_before(seq);
    const std::uint64_t failed = deliveries > deferred ? deliveries - deferred : 1;
    if (std::cmp_greater(data.size(), settings.message_bytes_max)) {
      queue_dead_letter(std::move(msg), "too_large",
                        std::to_string(data.size()) + " bytes, at most " +
                            std::to_string(settings.message_bytes_max));
      return;
    }
    if (std::cmp_greater(failed, settings.deliveries_max)) {
      forget(seq);
      queue_dead_letter(std::move(msg), "deliveries_exceeded",
                        "delivered " + std::to_string(deliveries) + " times, " +
                            std::to_string(deferred) + " of them deferred");
      return;
    }
    auto decoded = decode_command(data, system ? origin::engine : origin::client);
    if (!decoded.ok()) {
      const std::string body = encode_decode_error(decoded.error());
      reply(msg.get(), body, decoded.error().idempotency_key, decoded.error().command_id);
      queue_dead_letter(std::move(msg), std::string{to_string(decoded.error().kind)},
                        decoded.error().message);
      return;
    }
    const std::string subject_wallet = wallet_of_subject(natsMsg_GetSubject(msg.get()));
    if (subject_wallet != decoded.value().command.wallet_id) {
      queue_dead_letter(std::move(msg), "subject_mismatch",
                        "the subject names wallet '" + subject_wallet + "', the command wallet '" +
                            decoded.value().command.wallet_id + "'");
      return;
    }
    if (system && !actors::is_system_key(decoded.value().command.idempotency_key)) {
      // The system subjects carry only what an engine sends: a client key there is a publisher
      // without the engine's authority, or a bug.
      queue_dead_letter(
          std::move(msg), "not_system_key",
          "a system subject carried key '" + decoded.value().command.idempotency_key + "'");
      return;
    }
    auto d = std::make_shared<decoded_command>(std::move(decoded).value());
    engine::command cmd = d->command;
    actors::command_context context{d->command_id, header_of(msg.get(), header::traceparent)};
    if (context.trace_parent.size() > trace_parent_length_max) {
      context.trace_parent.clear();  // not a W3C traceparent (55 bytes); not worth storing
    }
    // The answer may come after the consumer is gone (a runtime stopping late): it keeps what it
    // needs alive.
    (system ? submit_internal : submit)(
        std::move(cmd), std::move(context),
        [self = shared_from_this(), msg = std::move(msg), seq, d,
         taken_at](const actors::submit_outcome& o) {
          self->probe->decided(std::chrono::steady_clock::now() - taken_at);
          self->on_outcome(msg, seq, *d, o);
        });
  }
};

command_consumer::command_consumer(const client& c, submit_fn submit,
                                   std::shared_ptr<consumer_probe> probe, submit_fn submit_internal)
    : client_(c), shared_(std::make_shared<shared>()) {
  shared_->nats = &c;
  shared_->settings = c.settings();
  shared_->submit = std::move(submit);
  shared_->submit_internal = std::move(submit_internal);
  shared_->probe = probe ? std::move(probe) : std::make_shared<consumer_probe>();
}

command_consumer::~command_consumer() { stop(std::chrono::milliseconds{0}); }

std::optional<nats_error> command_consumer::subscribe(std::uint32_t shard, bool system) {
  auto name = ensure_command_consumer(client_, shard, system);
  if (!name.ok()) return name.error();
  natsInbox* raw_inbox = nullptr;
  if (const natsStatus st = natsInbox_Create(&raw_inbox); st != NATS_OK) {
    return failure("creating an inbox for " + name.value(), st);
  }
  std::string inbox{raw_inbox};
  natsInbox_Destroy(raw_inbox);
  natsSubscription* sub = nullptr;
  // A bounded queue (NATS.c's default pending limits, 65,536 messages): the server never sends
  // more than the requests ask for, and ack_pending_max caps what is unacked.
  if (const natsStatus st =
          natsConnection_SubscribeSync(&sub, client_.connection(), (inbox + ".*").c_str());
      st != NATS_OK) {
    return failure("subscribing for the commands of " + name.value(), st);
  }
  subscriptions_.push_back(
      subscription{sub, std::move(inbox),
                   pull::next_subject(client_.settings().command_stream, name.value()), system});
  return std::nullopt;
}

std::optional<nats_error> command_consumer::start() {
  const nats_settings& s = client_.settings();
  std::vector<std::uint32_t> shards{0};
  if (s.partitioned) shards = s.owned_shards;
  for (const std::uint32_t shard : shards) {
    for (const bool system : {false, true}) {
      if (system && !shared_->submit_internal) continue;
      if (auto error = subscribe(shard, system)) {
        // A later start() begins afresh: no second subscription on the same durable.
        for (const subscription& made : subscriptions_) natsSubscription_Destroy(made.sub);
        subscriptions_.clear();
        return error;
      }
    }
  }
  for (const subscription& sub : subscriptions_) {
    threads_.emplace_back([this, sub] { fetch_loop(sub); });
  }
  return std::nullopt;
}

// One pull request open at a time: "<inbox>.<n>" for request n, ended by its batch, by the
// server's 408 at expiry (or another status), or by our own deadline when that never came. Each
// stream message goes to the engine the moment it arrives. NATS.c's natsSubscription_Fetch is not
// used: 3.4.1 overruns its message array when a fetch finds half a batch already queued (ADR 0008).
void command_consumer::fetch_loop(const subscription& sub) {
  using clock = std::chrono::steady_clock;
  shared& sh = *shared_;
  const int batch = std::max(sh.settings.fetch_batch, 1);
  const std::string request_body = pull::request_body(batch, pull_expires);
  std::uint64_t request = 0;  // the open (or last) request's number
  bool open = false;
  int remaining = 0;  // messages the open request may still bring
  clock::time_point deadline{};
  while (sh.fetching.load()) {
    sh.publish_dead_letters();
    const clock::time_point now = clock::now();
    if (open && now >= deadline) open = false;
    if (!open) {
      const std::string reply = sub.inbox + "." + std::to_string(++request);
      if (const natsStatus s = natsConnection_PublishRequest(client_.connection(), sub.next.c_str(),
                                                             reply.c_str(), request_body.data(),
                                                             static_cast<int>(request_body.size()));
          s != NATS_OK) {
        sh.probe->failed(failure("asking for commands", s).message);
        std::this_thread::sleep_for(poll_interval);
        continue;
      }
      open = true;
      remaining = batch;
      deadline = now + pull_expires + pull_grace;
    }
    const auto wait =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                   std::chrono::milliseconds{1}, poll_interval);
    natsMsg* raw = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&raw, sub.sub, wait.count());
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      sh.probe->failed(failure("receiving commands", s).message);
      std::this_thread::sleep_for(poll_interval);
      continue;
    }
    shared_msg msg{raw, [](natsMsg* m) { natsMsg_Destroy(m); }};
    if (!reply_of(raw).starts_with("$JS.ACK.")) {
      // Not a stream message: the server's word on a request (a client's own "Status" header
      // cannot pass for one: stream messages always carry an acknowledgement subject).
      const std::string code = header_of(raw, status_header);
      const pull::status kind = pull::classify_status(code);
      if (kind == pull::status::heartbeat) continue;
      if (answers(raw, sub.inbox, request)) open = false;
      if (kind == pull::status::conflict || kind == pull::status::other) {
        sh.probe->failed("pull request refused: " + (code.empty() ? "no status" : code) + " " +
                         header_of(raw, description_header));
        std::this_thread::sleep_for(poll_interval);
      }
      continue;
    }
    if (--remaining <= 0) open = false;
    sh.take(std::move(msg), sub.system);
  }
  nats_ReleaseThreadMemory();
}

void command_consumer::stop_fetching() { shared_->fetching.store(false); }

bool command_consumer::stop(std::chrono::milliseconds grace) {
  stop_fetching();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  shared& sh = *shared_;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    sh.publish_dead_letters();
    std::unique_lock lock{sh.mutex};
    if (!sh.dead.empty()) continue;
    if (sh.in_flight.load() == 0) break;
    if (sh.settled.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  for (const subscription& sub : subscriptions_) natsSubscription_Destroy(sub.sub);
  subscriptions_.clear();
  return sh.in_flight.load() == 0;
}

std::size_t command_consumer::in_flight() const noexcept { return shared_->in_flight.load(); }

}  // namespace wallet::nats
