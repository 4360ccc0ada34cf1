// The outbox publisher: committed events in commit order (from the stores' in-memory hand-off, or
// read back from PostgreSQL) -> pipelined publishes -> acknowledgements -> the cursor. Woken by the
// stores of this process or a NOTIFY, with a poll as the fallback.
#include "wallet/nats/event_publisher.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "wallet/nats/wire.hpp"
#include "wallet/postgres/conninfo.hpp"
#include "wallet/postgres/outbox.hpp"

namespace wallet::nats {
namespace {

using steady = std::chrono::steady_clock;

// How long a wait for a notification lasts before stop() is noticed.
constexpr std::chrono::milliseconds listen_slice{200};

struct sub_deleter {
  void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
};
using sub_ptr = std::unique_ptr<natsSubscription, sub_deleter>;

// Why the stream did not store a publish, from its acknowledgement; nullopt when it did (a
// duplicate of a stored message counts as stored).
std::optional<std::string> refusal_of(natsMsg* ack) {
  if (natsMsg_IsNoResponders(ack)) return "no responders (no stream takes this subject)";
  const std::string_view body{natsMsg_GetData(ack),
                              static_cast<std::size_t>(std::max(0, natsMsg_GetDataLength(ack)))};
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    return "an acknowledgement that is not a JSON object: " + std::string{body.substr(0, 200)};
  }
  const boost::json::object& o = v.get_object();
  if (const auto* e = o.if_contains("error")) {
    const auto* description = e->is_object() ? e->get_object().if_contains("description") : nullptr;
    if (description != nullptr && description->is_string()) {
      const boost::json::string& text = description->get_string();
      return "refused by the stream: " + std::string(text.data(), text.size());
    }
    return "refused by the stream: " + boost::json::serialize(*e);
  }
  if (!o.contains("seq")) return "an acknowledgement without a sequence";
  return std::nullopt;
}

// The acknowledgements of one publishing thread: a synchronous subscription to an inbox of its
// own. Each publish names <inbox>.<token> as its reply subject; the token identifies the event.
// Only this thread reads it, so no library callback ever touches the publisher's state.
class ack_inbox {
 public:
  ack_inbox() = default;
  ~ack_inbox() { close(); }
  ack_inbox(const ack_inbox&) = delete;
  ack_inbox& operator=(const ack_inbox&) = delete;
  ack_inbox(ack_inbox&&) = delete;
  ack_inbox& operator=(ack_inbox&&) = delete;

  std::optional<nats_error> open(natsConnection* nc) {
    natsInbox* inbox = nullptr;
    if (const natsStatus s = natsInbox_Create(&inbox); s != NATS_OK) {
      return failure("publishing: creating an inbox for acknowledgements", s);
    }
    prefix_ = std::string{inbox} + ".";
    natsInbox_Destroy(inbox);
    natsSubscription* raw = nullptr;
    const std::string subject = prefix_ + "*";
    if (const natsStatus s = natsConnection_SubscribeSync(&raw, nc, subject.c_str());
        s != NATS_OK) {
      return failure("publishing: subscribing to acknowledgements", s);
    }
    sub_.reset(raw);
    // The window bounds what can be pending; the library's default limit must not drop any.
    natsSubscription_SetPendingLimits(raw, -1, -1);
    return std::nullopt;
  }

  void close() {
    // Unsubscribed first: the connection's reader must no longer find it when it is freed.
    if (sub_) natsSubscription_Unsubscribe(sub_.get());
    sub_.reset();
  }
  [[nodiscard]] bool is_open() const noexcept { return sub_ != nullptr; }
  [[nodiscard]] std::string reply_to(std::uint64_t token) const {
    return prefix_ + std::to_string(token);
  }
  [[nodiscard]] natsSubscription* subscription() const noexcept { return sub_.get(); }

  // The token of an acknowledgement's subject; nullopt when it names none.
  [[nodiscard]] std::optional<std::uint64_t> token_of(const char* subject) const {
    const std::string_view s{subject};
    if (!s.starts_with(prefix_)) return std::nullopt;
    std::uint64_t token = 0;
    const char* first = s.data() + prefix_.size();
    const char* last = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(first, last, token);
    if (ec != std::errc{} || ptr != last) return std::nullopt;
    return token;
  }

 private:
  std::string prefix_;
  sub_ptr sub_;
};

// One wallet's events of a round: those not yet published, in seq order, and how many of the
// published ones await their acknowledgement.
struct wallet_events {
  std::deque<std::size_t> unsent;  // indices into the round's batch
  std::size_t in_flight = 0;
  bool waiting = false;  // in the round's `ready` queue
  bool lost = false;     // an event of it was refused or never acknowledged in this round
};

// What a publishing thread knows of one of its shards between rounds.
struct shard_state {
  std::shared_ptr<postgres::outbox_handoff> handoff;  // null: every round reads the outbox
  // The shard's cursor as this thread last read or moved it; unknown after a failure, and then the
  // outbox is read (which tells it) before the hand-off is used again.
  std::optional<std::int64_t> cursor;
  bool read_outbox = false;  // the next round reads the outbox even if the hand-off is complete
  bool took = false;         // the hand-off gave events since the last poll

  // Back to reading the outbox: after a failure nothing of the hand-off or the cursor is trusted.
  void reset() noexcept {
    cursor.reset();
    if (handoff) handoff->lose();
  }
};

// One shard's events of a round on their way to the stream.
struct shard_round {
  postgres::outbox_batch batch;
  // Taken from the hand-off: its entries (outbox rows), which the cursor's move checks.
  std::optional<std::size_t> rows;
  std::unordered_map<std::string_view, wallet_events> wallets;
  std::deque<std::string_view> ready;  // wallets with unsent events and room in their window
  std::size_t in_flight = 0;
  std::size_t acked = 0;
  std::optional<std::string> failure;  // set: the round of this shard publishes nothing more

  shard_round(postgres::outbox_batch b, std::optional<std::size_t> taken_rows)
      : batch(std::move(b)), rows(taken_rows) {
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      auto& w = wallets[batch.events[i].wallet_id];
      if (!w.waiting) {
        w.waiting = true;
        ready.push_back(batch.events[i].wallet_id);
      }
      w.unsent.push_back(i);
    }
  }

  [[nodiscard]] bool finished() const noexcept {
    return failure ? in_flight == 0 : acked == batch.events.size();
  }
};

struct flight {
  std::size_t round = 0;  // index into the rounds
  std::size_t event = 0;  // index into its batch
  steady::time_point deadline;
};

// One round of a publishing thread: reads the due shards, publishes their events within the
// windows, collects the acknowledgements, and moves the cursors of the shards whose events were
// all stored.
//
// Order (ADR 0011): up to wallet_window_max events of one wallet are in flight at once, published
// in seq order on a connection that never reconnects. The server stores what one connection sends
// in the order sent, and a break loses a suffix of it and nothing after, so a wallet's events
// cannot be stored out of order by a lost publish. The one way left is the stream refusing an event
// and storing a later one (a transient storage refusal); the round then waits for the acks in
// flight and reports any such later event as an order break.
class round_runner {
 public:
  round_runner(natsConnection* nc, const std::string& prefix, const publisher_settings& settings,
               publisher_probe& probe, ack_inbox& acks, std::uint64_t& next_token,
               std::unordered_map<std::uint32_t, shard_state>& states)
      : nc_(nc),
        prefix_(prefix),
        settings_(settings),
        probe_(probe),
        acks_(acks),
        next_token_(next_token),
        states_(states) {}

  struct outcome {
    // Shards whose read was full (or failed): more may be pending, so they are read again at once.
    // A read that found fewer rows took all there were; a later commit sends its own NOTIFY.
    std::vector<std::uint32_t> published;
    std::size_t events = 0;  // events whose cursor moved
    std::size_t database_reads = 0;
    std::size_t database_events = 0;
    std::size_t memory_events = 0;
    bool failed = false;
  };

  outcome run(pqxx::connection_base& conn, const std::vector<std::uint32_t>& due) {
    read(conn, due);
    if (!rounds_.empty()) {
      publish_all();
      finish(conn);
    }
    return std::move(outcome_);
  }

 private:
  void read(pqxx::connection_base& conn, const std::vector<std::uint32_t>& due) {
    for (const std::uint32_t shard : due) {
      shard_state& state = states_.at(shard);
      if (take(shard, state)) continue;
      state.read_outbox = false;
      // Recording from before the read: a commit the read does not see is in the hand-off.
      if (state.handoff) state.handoff->arm();
      auto batch = postgres::read_outbox(conn, shard, settings_.rows_per_read);
      if (!batch.ok()) {
        probe_.failed("reading the outbox of shard " + std::to_string(shard) + ": " +
                      batch.error().detail);
        outcome_.failed = true;
        continue;
      }
      state.cursor = batch.value().position_from;
      ++outcome_.database_reads;
      outcome_.database_events += batch.value().events.size();
      probe_.taken(shard, outbox_source::database, batch.value().events.size());
      // A read of fewer rows than it may took everything its snapshot had after the cursor: every
      // later commit is in the hand-off, unless it lost one (ADR 0015). Fewer events than
      // rows_per_read means fewer rows (each row holds at least one event).
      if (state.handoff && batch.value().events.size() < settings_.rows_per_read) {
        state.handoff->establish(batch.value().position_to);
      }
      if (batch.value().events.empty()) continue;
      rounds_.emplace_back(std::move(batch).value(), std::nullopt);
    }
  }

  // The shard's round from its hand-off when that is complete and the cursor known (ADR 0015):
  // true when the hand-off answered (with events or with none pending), false when the outbox
  // must be read.
  bool take(std::uint32_t shard, shard_state& state) {
    if (!state.handoff || !state.cursor || state.read_outbox) return false;
    auto taken = state.handoff->take(*state.cursor, settings_.rows_per_read);
    if (!taken) return false;  // it lost an entry since it was complete
    if (taken->empty()) return true;
    postgres::outbox_batch batch;
    batch.shard = shard;
    batch.position_from = *state.cursor;
    batch.position_to = taken->back().position;
    std::size_t events = 0;
    for (const auto& entry : *taken) events += entry.events.size();
    batch.events.reserve(events);
    for (auto& entry : *taken) {
      std::move(entry.events.begin(), entry.events.end(), std::back_inserter(batch.events));
    }
    state.took = true;
    outcome_.memory_events += events;
    probe_.taken(shard, outbox_source::memory, events);
    rounds_.emplace_back(std::move(batch), taken->size());
    return true;
  }

  void publish_all() {
    for (;;) {
      for (std::size_t r = 0; r < rounds_.size(); ++r) fill(r);
      if (std::all_of(rounds_.begin(), rounds_.end(),
                      [](const shard_round& r) { return r.finished(); })) {
        return;
      }
      await_ack();
    }
  }

  // Publishes the round's ready events while its window has room: each ready wallet sends what
  // its own window allows, oldest first, so a busy wallet's events travel together.
  void fill(std::size_t r) {
    shard_round& round = rounds_[r];
    while (!round.failure && round.in_flight < settings_.window_max && !round.ready.empty()) {
      const std::string_view wallet = round.ready.front();
      wallet_events& w = round.wallets.at(wallet);
      while (!w.unsent.empty() && w.in_flight < settings_.wallet_window_max &&
             round.in_flight < settings_.window_max) {
        const std::size_t i = w.unsent.front();
        const std::uint64_t token = next_token_++;
        if (auto error = publish(round.batch.events[i], acks_.reply_to(token))) {
          fail(r, std::move(*error));
          return;
        }
        w.unsent.pop_front();
        flights_.emplace(token, flight{r, i, steady::now() + settings_.ack_wait});
        ++w.in_flight;
        ++round.in_flight;
      }
      if (w.unsent.empty() || w.in_flight >= settings_.wallet_window_max) {
        w.waiting = false;
        round.ready.pop_front();
      }
    }
  }

  std::optional<std::string> publish(const postgres::outbox_event& e, const std::string& reply) {
    const auto ccy = engine::currency::from_code(e.currency);
    const std::string subject = event_subject(prefix_, e.wallet_id);
    const std::string body = encode_event(e.wallet_id, e.event, ccy ? *ccy : engine::currency{});
    natsMsg* raw = nullptr;
    if (natsMsg_Create(&raw, subject.c_str(), reply.c_str(), body.data(),
                       static_cast<int>(body.size())) != NATS_OK) {
      return "creating an event message for " + subject;
    }
    const msg_ptr msg{raw};
    const std::string id = e.wallet_id + ":" + std::to_string(e.event.seq);
    natsMsgHeader_Set(raw, header::msg_id, id.c_str());
    for (const auto& [key, value] : {std::pair{header::idempotency_key, &e.idempotency_key},
                                     std::pair{header::command_id, &e.command_id},
                                     std::pair{header::traceparent, &e.trace_parent}}) {
      if (!value->empty()) natsMsgHeader_Set(raw, key, value->c_str());
    }
    if (const natsStatus s = natsConnection_PublishMsg(nc_, raw); s != NATS_OK) {
      return failure("publishing to " + subject, s).message;
    }
    return std::nullopt;
  }

  // Waits for the next acknowledgement, or for the oldest publish's deadline.
  void await_ack() {
    if (flights_.empty()) return;  // every unfinished round failed and has nothing in flight
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        flights_.begin()->second.deadline - steady::now());
    natsMsg* raw = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&raw, acks_.subscription(),
                                                  std::max<std::int64_t>(1, left.count()));
    const msg_ptr ack{raw};
    if (s == NATS_OK) {
      take(ack.get());
    } else if (s == NATS_TIMEOUT) {
      const auto oldest = flights_.begin();
      if (oldest->second.deadline <= steady::now()) {
        const flight f = oldest->second;
        flights_.erase(oldest);
        shard_round& round = rounds_[f.round];
        --round.in_flight;
        const auto& e = round.batch.events[f.event];
        round.wallets.at(e.wallet_id).lost = true;
        fail(f.round, "publishing to " + event_subject(prefix_, e.wallet_id) +
                          ": no acknowledgement within " +
                          std::to_string(settings_.ack_wait.count()) + " ms");
      }
    } else if (s == NATS_NO_RESPONDERS) {
      // The library answers a "no responders" status itself and drops it, token and all: some
      // event's subject has no stream. Every round in flight stops; the next ones find out again.
      forget_unfinished(
          "publishing to the event stream: no responders (no stream takes an event subject)");
    } else {
      // The connection is gone (it never reconnects): nothing more will come on it, and nothing
      // sent after the break reached the server.
      forget_unfinished(failure("publishing: waiting for acknowledgements", s).message);
      acks_.close();
    }
  }

  void take(natsMsg* ack) {
    const auto token = acks_.token_of(natsMsg_GetSubject(ack));
    if (!token) return;
    const auto found = flights_.find(*token);
    if (found == flights_.end()) return;  // of an earlier, failed round: its events are read again
    const flight f = found->second;
    flights_.erase(found);
    shard_round& round = rounds_[f.round];
    --round.in_flight;
    const auto& e = round.batch.events[f.event];
    wallet_events& w = round.wallets.at(e.wallet_id);
    --w.in_flight;
    if (auto refusal = refusal_of(ack)) {
      w.lost = true;
      fail(f.round, "publishing to " + event_subject(prefix_, e.wallet_id) + ": " + *refusal);
      return;
    }
    if (w.lost) {
      // Stored after an earlier event of its wallet was refused or lost: subscribers see this one
      // first. Nothing can undo it; say so loudly (docs/runbooks/WalletEngineEventPublishLag.md).
      probe_.failed("event order broken: " + e.wallet_id + " seq " + std::to_string(e.event.seq) +
                    " was stored after an earlier event of the " + "wallet failed");
    }
    ++round.acked;
    if (!round.failure && !w.unsent.empty() && !w.waiting) {
      w.waiting = true;
      round.ready.push_back(e.wallet_id);  // the wallet's window has room again
    }
  }

  // Stops the round of one shard: nothing more of it is published and its cursor stays. Its
  // publishes in flight are still awaited (until their deadline), to catch an order break.
  void fail(std::size_t r, std::string why) {
    shard_round& round = rounds_[r];
    if (!round.failure) round.failure = std::move(why);
  }

  // Stops every unfinished round and forgets its publishes in flight: their acknowledgements will
  // not come.
  void forget_unfinished(const std::string& why) {
    for (std::size_t r = 0; r < rounds_.size(); ++r) {
      if (rounds_[r].finished()) continue;
      fail(r, why);
      std::erase_if(flights_, [r](const auto& entry) { return entry.second.round == r; });
      rounds_[r].in_flight = 0;
    }
  }

  void finish(pqxx::connection_base& conn) {
    for (shard_round& round : rounds_) {
      const std::uint32_t shard = round.batch.shard;
      shard_state& state = states_.at(shard);
      // Fewer events than rows_per_read means fewer rows (each row holds at least one event); a
      // take of fewer entries than that emptied the hand-off.
      if (round.rows ? *round.rows >= settings_.rows_per_read
                     : round.batch.events.size() >= settings_.rows_per_read) {
        outcome_.published.push_back(shard);
      }
      if (round.failure) {
        // Resuming from the cursor keeps each wallet's order; what was stored is a duplicate.
        probe_.failed(*round.failure);
        outcome_.failed = true;
        continue;
      }
      auto advanced = postgres::advance_outbox(conn, shard, round.batch.position_to, round.rows);
      if (!advanced.ok()) {
        probe_.failed("moving the outbox cursor of shard " + std::to_string(shard) + ": " +
                      advanced.error().detail);
        outcome_.failed = true;
        continue;
      }
      state.cursor = advanced.value();
      outcome_.events += round.batch.events.size();
      probe_.published(shard, round.batch.events.size());
    }
  }

  natsConnection* nc_;
  const std::string& prefix_;
  const publisher_settings& settings_;
  publisher_probe& probe_;
  ack_inbox& acks_;
  std::uint64_t& next_token_;
  std::unordered_map<std::uint32_t, shard_state>& states_;
  std::deque<shard_round> rounds_;           // deque: growing it keeps references valid
  std::map<std::uint64_t, flight> flights_;  // by token, which is the order of publishing
  outcome outcome_;
};

// The shards of `wakeup` that are among `mine`.
std::vector<std::uint32_t> woken(const postgres::outbox_wakeup& wakeup,
                                 const std::vector<std::uint32_t>& mine) {
  if (wakeup.every_shard) return mine;
  std::vector<std::uint32_t> out;
  for (const std::uint32_t s : wakeup.shards) {
    if (std::find(mine.begin(), mine.end(), s) != mine.end()) out.push_back(s);
  }
  return out;
}

}  // namespace

event_publisher::event_publisher(const client& c, publisher_settings settings,
                                 std::shared_ptr<publisher_probe> probe)
    : client_(c),
      settings_(std::move(settings)),
      probe_(probe ? std::move(probe) : std::make_shared<publisher_probe>()) {
  settings_.window_max = std::max<std::size_t>(settings_.window_max, 1);
  settings_.wallet_window_max = std::max<std::size_t>(settings_.wallet_window_max, 1);
  settings_.rows_per_read = std::max<std::size_t>(settings_.rows_per_read, 1);
}

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
    threads_.emplace_back([this, share = std::move(share)] { run(share); });
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

bool event_publisher::pause(std::chrono::milliseconds d) {
  std::unique_lock lock{mutex_};
  return !wake_.wait_for(lock, d, [this] { return !running_.load(); });
}

void event_publisher::run(const std::vector<std::uint32_t>& shards) {
  std::shared_ptr<postgres::outbox_signal> signal;  // the stores' wake-ups for `shards`
  std::unordered_map<std::uint32_t, shard_state> states;
  for (const std::uint32_t s : shards) states[s] = shard_state{};
  if (settings_.wakeups) {
    signal = std::make_shared<postgres::outbox_signal>();
    std::vector<std::shared_ptr<postgres::outbox_handoff>> handoffs;
    if (settings_.handoff_events_max > 0) {
      for (const std::uint32_t s : shards) {
        handoffs.push_back(
            std::make_shared<postgres::outbox_handoff>(settings_.handoff_events_max));
        states[s].handoff = handoffs.back();
      }
    }
    settings_.wakeups->attach(shards, signal, handoffs);
  }
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<postgres::outbox_listener> listener;  // destroyed before its connection
  connection_ptr nc;  // this thread's own: it never reconnects (ADR 0011)
  ack_inbox acks;     // on `nc`, closed before it
  std::uint64_t next_token = 1;
  std::vector<std::uint32_t> due;
  auto read_all_at = steady::now();  // when every shard is read next (the fallback poll)
  // Rounds are paced: one that finds the notified commits waits until round_interval after the
  // previous round began, so a round takes several commits (each round costs PostgreSQL two
  // transactions per shard, whatever it publishes). A round that left rows behind is followed at
  // once.
  steady::time_point next_round_at{};
  bool behind = false;
  // Every shard is due; after a failure (or a new connection) each reads its outbox first.
  auto due_all = [&](bool failed) {
    due = shards;
    read_all_at = steady::now();
    for (auto& [shard, state] : states) {
      if (failed) {
        state.reset();
      } else {
        // The poll: a shard whose hand-off gave nothing since the last one reads the outbox, for a
        // commit of another process (it is cheap when nothing is pending).
        state.read_outbox = state.read_outbox || !state.took;
      }
      state.took = false;
    }
  };
  due_all(true);
  while (running_.load()) {
    bool failed = false;
    try {
      if (!conn || !conn->is_open()) {
        listener.reset();
        conn = std::make_unique<pqxx::connection>(settings_.conninfo);
        // The cursor is a position to resume from: if a crash of PostgreSQL loses its last
        // moves, the events after it are published again and the stream drops them as
        // duplicates. Not waiting for the flush keeps the round short.
        conn->set_variable("synchronous_commit", "off");
        auto l = postgres::outbox_listener::listen(*conn, signal);
        if (!l.ok()) throw std::runtime_error(l.error().detail);
        listener = std::move(l).value();
        due_all(true);  // whatever was notified while nobody listened
      }
      if (nc && natsConnection_Status(nc.get()) != NATS_CONN_STATUS_CONNECTED) {
        // Broken: it stays closed. A new one starts from the cursors; what the old one stored
        // is a duplicate the stream drops.
        acks.close();
        nc.reset();
        due_all(true);
      }
      if (!nc) {
        if (!client_.connected()) {
          // The main connection's callbacks report the outage; wait for it to come back.
          if (!pause(settings_.retry)) break;
          continue;
        }
        auto opened = client_.connect_once("publisher");
        if (!opened.ok()) {
          probe_->failed(opened.error().message);
          if (!pause(settings_.retry)) break;
          continue;
        }
        nc = std::move(opened).value();
      }
      if (!acks.is_open()) {
        if (auto error = acks.open(nc.get())) {
          probe_->failed(error->message);
          if (!pause(settings_.retry)) break;
          continue;
        }
      }
      // Notifications are taken between rounds, waiting only when nothing is due.
      const auto paced =
          due.empty() || behind
              ? std::chrono::milliseconds{0}
              : std::max(std::chrono::milliseconds{0}, std::chrono::ceil<std::chrono::milliseconds>(
                                                           next_round_at - steady::now()));
      const auto wait =
          due.empty()
              ? std::min(listen_slice, std::chrono::ceil<std::chrono::milliseconds>(
                                           read_all_at + settings_.idle_poll - steady::now()))
              : paced;
      auto wakeup = listener->await(wait);
      if (!wakeup.ok()) throw std::runtime_error(wakeup.error().detail);
      for (const std::uint32_t s : woken(wakeup.value(), shards)) {
        if (std::find(due.begin(), due.end(), s) == due.end()) due.push_back(s);
      }
      // A NOTIFY names commits of a store without this thread: only the outbox has them.
      for (const std::uint32_t s : wakeup.value().notified) {
        if (const auto it = states.find(s); it != states.end()) it->second.read_outbox = true;
      }
      if (wakeup.value().every_shard) {
        for (auto& [shard, state] : states) state.read_outbox = true;
      }
      if (steady::now() >= read_all_at + settings_.idle_poll) due_all(false);
      if (due.empty()) continue;
      if (!behind && steady::now() < next_round_at) continue;  // notifications gather meanwhile
      next_round_at = steady::now() + settings_.round_interval;
      auto result =
          round_runner{nc.get(), client_.settings().prefix, settings_, *probe_, acks, next_token,
                       states}
              .run(*conn, due);
      published_.fetch_add(result.events);
      database_reads_.fetch_add(result.database_reads);
      database_events_.fetch_add(result.database_events);
      memory_events_.fetch_add(result.memory_events);
      failed = result.failed;
      // A shard whose read was full may have more; after a failure everything is read again.
      if (failed) {
        due_all(true);
      } else {
        due = std::move(result.published);
      }
      behind = !due.empty();
    } catch (const std::exception& e) {
      // The connection could not be made or was lost: the message may name the server, never
      // the password (libpq does not repeat it).
      probe_->failed(postgres::scrub_secret(std::string{"connecting to PostgreSQL: "} + e.what(),
                                            postgres::conninfo_password(settings_.conninfo)));
      listener.reset();
      conn.reset();
      failed = true;
      due_all(true);
    }
    if (failed && !pause(settings_.retry)) break;
  }
  if (signal) settings_.wakeups->detach(*signal);  // the stores NOTIFY again
  listener.reset();
  acks.close();
  nc.reset();
  nats_ReleaseThreadMemory();
}

}  // namespace wallet::nats
