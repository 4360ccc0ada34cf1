// The NATS adapter against the real nats-server and PostgreSQL that scripts/services.sh starts
// (WALLET_NATS_URL, WALLET_PG_URL): commands in with their outcomes, acks, NAKs and dead letters,
// and the outbox publisher. Each test has its own database, subject prefix and streams.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "pg_fixture.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/nats/client.hpp"
#include "wallet/nats/command_consumer.hpp"
#include "wallet/nats/event_publisher.hpp"
#include "wallet/nats/query_service.hpp"
#include "wallet/postgres/database.hpp"
#include "wallet/postgres/outbox.hpp"
#include "wallet_sim.hpp"

namespace wallet::nats {
namespace {

using namespace std::chrono_literals;

struct sub_deleter {
  void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
};
using sub_ptr = std::unique_ptr<natsSubscription, sub_deleter>;

// Counts what the consumer reports.
struct counting_probe final : consumer_probe {
  void redelivered(std::uint64_t /*deliveries*/) override { ++redeliveries; }
  void deferred(std::string_view /*why*/) override { ++deferrals; }
  void dead_lettered(std::string_view /*reason*/, std::string_view /*detail*/) override {
    ++dead_letters;
  }
  void failed(std::string_view /*what*/) override { ++failures; }
  std::atomic<int> redeliveries{0};
  std::atomic<int> failures{0};
  std::atomic<int> deferrals{0};
  std::atomic<int> dead_letters{0};
};

// Keeps what the publisher reports as failed.
struct publisher_failures final : publisher_probe {
  void failed(std::string_view what) override {
    const std::lock_guard lock{mutex};
    seen.emplace_back(what);
  }
  std::size_t count(std::string_view prefix) {
    const std::lock_guard lock{mutex};
    return static_cast<std::size_t>(std::count_if(
        seen.begin(), seen.end(), [&](const std::string& f) { return f.starts_with(prefix); }));
  }
  std::mutex mutex;
  std::vector<std::string> seen;
};

// Waits up to `limit` for `done`.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit) {
  for (auto waited = 0ms; waited < limit; waited += 10ms) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

class nats_test : public postgres::testing::pg_test {
 protected:
  void SetUp() override {
    pg_test::SetUp();
    if (HasFatalFailure()) return;
    const char* url = std::getenv("WALLET_NATS_URL");
    ASSERT_TRUE(url != nullptr && *url != '\0')
        << "WALLET_NATS_URL is not set: run the tests under scripts/services.sh";
    static std::atomic<int> counter{0};
    const std::string id = std::to_string(::getpid()) + "x" + std::to_string(++counter);
    settings.url = url;
    settings.prefix = "t" + id;
    settings.command_stream = "C" + id;
    settings.event_stream = "E" + id;
    settings.dead_letter_stream = "D" + id;
    settings.memory_storage = true;
    settings.ack_wait = 2s;
    settings.nak_delay = 50ms;
    settings.deliveries_max = 3;
    ASSERT_TRUE(postgres::migrate(db()).ok());
    ASSERT_TRUE(postgres::ensure_shard_count(db(), shards).ok());
  }

  void connect() {
    auto c = client::connect(settings, connection_events{});
    ASSERT_TRUE(c.ok()) << c.error().message;
    nats = std::move(c).value();
    for (int i = 0; i < 200 && !nats->connected(); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(nats->connected());
    const auto error = ensure_streams(*nats);
    ASSERT_FALSE(error) << error->message;
  }

  // `wakeups`: the stores wake the publisher in process (ADR 0014) rather than by NOTIFY.
  void start_runtime(std::shared_ptr<postgres::outbox_wakeups> wakeups = nullptr) {
    actors::runtime_settings rs;
    rs.shards = shards;
    cfg.set("scheduler.max-threads", std::size_t{2});
    system = std::make_unique<caf::actor_system>(cfg);
    auto base = store_settings(0, shards);
    base.wakeups = std::move(wakeups);
    runtime = std::make_unique<actors::runtime>(
        *system, rs,
        [base](std::uint32_t shard) {
          auto s = base;
          s.shard_id = shard;
          return std::make_unique<postgres::pg_store>(s);
        },
        nullptr);
  }

  // The consumer over the runtime; `intercept` may answer in its place.
  void start_consumer(std::function<bool(const engine::command&,
                                         const std::function<void(actors::submit_outcome)>&)>
                          intercept = nullptr) {
    consumer = std::make_unique<command_consumer>(
        *nats,
        [this, intercept](engine::command cmd, actors::command_context context,
                          std::function<void(actors::submit_outcome)> done) {
          if (intercept && intercept(cmd, done)) return;
          runtime->submit(std::move(cmd), std::move(context), std::move(done));
        },
        probe);
    const auto error = consumer->start();
    ASSERT_FALSE(error) << error->message;
  }

  void TearDown() override {
    if (consumer) consumer->stop(2s);
    if (runtime) runtime->stop(2s);
    if (system) system->await_all_actors_done();
    consumer.reset();
    if (nats) {
      for (const auto& stream :
           {settings.command_stream, settings.event_stream, settings.dead_letter_stream}) {
        js_DeleteStream(nats->jetstream(), stream.c_str(), nullptr, nullptr);
      }
    }
    nats.reset();
    pg_test::TearDown();
  }

  sub_ptr subscribe(const std::string& subject) {
    natsSubscription* s = nullptr;
    EXPECT_EQ(natsConnection_SubscribeSync(&s, nats->connection(), subject.c_str()), NATS_OK);
    natsConnection_Flush(nats->connection());
    return sub_ptr{s};
  }

  // Publishes a command to the command stream, asking for the outcome on `reply_to`.
  void send(const std::string& wallet, const std::string& json, const std::string& reply_to,
            const std::string& msg_id = "") {
    msg_ptr m = make_msg(command_subject(settings.prefix, wallet), json);
    ASSERT_TRUE(m);
    if (!reply_to.empty()) natsMsgHeader_Set(m.get(), header::reply_to, reply_to.c_str());
    if (!msg_id.empty()) natsMsgHeader_Set(m.get(), header::msg_id, msg_id.c_str());
    const auto error = nats->publish_stored(m.get());
    ASSERT_FALSE(error) << error->message;
  }

  static msg_ptr next(natsSubscription* s, std::chrono::milliseconds wait = 10s) {
    natsMsg* m = nullptr;
    if (natsSubscription_NextMsg(&m, s, wait.count()) != NATS_OK) return nullptr;
    return msg_ptr{m};
  }

  static boost::json::object body(natsMsg* m) {
    return boost::json::parse(std::string_view{natsMsg_GetData(m),
                                               static_cast<std::size_t>(natsMsg_GetDataLength(m))})
        .as_object();
  }

  std::int64_t consumer_pending_acks() {
    jsConsumerInfo* info = nullptr;
    const std::string name = "walletd-cmd";
    EXPECT_EQ(js_GetConsumerInfo(&info, nats->jetstream(), settings.command_stream.c_str(),
                                 name.c_str(), nullptr, nullptr),
              NATS_OK);
    const std::int64_t pending = info == nullptr ? -1 : info->NumAckPending;
    jsConsumerInfo_Destroy(info);
    return pending;
  }

  // Every message of the event stream, per wallet in stream order: the "seq" of each (-1 when a
  // message has none).
  std::map<std::string, std::vector<std::int64_t>> read_event_stream(int& read) {
    natsSubscription* raw = nullptr;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.DeliverPolicy = js_DeliverAll;
    const std::string filter = settings.prefix + ".evt.*";
    EXPECT_EQ(
        js_PullSubscribe(&raw, nats->jetstream(), filter.c_str(), nullptr, nullptr, &so, nullptr),
        NATS_OK);
    const sub_ptr reader{raw};
    std::map<std::string, std::vector<std::int64_t>> seqs;
    read = 0;
    for (;;) {
      natsMsgList list{nullptr, 0};
      if (natsSubscription_Fetch(&list, reader.get(), 256, 1'000, nullptr) != NATS_OK) break;
      for (int i = 0; i < list.Count; ++i) {
        ++read;
        const auto o = body(list.Msgs[i]);
        natsMsg_Ack(list.Msgs[i], nullptr);
        const std::string wallet{
            std::string_view{natsMsg_GetSubject(list.Msgs[i])}.substr(filter.size() - 1)};
        seqs[wallet].push_back(o.contains("seq") ? o.at("seq").as_int64() : -1);
      }
      natsMsgList_Destroy(&list);
    }
    return seqs;
  }

  // Opens `wallets` wallets e0.. and makes `deposits` deposits on each, through the runtime.
  void make_events(int wallets, int first_deposit, int deposits) {
    std::vector<std::future<actors::submit_outcome>> answers;
    const auto eur = *engine::currency::from_code("EUR");
    if (first_deposit == 0) {
      for (int w = 0; w < wallets; ++w) {
        answers.push_back(
            runtime->submit({"e" + std::to_string(w), "open", engine::open_wallet{"o", eur, 0}}));
      }
      for (auto& a : answers) ASSERT_TRUE(a.get().accepted());
      answers.clear();
    }
    for (int i = first_deposit; i < first_deposit + deposits; ++i) {
      for (int w = 0; w < wallets; ++w) {
        answers.push_back(runtime->submit(
            {"e" + std::to_string(w), "d" + std::to_string(i), engine::deposit{{1 + i, eur}}}));
      }
    }
    for (auto& a : answers) ASSERT_TRUE(a.get().accepted());
  }

  publisher_settings publisher_for_all_shards() const {
    publisher_settings ps;
    ps.conninfo = url_;
    for (std::uint32_t s = 0; s < shards; ++s) ps.shards.push_back(s);
    ps.idle_poll = 20ms;
    ps.retry = 100ms;
    return ps;
  }

  static std::string open_json(const std::string& wallet) {
    return R"({"type":"open_wallet","wallet_id":")" + wallet +
           R"(","idempotency_key":"open","owner":"o1","currency":"EUR"})";
  }
  static std::string deposit_json(const std::string& wallet, const std::string& key,
                                  const std::string& amount) {
    return R"({"type":"deposit","wallet_id":")" + wallet + R"(","idempotency_key":")" + key +
           R"(","amount":")" + amount + R"(","currency":"EUR"})";
  }

  std::uint32_t shards = 4;
  nats_settings settings;
  std::unique_ptr<client> nats;
  std::shared_ptr<counting_probe> probe = std::make_shared<counting_probe>();
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<actors::runtime> runtime;
  std::unique_ptr<command_consumer> consumer;
};

TEST_F(nats_test, a_command_is_answered_after_its_commit_and_acked) {
  connect();
  start_runtime();
  start_consumer();
  const auto replies = subscribe("reply.a");
  send("w1", open_json("w1"), "reply.a");
  auto opened = next(replies.get());
  ASSERT_TRUE(opened);
  EXPECT_EQ(body(opened.get()).at("status").as_string(), "accepted");
  send("w1", deposit_json("w1", "d1", "12.34"), "reply.a");
  auto deposited = next(replies.get());
  ASSERT_TRUE(deposited);
  const auto o = body(deposited.get());
  EXPECT_EQ(o.at("status").as_string(), "accepted");
  EXPECT_EQ(o.at("balance").as_string(), "12.34");
  EXPECT_EQ(header_of(deposited.get(), header::idempotency_key), "d1");
  // Answered means committed.
  EXPECT_EQ(sql("SELECT balance FROM wallets WHERE id = 'w1'")[0][0].as<std::int64_t>(), 1'234);
  ASSERT_TRUE([&] {
    for (int i = 0; i < 200; ++i) {
      if (consumer_pending_acks() == 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }()) << "the commands were not acked";
}

TEST_F(nats_test, a_repeated_command_is_applied_once_and_answered_as_a_replay) {
  connect();
  start_runtime();
  start_consumer();
  const auto replies = subscribe("reply.b");
  send("w2", open_json("w2"), "reply.b");
  ASSERT_TRUE(next(replies.get()));
  send("w2", deposit_json("w2", "d1", "5"), "reply.b", "m1");
  send("w2", deposit_json("w2", "d1", "5"), "reply.b", "m1");  // dropped by the stream
  send("w2", deposit_json("w2", "d1", "5"), "reply.b", "m2");  // a new message, same key
  auto first = next(replies.get());
  auto second = next(replies.get());
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(body(first.get()).at("replayed").as_bool());
  EXPECT_TRUE(body(second.get()).at("replayed").as_bool());
  EXPECT_FALSE(next(replies.get(), 300ms)) << "the stream's deduplication let a copy through";
  EXPECT_EQ(sql("SELECT balance FROM wallets WHERE id = 'w2'")[0][0].as<std::int64_t>(), 500);
}

TEST_F(nats_test, undecodable_and_invalid_commands_go_to_dead_letters_at_once) {
  connect();
  start_runtime();
  start_consumer();
  const auto replies = subscribe("reply.c");
  const auto dead = subscribe(settings.prefix + ".dlq.>");
  send("w3", "not json", "reply.c");
  send("w3",
       R"({"type":"deposit","wallet_id":"w3","idempotency_key":"k","amount":"1.234",)"
       R"("currency":"EUR"})",
       "reply.c");
  send("w4", open_json("w3"), "reply.c");      // the subject names another wallet
  std::map<std::string, std::string> reasons;  // reason -> source subject
  for (int i = 0; i < 3; ++i) {
    auto d = next(dead.get());
    ASSERT_TRUE(d) << "dead letter " << i << " missing";
    reasons[header_of(d.get(), header::dead_reason)] = header_of(d.get(), header::source_subject);
    EXPECT_FALSE(header_of(d.get(), header::source_sequence).empty());
    EXPECT_EQ(header_of(d.get(), header::deliveries), "1");
  }
  EXPECT_EQ(reasons["malformed"], settings.prefix + ".cmd.w3");
  EXPECT_EQ(reasons["invalid"], settings.prefix + ".cmd.w3");
  EXPECT_EQ(reasons["subject_mismatch"], settings.prefix + ".cmd.w4");
  // The sender of a refused command hears why.
  auto r1 = next(replies.get());
  auto r2 = next(replies.get());
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(body(r1.get()).at("status").as_string(), "refused");
  EXPECT_EQ(body(r2.get()).at("status").as_string(), "refused");
  // Terminated, not redelivered; nothing reached the database.
  EXPECT_FALSE(next(dead.get(), 2'500ms)) << "a dead-lettered command came back";
  EXPECT_EQ(probe->redeliveries.load(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM wallets")[0][0].as<long>(), 0);
}

TEST_F(nats_test, an_overloaded_engine_defers_commands_and_loses_none) {
  connect();
  start_runtime();
  // More deferrals than deliveries_max: deferrals are not failures.
  std::atomic<int> refusals{5};
  start_consumer(
      [&](const engine::command&, const std::function<void(actors::submit_outcome)>& done) {
        if (refusals.fetch_sub(1) <= 0) return false;
        done(actors::refused(actors::submit_errc::overloaded));
        return true;
      });
  const auto replies = subscribe("reply.d");
  send("w5", open_json("w5"), "reply.d");
  auto r = next(replies.get());
  ASSERT_TRUE(r);
  EXPECT_EQ(body(r.get()).at("status").as_string(), "accepted");
  EXPECT_EQ(probe->deferrals.load(), 5);
  EXPECT_EQ(probe->redeliveries.load(), 5);
  EXPECT_EQ(probe->dead_letters.load(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM wallets WHERE id = 'w5'")[0][0].as<long>(), 1);
}

// A backlog many pull requests deep (the consumer asks for 16 at a time) is taken once each: every
// command answered once, nothing redelivered or dead-lettered, every ack reaching the server.
TEST_F(nats_test, a_backlog_of_many_batches_is_taken_once_each) {
  settings.fetch_batch = 16;
  connect();
  start_runtime();
  constexpr int wallets = 8;
  constexpr int deposits = 60;  // 480 commands: 30 requests' worth
  const auto replies = subscribe("reply.backlog");
  for (int w = 0; w < wallets; ++w) {
    send("b" + std::to_string(w), open_json("b" + std::to_string(w)), "reply.backlog");
    for (int i = 0; i < deposits; ++i) {
      send("b" + std::to_string(w),
           deposit_json("b" + std::to_string(w), "k" + std::to_string(i), "1.00"), "reply.backlog");
    }
  }
  start_consumer();
  std::map<std::string, int> answers;  // wallet/key -> times answered
  for (int i = 0; i < wallets * (deposits + 1); ++i) {
    auto r = next(replies.get());
    ASSERT_TRUE(r) << "answer " << i << " missing";
    const auto o = body(r.get());
    EXPECT_EQ(o.at("status").as_string(), "accepted");
    EXPECT_FALSE(o.at("replayed").as_bool());
    ++answers[std::string{o.at("wallet_id").as_string()} + "/" +
              header_of(r.get(), header::idempotency_key)];
  }
  EXPECT_EQ(answers.size(), static_cast<std::size_t>(wallets * (deposits + 1)));
  EXPECT_FALSE(next(replies.get(), 1'000ms)) << "a command was answered twice";
  EXPECT_EQ(sql("SELECT sum(balance) FROM wallets")[0][0].as<std::int64_t>(),
            std::int64_t{wallets} * deposits * 100);
  EXPECT_EQ(probe->redeliveries.load(), 0);
  EXPECT_EQ(probe->dead_letters.load(), 0);
  EXPECT_TRUE(eventually([&] { return consumer_pending_acks() == 0; }, 5s))
      << "the acks did not reach the server";
}

// An idle consumer's pull requests expire (the server answers 408) and are renewed without a
// failure being reported; a command sent after several expiries is still taken.
TEST_F(nats_test, an_idle_consumer_renews_its_requests_quietly) {
  connect();
  start_runtime();
  start_consumer();
  const auto replies = subscribe("reply.idle");
  std::this_thread::sleep_for(1'800ms);  // three pull requests expire meanwhile
  send("i1", open_json("i1"), "reply.idle");
  auto r = next(replies.get());
  ASSERT_TRUE(r);
  EXPECT_EQ(body(r.get()).at("status").as_string(), "accepted");
  EXPECT_EQ(probe->failures.load(), 0) << "an expired request was reported as a failure";
}

// `overloaded` is brief (a wallet's queue full for a moment): its redeliveries start at
// overloaded_nak_delay and double. `unavailable` (an open circuit) still waits nak_delay.
TEST_F(nats_test, an_overloaded_command_comes_back_sooner_than_an_unavailable_one) {
  settings.nak_delay = 3s;
  settings.overloaded_nak_delay = 20ms;
  connect();
  start_runtime();
  std::atomic<int> overloads{3};
  std::atomic<int> outages{1};
  start_consumer(
      [&](const engine::command& cmd, const std::function<void(actors::submit_outcome)>& done) {
        if (cmd.wallet_id == "w7" && overloads.fetch_sub(1) > 0) {
          done(actors::refused(actors::submit_errc::overloaded));
          return true;
        }
        if (cmd.wallet_id == "w8" && outages.fetch_sub(1) > 0) {
          done(actors::refused(actors::submit_errc::unavailable));
          return true;
        }
        return false;
      });
  const auto replies = subscribe("reply.o");
  const auto answered_after = [&](const std::string& wallet) {
    const auto sent = std::chrono::steady_clock::now();
    send(wallet, open_json(wallet), "reply.o");
    auto r = next(replies.get(), 20s);
    EXPECT_TRUE(r && body(r.get()).at("status").as_string() == "accepted") << wallet;
    return std::chrono::steady_clock::now() - sent;
  };
  const auto overloaded = answered_after("w7");  // 20 + 40 + 80 ms of delays
  EXPECT_LT(overloaded, 2s) << "three overloads waited nats.nak_delay_ms each";
  EXPECT_GE(answered_after("w8"), 3s) << "an unavailable command came back before its delay";
  EXPECT_EQ(probe->deferrals.load(), 4);
}

// A command whose processing never finishes (the engine hangs on it, or the process dies with
// it) comes back after ack_wait; after deliveries_max such deliveries it is dead-lettered.
TEST_F(nats_test, a_command_that_keeps_failing_is_dead_lettered_after_its_deliveries) {
  settings.ack_wait = 1s;
  connect();
  start_runtime();
  start_consumer(
      [&](const engine::command&,
          const std::function<void(actors::submit_outcome)>& /*never answered*/) { return true; });
  const auto dead = subscribe(settings.prefix + ".dlq.>");
  send("w6", open_json("w6"), "");
  auto d = next(dead.get(), 15s);
  ASSERT_TRUE(d);
  EXPECT_EQ(header_of(d.get(), header::dead_reason), "deliveries_exceeded");
  EXPECT_EQ(header_of(d.get(), header::deliveries), std::to_string(settings.deliveries_max + 1));
  EXPECT_EQ(probe->deferrals.load(), 0);
  EXPECT_FALSE(next(dead.get(), 1'500ms));
}

// ...and the command's id, key and trace context travel on to its events.
TEST_F(nats_test, a_wallet_id_with_a_dot_travels_as_a_tilde) {
  const char* trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  connect();
  start_runtime();
  start_consumer();
  const auto replies = subscribe("reply.e");
  const auto events = subscribe(settings.prefix + ".evt.*");
  EXPECT_EQ(command_subject(settings.prefix, "acme.eu-1"), settings.prefix + ".cmd.acme~eu-1");
  {
    msg_ptr m =
        make_msg(command_subject(settings.prefix, "acme.eu-1"),
                 R"({"type":"open_wallet","wallet_id":"acme.eu-1","idempotency_key":"open",)"
                 R"("owner":"o1","currency":"EUR","command_id":"c-42"})");
    natsMsgHeader_Set(m.get(), header::reply_to, "reply.e");
    natsMsgHeader_Set(m.get(), header::traceparent, trace);
    ASSERT_FALSE(nats->publish_stored(m.get()));
  }
  auto r = next(replies.get());
  ASSERT_TRUE(r);
  EXPECT_EQ(body(r.get()).at("status").as_string(), "accepted");
  EXPECT_EQ(body(r.get()).at("wallet_id").as_string(), "acme.eu-1");
  publisher_settings ps;
  ps.conninfo = url_;
  for (std::uint32_t s = 0; s < shards; ++s) ps.shards.push_back(s);
  ps.idle_poll = 20ms;
  event_publisher publisher{*nats, ps, nullptr};
  publisher.start();
  auto e = next(events.get());
  publisher.stop();
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string{natsMsg_GetSubject(e.get())}, settings.prefix + ".evt.acme~eu-1");
  EXPECT_EQ(body(e.get()).at("wallet_id").as_string(), "acme.eu-1");
  EXPECT_EQ(header_of(e.get(), header::msg_id), "acme.eu-1:1");
  EXPECT_EQ(header_of(e.get(), header::idempotency_key), "open");
  EXPECT_EQ(header_of(e.get(), header::command_id), "c-42");
  EXPECT_EQ(header_of(e.get(), header::traceparent), trace);
}

TEST_F(nats_test, committed_events_reach_the_event_stream_once_and_in_order) {
  connect();
  start_runtime();
  constexpr int wallets = 12;
  constexpr int deposits = 15;
  make_events(wallets, 0, deposits);
  // A publisher that crashed after publishing the first events of e0 but before moving its
  // cursor: they are in the stream already and are published again.
  for (int seq = 1; seq <= 3; ++seq) {
    msg_ptr m = make_msg(event_subject(settings.prefix, "e0"), R"({"early":true})");
    natsMsgHeader_Set(m.get(), header::msg_id, ("e0:" + std::to_string(seq)).c_str());
    ASSERT_FALSE(nats->publish_stored(m.get()));
  }
  event_publisher publisher{*nats, publisher_for_all_shards(), nullptr};
  publisher.start();
  constexpr int total = wallets * (deposits + 1);
  for (int i = 0; i < 500 && publisher.published() < total; ++i) std::this_thread::sleep_for(10ms);
  publisher.stop();
  ASSERT_EQ(publisher.published(), static_cast<std::uint64_t>(total));
  int read = 0;
  auto seqs = read_event_stream(read);
  EXPECT_EQ(read, total) << "an event is missing or doubled";
  for (int w = 0; w < wallets; ++w) {
    const std::string id = "e" + std::to_string(w);
    std::vector<std::int64_t> expected;
    for (int s = 1; s <= deposits + 1; ++s) expected.push_back(w == 0 && s <= 3 ? -1 : s);
    EXPECT_EQ(seqs[id], expected) << id << ": out of order, doubled or missing";
  }
  EXPECT_EQ(sql("SELECT count(*) FROM event_outbox")[0][0].as<long>(), 0);
}

// A nats-server of the test's own (the shared one must stay up for the other tests), stopped and
// started again with its JetStream files while events are being committed.
class private_nats_server {
 public:
  explicit private_nats_server(std::string dir) : dir_(std::move(dir)) {
    port_ = 40'000 + static_cast<int>(::getpid() % 20'000);
  }
  ~private_nats_server() { stop(); }
  private_nats_server(const private_nats_server&) = delete;
  private_nats_server& operator=(const private_nats_server&) = delete;
  private_nats_server(private_nats_server&&) = delete;
  private_nats_server& operator=(private_nats_server&&) = delete;

  [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

  bool start() {
    const std::string cmd = "nats-server -a 127.0.0.1 -p " + std::to_string(port_) + " -js -sd '" +
                            dir_ + "/store' -P '" + dir_ + "/pid' >>'" + dir_ + "/log' 2>&1 &";
    if (std::system(cmd.c_str()) != 0) return false;  // NOLINT(cert-env33-c): the test's server
    for (int i = 0; i < 500; ++i) {
      if (pid() > 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  // SIGSTOP: the connection stays up, but nothing is stored or acknowledged until resume().
  void pause() const { ::kill(pid(), SIGSTOP); }
  void resume() const { ::kill(pid(), SIGCONT); }

  void stop() {
    const int p = pid();
    if (p <= 0) return;
    ::kill(p, SIGCONT);  // a paused server cannot handle SIGTERM
    ::kill(p, SIGTERM);
    for (int i = 0; i < 500 && ::kill(p, 0) == 0; ++i) std::this_thread::sleep_for(10ms);
    std::filesystem::remove(dir_ + "/pid");
  }

 private:
  [[nodiscard]] int pid() const {
    std::ifstream in(dir_ + "/pid");
    int p = 0;
    in >> p;
    return p;
  }

  std::string dir_;
  int port_ = 0;
};

class nats_outage_test : public nats_test {
 protected:
  // `in_memory`: the stores hand their events to the publisher (ADR 0015); the commits made while
  // NATS is away reach it in memory, and must still come out of the outbox.
  void resumes_after_an_outage(bool in_memory) {
    const std::string dir = ::testing::TempDir() + "nats-outage-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    private_nats_server server{dir};
    ASSERT_TRUE(server.start()) << "cannot start nats-server (see " << dir << "/log)";
    settings.url = server.url();
    settings.memory_storage = false;  // the stream must survive the server's restart
    connect();
    auto wakeups = in_memory ? std::make_shared<postgres::outbox_wakeups>() : nullptr;
    start_runtime(wakeups);
    constexpr int wallets = 8;
    make_events(wallets, 0, 5);
    auto ps = publisher_for_all_shards();
    ps.wakeups = wakeups;
    event_publisher publisher{*nats, ps, nullptr};
    publisher.start();
    for (int i = 0; i < 500 && publisher.published() < wallets * 6; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(publisher.published(), static_cast<std::uint64_t>(wallets * 6));
    server.stop();
    make_events(wallets, 5, 10);  // committed while NATS is away: they wait in the outbox
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(publisher.published(), static_cast<std::uint64_t>(wallets * 6));
    EXPECT_GT(sql("SELECT count(*) FROM event_outbox")[0][0].as<long>(), 0);
    ASSERT_TRUE(server.start());
    constexpr int total = wallets * 16;
    for (int i = 0; i < 3'000 && publisher.published() < total; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    publisher.stop();
    ASSERT_EQ(publisher.published(), static_cast<std::uint64_t>(total));
    int read = 0;
    auto seqs = read_event_stream(read);
    EXPECT_EQ(read, total) << "an event is missing or doubled";
    std::vector<std::int64_t> expected;
    for (int s = 1; s <= 16; ++s) expected.push_back(s);
    for (int w = 0; w < wallets; ++w) {
      EXPECT_EQ(seqs["e" + std::to_string(w)], expected) << "wallet e" << w;
    }
    for (const auto& stream :
         {settings.command_stream, settings.event_stream, settings.dead_letter_stream}) {
      js_DeleteStream(nats->jetstream(), stream.c_str(), nullptr, nullptr);
    }
    nats.reset();  // before its server goes
    server.stop();
    std::filesystem::remove_all(dir);
  }
};

TEST_F(nats_outage_test, publishing_resumes_after_a_nats_outage_without_gaps_or_doubles) {
  resumes_after_an_outage(false);
}

TEST_F(nats_outage_test, publishing_from_memory_resumes_after_a_nats_outage) {
  resumes_after_an_outage(true);
}

// The stream holds each event of e0..e<wallets-1> once, in seq order, 1 to `events`.
void expect_complete_stream(const std::map<std::string, std::vector<std::int64_t>>& seqs, int read,
                            int wallets, int events) {
  EXPECT_EQ(read, wallets * events) << "an event is missing or doubled";
  std::vector<std::int64_t> expected;
  for (int s = 1; s <= events; ++s) expected.push_back(s);
  for (int w = 0; w < wallets; ++w) {
    const auto it = seqs.find("e" + std::to_string(w));
    EXPECT_TRUE(it != seqs.end() && it->second == expected)
        << "wallet e" << w << ": out of order, doubled or missing";
  }
}

// Publishes are pipelined: a window of them awaits its acknowledgements. Acknowledgements that
// never come (a server that stopped answering with the window in flight) fail the round; the
// publisher resumes from the cursor, and the late copies the server stores when it answers again
// are dropped as duplicates: no gap, no double, no reordering.
class nats_window_test : public nats_test {
 protected:
  // `in_memory`: the stores hand their events to the publisher (ADR 0015), whose rounds from
  // memory are the ones that lose their acknowledgements.
  void window_loses_its_acknowledgements(bool in_memory) {
    const std::string dir = ::testing::TempDir() + "nats-window-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    private_nats_server server{dir};
    ASSERT_TRUE(server.start()) << "cannot start nats-server (see " << dir << "/log)";
    settings.url = server.url();
    settings.memory_storage = false;
    connect();
    auto wakeups = in_memory ? std::make_shared<postgres::outbox_wakeups>() : nullptr;
    start_runtime(wakeups);
    constexpr int wallets = 8;
    make_events(wallets, 0, 4);
    auto failures = std::make_shared<publisher_failures>();
    auto ps = publisher_for_all_shards();
    ps.wakeups = wakeups;
    ps.rows_per_read = 2;
    ps.window_max = 3;
    ps.ack_wait = 500ms;
    event_publisher publisher{*nats, ps, failures};
    publisher.start();
    ASSERT_TRUE(eventually(
        [&] { return publisher.published() == static_cast<std::uint64_t>(wallets * 5); }, 10s));
    server.pause();
    make_events(wallets, 4, 20);  // the commits wake the publisher; its windows go unanswered
    EXPECT_TRUE(eventually([&] { return failures->count("publishing to") >= 2; }, 10s))
        << "no window timed out";
    EXPECT_EQ(publisher.published(), static_cast<std::uint64_t>(wallets * 5))
        << "a cursor moved without acknowledgements";
    server.resume();
    constexpr int total = wallets * 25;
    EXPECT_TRUE(eventually(
        [&] { return publisher.published() == static_cast<std::uint64_t>(total); }, 30s));
    publisher.stop();
    EXPECT_EQ(sql("SELECT count(*) FROM event_outbox")[0][0].as<long>(), 0);
    int read = 0;
    const auto seqs = read_event_stream(read);
    expect_complete_stream(seqs, read, wallets, 25);
    for (const auto& stream :
         {settings.command_stream, settings.event_stream, settings.dead_letter_stream}) {
      js_DeleteStream(nats->jetstream(), stream.c_str(), nullptr, nullptr);
    }
    nats.reset();
    server.stop();
    std::filesystem::remove_all(dir);
  }
};

TEST_F(nats_window_test, publishing_resumes_when_a_window_loses_its_acknowledgements) {
  window_loses_its_acknowledgements(false);
}

TEST_F(nats_window_test, publishing_from_memory_resumes_when_a_window_loses_its_acknowledgements) {
  window_loses_its_acknowledgements(true);
}

// The store's NOTIFY after a commit wakes the publisher: with the poll a minute away, committed
// events still reach the stream at once.
TEST_F(nats_test, a_commit_wakes_the_publisher_before_its_poll) {
  connect();
  start_runtime();
  auto ps = publisher_for_all_shards();
  ps.idle_poll = 60s;
  event_publisher publisher{*nats, ps, nullptr};
  publisher.start();
  std::this_thread::sleep_for(500ms);  // its first reading of every shard found nothing
  constexpr int wallets = 6;
  make_events(wallets, 0, 3);
  EXPECT_TRUE(eventually(
      [&] { return publisher.published() == static_cast<std::uint64_t>(wallets * 4); }, 20s))
      << "published " << publisher.published() << " before the poll";
  publisher.stop();
  int read = 0;
  const auto seqs = read_event_stream(read);
  expect_complete_stream(seqs, read, wallets, 4);
}

// ADR 0014: with the stores and the publisher sharing outbox_wakeups, a commit wakes the publishing
// thread of its shard directly and sends no NOTIFY; the events still reach the stream at once with
// the poll a minute away, and complete.
TEST_F(nats_test, a_commit_wakes_the_publisher_in_process_without_a_notify) {
  connect();
  auto wakeups = std::make_shared<postgres::outbox_wakeups>();
  start_runtime(wakeups);
  auto ps = publisher_for_all_shards();
  ps.idle_poll = 60s;
  ps.threads = 2;  // two shards each: a thread is woken for either of its shards
  ps.wakeups = wakeups;
  event_publisher publisher{*nats, ps, nullptr};
  publisher.start();
  std::this_thread::sleep_for(500ms);       // its first reading of every shard found nothing
  auto listener_conn = pg_test::connect();  // PostgreSQL, not NATS
  auto notified = postgres::outbox_listener::listen(*listener_conn);
  ASSERT_TRUE(notified.ok()) << notified.error().detail;
  constexpr int wallets = 6;
  make_events(wallets, 0, 3);
  EXPECT_TRUE(eventually(
      [&] { return publisher.published() == static_cast<std::uint64_t>(wallets * 4); }, 20s))
      << "published " << publisher.published() << " before the poll";
  const auto heard = notified.value()->await(300ms);
  ASSERT_TRUE(heard.ok()) << heard.error().detail;
  EXPECT_TRUE(heard.value().empty()) << "a store sent a NOTIFY although its publisher is local";
  publisher.stop();
  int read = 0;
  const auto seqs = read_event_stream(read);
  expect_complete_stream(seqs, read, wallets, 4);
}

// ADR 0015, steady state: once its first reading of each shard found the outbox empty, the
// publisher takes every committed event from the stores' in-memory hand-off and reads nothing back
// from PostgreSQL (the poll is a minute away); the stream still gets each event once, in order.
TEST_F(nats_test, in_steady_state_the_publisher_takes_events_from_memory_not_postgresql) {
  connect();
  auto wakeups = std::make_shared<postgres::outbox_wakeups>();
  start_runtime(wakeups);
  auto ps = publisher_for_all_shards();
  ps.idle_poll = 60s;
  ps.wakeups = wakeups;
  event_publisher publisher{*nats, ps, nullptr};
  publisher.start();
  ASSERT_TRUE(eventually([&] { return publisher.database_reads() >= shards; }, 10s));
  const auto reads = publisher.database_reads();
  constexpr int wallets = 12;
  constexpr int deposits = 10;
  make_events(wallets, 0, deposits);
  constexpr int total = wallets * (deposits + 1);
  EXPECT_TRUE(
      eventually([&] { return publisher.published() == static_cast<std::uint64_t>(total); }, 20s))
      << "published " << publisher.published();
  publisher.stop();
  EXPECT_EQ(publisher.events_from_database(), 0U) << "events were read back from PostgreSQL";
  EXPECT_EQ(publisher.events_from_memory(), static_cast<std::uint64_t>(total));
  EXPECT_EQ(publisher.database_reads(), reads) << "the outbox was read again in steady state";
  EXPECT_EQ(sql("SELECT count(*) FROM event_outbox")[0][0].as<long>(), 0)
      << "the cursor did not move over the hand-off's rows";
  int read = 0;
  const auto seqs = read_event_stream(read);
  expect_complete_stream(seqs, read, wallets, deposits + 1);
}

// ADR 0015, overflow: a batch above the hand-off's bound is lost to it; the publisher reads the
// outbox until it has caught up, then takes from memory again. Every event reaches the stream
// once, in order per wallet, whichever way it went.
TEST_F(nats_test, an_overflowing_handoff_falls_back_to_the_outbox_and_loses_nothing) {
  connect();
  auto wakeups = std::make_shared<postgres::outbox_wakeups>();
  auto ps = publisher_for_all_shards();
  ps.idle_poll = 60s;
  ps.wakeups = wakeups;
  ps.handoff_events_max = 3;
  event_publisher publisher{*nats, ps, nullptr};
  publisher.start();
  ASSERT_TRUE(eventually([&] { return publisher.database_reads() >= shards; }, 10s));
  auto store_settings0 = store_settings(0, shards);
  store_settings0.wakeups = wakeups;
  postgres::pg_store store{store_settings0};
  const auto ids = postgres::testing::ids_on_shard("e", 0, shards, 4);
  std::vector<postgres::testing::wallet_sim> sims;
  sims.reserve(ids.size());
  for (const auto& id : ids) sims.emplace_back(id);
  const auto eur = *engine::currency::from_code("EUR");
  auto at = postgres::testing::now_us();
  std::uint64_t committed = 0;
  // One commit of a write of each of `which` (their opening, or a deposit each), then its events'
  // publication awaited.
  const auto commit = [&](const std::vector<std::size_t>& which, bool open) {
    std::vector<actors::wallet_write> writes;
    for (const std::size_t w : which) {
      at += 1us;
      writes.push_back(open ? sims[w].handle(engine::open_wallet{"o", eur, 0}, at)
                            : sims[w].handle(engine::deposit{{7, eur}}, at));
    }
    const auto error = store.commit(writes);
    ASSERT_FALSE(error.has_value()) << postgres::testing::describe(error);
    committed += which.size();
    ASSERT_TRUE(eventually([&] { return publisher.published() == committed; }, 20s))
        << "published " << publisher.published() << " of " << committed;
  };
  for (std::size_t w = 0; w < sims.size(); ++w) commit({w}, true);
  EXPECT_EQ(publisher.events_from_database(), 0U);
  const auto memory_before = publisher.events_from_memory();
  EXPECT_EQ(memory_before, committed);
  commit({0, 1, 2, 3}, false);  // 4 events > 3: lost to the hand-off, read from the outbox
  EXPECT_EQ(publisher.events_from_database(), 4U);
  for (std::size_t w = 0; w < 3; ++w) commit({w}, false);
  EXPECT_EQ(publisher.events_from_memory(), memory_before + 3)
      << "the publisher did not take from memory again once it had caught up";
  publisher.stop();
  EXPECT_EQ(sql("SELECT count(*) FROM event_outbox")[0][0].as<long>(), 0);
  int read = 0;
  auto seqs = read_event_stream(read);
  EXPECT_EQ(read, static_cast<int>(committed)) << "an event is missing or doubled";
  for (const auto& sim : sims) {
    std::vector<std::int64_t> expected;
    for (std::uint64_t s = 1; s <= sim.state().version; ++s) {
      expected.push_back(static_cast<std::int64_t>(s));
    }
    EXPECT_EQ(seqs[sim.id()], expected) << sim.id() << ": out of order, doubled or missing";
  }
}

// An event the stream refuses (here: no stream takes its subject) stops its shard: the cursor
// stays, nothing after it is published out of order, and publishing resumes once it can.
TEST_F(nats_test, a_refused_publish_keeps_the_cursor_until_the_stream_takes_it) {
  connect();
  start_runtime();
  constexpr int wallets = 6;
  make_events(wallets, 0, 3);
  ASSERT_EQ(js_DeleteStream(nats->jetstream(), settings.event_stream.c_str(), nullptr, nullptr),
            NATS_OK);
  auto failures = std::make_shared<publisher_failures>();
  event_publisher publisher{*nats, publisher_for_all_shards(), failures};
  publisher.start();
  EXPECT_TRUE(eventually([&] { return failures->count("publishing to") > 0; }, 10s));
  EXPECT_EQ(publisher.published(), 0U);
  EXPECT_GT(sql("SELECT count(*) FROM event_outbox")[0][0].as<long>(), 0);
  {
    const std::lock_guard lock{failures->mutex};
    EXPECT_NE(failures->seen.front().find("no responders"), std::string::npos)
        << failures->seen.front();
  }
  const auto error = ensure_streams(*nats);
  ASSERT_FALSE(error) << error->message;
  EXPECT_TRUE(eventually(
      [&] { return publisher.published() == static_cast<std::uint64_t>(wallets * 4); }, 20s));
  publisher.stop();
  int read = 0;
  const auto seqs = read_event_stream(read);
  expect_complete_stream(seqs, read, wallets, 4);
}

// A wallet's events are pipelined (ADR 0011); the one way left to store them out of order is
// the stream refusing an event and taking a later one. Here a stream with discard=new and room
// for one small event refuses a big event (a long idempotency key) and would take the small one
// after it. With one event per wallet in flight the small one is never sent: nothing overtakes
// the refused event. With a wider window it is stored first, and the publisher says so.
TEST_F(nats_test, an_event_stored_past_a_refused_one_of_its_wallet_is_reported) {
  connect();
  start_runtime();
  const auto eur = *engine::currency::from_code("EUR");
  auto stream_bytes = [&] {
    jsStreamInfo* info = nullptr;
    EXPECT_EQ(
        js_GetStreamInfo(&info, nats->jetstream(), settings.event_stream.c_str(), nullptr, nullptr),
        NATS_OK);
    const std::uint64_t bytes = info == nullptr ? 0 : info->State.Bytes;
    jsStreamInfo_Destroy(info);
    return bytes;
  };
  auto limit_stream = [&](std::int64_t max_bytes, jsDiscardPolicy discard) {
    jsStreamInfo* info = nullptr;
    ASSERT_EQ(
        js_GetStreamInfo(&info, nats->jetstream(), settings.event_stream.c_str(), nullptr, nullptr),
        NATS_OK);
    info->Config->MaxBytes = max_bytes;
    info->Config->Discard = discard;
    jsStreamInfo* updated = nullptr;
    jsErrCode code{};
    EXPECT_EQ(js_UpdateStream(&updated, nats->jetstream(), info->Config, nullptr, &code), NATS_OK)
        << "error code " << code;
    jsStreamInfo_Destroy(updated);
    jsStreamInfo_Destroy(info);
  };
  auto deposit = [&](const std::string& key) {
    ASSERT_TRUE(runtime->submit({"e0", key, engine::deposit{{5, eur}}}).get().accepted());
  };
  ASSERT_TRUE(runtime->submit({"e0", "open", engine::open_wallet{"o", eur, 0}}).get().accepted());
  auto ps = publisher_for_all_shards();
  auto publish_until = [&](std::uint64_t count) {
    event_publisher publisher{*nats, ps, nullptr};
    publisher.start();
    EXPECT_TRUE(eventually([&] { return publisher.published() == count; }, 10s));
    publisher.stop();
  };
  publish_until(1);
  const std::uint64_t opened = stream_bytes();
  deposit("k2");  // seq 2: the size of a small deposit event in the stream
  publish_until(1);
  const std::uint64_t small = stream_bytes() - opened;
  ASSERT_GT(small, 0U);
  deposit(std::string(engine::idempotency_key_length_max - 2, 'b') + "k3");  // seq 3: big
  deposit("k4");                                                             // seq 4: small
  limit_stream(static_cast<std::int64_t>(stream_bytes() + small + 64), js_DiscardNew);

  for (const std::size_t window : {std::size_t{1}, std::size_t{32}}) {
    ps.wallet_window_max = window;
    auto failures = std::make_shared<publisher_failures>();
    event_publisher publisher{*nats, ps, failures};
    publisher.start();
    EXPECT_TRUE(eventually([&] { return failures->count("publishing to") > 0; }, 10s))
        << "window " << window << ": the big event was not refused";
    if (window > 1) {
      EXPECT_TRUE(
          eventually([&] { return failures->count("event order broken: e0 seq 4") > 0; }, 10s))
          << "the small event stored past the refused one went unreported";
    }
    publisher.stop();
    EXPECT_EQ(publisher.published(), 0U) << "window " << window << ": a cursor moved";
    if (window == 1) {
      EXPECT_EQ(failures->count("event order broken"), 0U);
      int read = 0;
      EXPECT_EQ(read_event_stream(read)["e0"], (std::vector<std::int64_t>{1, 2}))
          << "with one event in flight nothing passed the refused one";
    }
  }
  limit_stream(-1, js_DiscardOld);
  publish_until(2);  // seq 3 now, and seq 4 again (a duplicate the stream drops)
  int read = 0;
  EXPECT_EQ(read_event_stream(read)["e0"], (std::vector<std::int64_t>{1, 2, 4, 3}))
      << "the report and the stream disagree";
}

// The outcome query says which of its "not found"s it is.
TEST_F(nats_test, the_outcome_query_tells_an_unknown_key_from_an_unknown_wallet) {
  connect();
  start_runtime();
  make_events(1, 0, 1);  // e0 with the keys "open" and "d0"
  query_service queries{*nats, url_, nullptr};
  ASSERT_FALSE(queries.start());
  const auto ask = [&](const std::string& wallet, const std::string& key) {
    natsMsg* raw = nullptr;
    const std::string subject = outcome_query_subject(settings.prefix, wallet);
    EXPECT_EQ(natsConnection_Request(&raw, nats->connection(), subject.c_str(), key.data(),
                                     static_cast<int>(key.size()), 10'000),
              NATS_OK);
    const msg_ptr answer{raw};
    return answer ? body(answer.get()) : boost::json::object{};
  };
  const auto known = ask("e0", "d0");
  EXPECT_EQ(known.at("status").as_string(), "accepted");
  EXPECT_TRUE(known.at("replayed").as_bool());

  const auto unknown_key = ask("e0", "never-sent");
  EXPECT_EQ(unknown_key.at("status").as_string(), "refused");
  EXPECT_EQ(unknown_key.at("error").at("code").as_string(), "not_found");
  EXPECT_EQ(unknown_key.at("idempotency_key").as_string(), "never-sent");
  const std::string unknown_key_message{unknown_key.at("error").at("message").as_string()};
  EXPECT_NE(unknown_key_message.find("no outcome is recorded under this key"), std::string::npos)
      << unknown_key_message;

  const auto unknown_wallet = ask("nobody", "d0");
  EXPECT_EQ(unknown_wallet.at("error").at("code").as_string(), "not_found");
  const std::string unknown_wallet_message{unknown_wallet.at("error").at("message").as_string()};
  EXPECT_NE(unknown_wallet_message.find("never opened"), std::string::npos)
      << unknown_wallet_message;

  const auto bad_key = ask("e0", "two words");
  EXPECT_EQ(bad_key.at("error").at("code").as_string(), "not_found");
  EXPECT_FALSE(bad_key.contains("idempotency_key")) << "an invalid key is not echoed";
  const std::string bad_key_message{bad_key.at("error").at("message").as_string()};
  EXPECT_NE(bad_key_message.find("not a valid idempotency key"), std::string::npos)
      << bad_key_message;
  queries.stop();
}

}  // namespace
}  // namespace wallet::nats
