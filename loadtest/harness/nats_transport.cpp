// The NATS transport and event watch: the adapter's client for connections and subjects, NATS.c
// for asynchronous JetStream publishes, the reply subscription and the ordered event consumer.
#include "nats_transport.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <thread>

#include "../steady_ns.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/nats/client.hpp"
#include "wallet/nats/settings.hpp"
#include "wire_text.hpp"

namespace wallet::loadtest {
namespace {

namespace json = boost::json;
namespace wn = wallet::nats;

constexpr std::uint8_t eur_exponent = 2;

std::string_view text_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view{v->get_string()} : std::string_view{};
}

// A signed decimal of the wire ("-0.05") in EUR minor units; nullopt when unreadable.
std::optional<std::int64_t> signed_minor(std::string_view text) {
  const bool negative = text.starts_with('-');
  if (negative) text.remove_prefix(1);
  const auto v = engine::parse_amount(text, eur_exponent);
  if (!v) return std::nullopt;
  return negative ? -v.value() : v.value();
}

// The last subject token as a number (the reply subjects' token).
std::optional<std::uint64_t> last_number(std::string_view subject) {
  const std::string_view last = subject.substr(subject.rfind('.') + 1);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), v);
  if (ec != std::errc{} || end != last.data() + last.size()) return std::nullopt;
  return v;
}

std::unique_ptr<wn::client> connect(const nats_target& t, const char* name, double timeout_s) {
  wn::nats_settings s;
  s.url = t.url;
  s.prefix = t.prefix;
  s.credentials_file = t.credentials_file;
  s.connection_name = name;
  auto c = wn::client::connect(s, {});
  if (!c) throw harness_error(c.error().message);
  auto client = std::move(c).value();
  const auto deadline = steady::now() + std::chrono::duration<double>(timeout_s);
  while (!client->connected()) {
    if (steady::now() > deadline) throw harness_error("no NATS server answers at " + t.url);
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return client;
}

void check(natsStatus s, const std::string& doing) {
  if (s != NATS_OK) throw harness_error(wn::failure(doing, s).message);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// nats_transport
// ---------------------------------------------------------------------------------------------

struct nats_transport::impl {
  nats_target target;
  answer_sink& sink;
  std::unique_ptr<wn::client> publisher;
  std::unique_ptr<wn::client> replies;
  jsCtx* js = nullptr;
  natsSubscription* reply_sub = nullptr;
  std::string inbox;

  impl(nats_target t, answer_sink& s) : target(std::move(t)), sink(s) {}
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  impl(impl&&) = delete;
  impl& operator=(impl&&) = delete;
  ~impl() {
    natsSubscription_Destroy(reply_sub);
    jsCtx_Destroy(js);
  }

  static void on_reply(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg,
                       void* closure) {
    const wn::msg_ptr owned{msg};
    auto& self = *static_cast<impl*>(closure);
    const auto token = last_number(natsMsg_GetSubject(msg));
    if (!token) return;
    self.sink.answered(
        *token, parse_outcome(
                    {natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))}));
  }

  // The stream did not store a command: it will never be answered by walletd.
  static void on_publish_error(jsCtx* /*js*/, jsPubAckErr* pae, void* closure) {
    auto& self = *static_cast<impl*>(closure);
    const char* reply = nullptr;
    if (natsMsgHeader_Get(pae->Msg, wn::header::reply_to, &reply) != NATS_OK) return;
    const auto token = last_number(reply);
    if (!token) return;
    answer a;
    a.code = "not stored";
    a.problem = natsStatus_GetText(pae->Err);
    self.sink.answered(*token, a);
  }
};

nats_transport::nats_transport(nats_target target, answer_sink& sink, double connect_timeout_s)
    : impl_(std::make_unique<impl>(std::move(target), sink)) {
  impl& i = *impl_;
  i.publisher = connect(i.target, "wallet-loadtest-publish", connect_timeout_s);
  i.replies = connect(i.target, "wallet-loadtest-replies", connect_timeout_s);
  jsOptions jo;
  check(jsOptions_Init(&jo), "jsOptions_Init");
  jo.PublishAsync.MaxPending = i.target.publishes_pending_max;
  jo.PublishAsync.StallWait = 60'000;
  jo.PublishAsync.ErrHandler = impl::on_publish_error;
  jo.PublishAsync.ErrHandlerClosure = &i;
  check(natsConnection_JetStream(&i.js, i.publisher->connection(), &jo), "JetStream context");
  natsInbox* inbox = nullptr;
  check(natsInbox_Create(&inbox), "natsInbox_Create");
  i.inbox = inbox;
  natsInbox_Destroy(inbox);
  const std::string subject = i.inbox + ".*";
  check(natsConnection_Subscribe(&i.reply_sub, i.replies->connection(), subject.c_str(),
                                 impl::on_reply, &i),
        "subscribing to " + subject);
  // No client-side limit: a dropped reply would look like a lost command.
  check(natsSubscription_SetPendingLimits(i.reply_sub, -1, -1), "pending limits");
  check(natsConnection_Flush(i.replies->connection()), "flush");
}

nats_transport::~nats_transport() {
  if (impl_ && impl_->js != nullptr) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 10'000;
    js_PublishAsyncComplete(impl_->js, &po);  // let the acknowledgements in before closing
  }
  if (impl_ && impl_->reply_sub != nullptr) natsSubscription_Unsubscribe(impl_->reply_sub);
}

void nats_transport::send(const command& c, const naming& names, std::uint64_t token) {
  impl& i = *impl_;
  const std::string wallet = names.wallet_of(c);
  const std::string body = render_command(c, names);
  const std::string reply = i.inbox + "." + std::to_string(token);
  // Every send must reach walletd, where the idempotency key decides: the stream would drop a
  // second message with the same id within its duplicate window (the copy of a duplicate, a
  // set-up command repeated by the next run), and walletd would never answer it.
  std::string msg_id = wallet + "/" + names.key(c) + "/" + names.run_tag;
  if (c.duplicate) msg_id += "/dup";
  natsMsg* msg = nullptr;
  const std::string subject = wn::command_subject(i.target.prefix, wallet);
  natsStatus st =
      natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
  if (st == NATS_OK) st = natsMsgHeader_Set(msg, wn::header::reply_to, reply.c_str());
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id.c_str();
  if (st == NATS_OK) st = js_PublishMsgAsync(i.js, &msg, &po);
  natsMsg_Destroy(msg);  // NULL once the library took it
  if (st != NATS_OK) {
    answer a;
    a.code = "not published";
    a.problem = natsStatus_GetText(st);
    i.sink.answered(token, a);
  }
}

std::string nats_transport::describe() const {
  char url[256] = "";
  natsConnection_GetConnectedUrl(impl_->publisher->connection(), url, sizeof url);
  return std::string("NATS.c ") + nats_GetVersion() + ", server " + url + ", prefix " +
         impl_->target.prefix;
}

// ---------------------------------------------------------------------------------------------
// nats_event_watch
// ---------------------------------------------------------------------------------------------

struct nats_event_watch::impl {
  naming names;
  hooks h;
  std::unique_ptr<wn::client> conn;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  std::atomic<std::int64_t> last_event_ns{0};
  std::atomic<std::uint64_t> unreadable{0};

  impl(naming n, hooks hk) : names(std::move(n)), h(std::move(hk)) {}
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  impl(impl&&) = delete;
  impl& operator=(impl&&) = delete;
  ~impl() {
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
  }

  void fold(natsMsg* msg) {
    const std::string_view data{natsMsg_GetData(msg),
                                static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
    boost::system::error_code ec;
    const json::value v = json::parse(data, ec);
    if (ec || !v.is_object()) {
      unreadable.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const json::object& o = v.get_object();
    const std::uint32_t n = names.wallet_number(text_of(o, "wallet_id"));
    if (n == 0) return;  // not one of this run's wallets
    const json::value* seq = o.if_contains("seq");
    const auto balance = signed_minor(text_of(o, "balance_delta"));
    const auto held = signed_minor(text_of(o, "held_delta"));
    if (seq == nullptr || !seq->is_int64() || seq->get_int64() < 1 || !balance || !held) {
      unreadable.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (h.fold != nullptr) {
      h.fold->add(n, static_cast<std::uint64_t>(seq->get_int64()), *balance, *held);
    }
    const char* key = nullptr;
    if (natsMsgHeader_Get(msg, wn::header::idempotency_key, &key) == NATS_OK && key != nullptr) {
      if (const auto id = names.command_id(key); id && h.duplicates != nullptr) {
        h.duplicates->event_seen(*id);
      }
    }
    if (text_of(o, "type") == "transfer_credited" && h.credited) {
      if (const auto id = names.command_id(text_of(o, "transfer_id"))) h.credited(*id);
    }
  }

  static void on_event(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg,
                       void* closure) {
    const wn::msg_ptr owned{msg};
    auto& self = *static_cast<impl*>(closure);
    self.last_event_ns.store(now_ns(), std::memory_order_relaxed);
    self.fold(msg);
  }
};

nats_event_watch::nats_event_watch(const nats_target& target, naming names, hooks h,
                                   double connect_timeout_s)
    : impl_(std::make_unique<impl>(std::move(names), std::move(h))) {
  impl& i = *impl_;
  i.conn = connect(target, "wallet-loadtest-events", connect_timeout_s);
  check(natsConnection_JetStream(&i.js, i.conn->connection(), nullptr), "JetStream context");
  jsSubOptions so;
  check(jsSubOptions_Init(&so), "jsSubOptions_Init");
  // Ordered: the library recreates the consumer from the last stream sequence it delivered, so a
  // gap here means a gap in the stream. From now on: the run's events only.
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverNew;
  const std::string subject = wn::event_subject(target.prefix, "*");
  jsErrCode err{};
  check(js_Subscribe(&i.sub, i.js, subject.c_str(), impl::on_event, &i, nullptr, &so, &err),
        "following " + subject + " (is walletd running with this prefix?)");
  check(natsSubscription_SetPendingLimits(i.sub, -1, -1), "pending limits");
}

nats_event_watch::~nats_event_watch() {
  if (impl_ && impl_->sub != nullptr) natsSubscription_Unsubscribe(impl_->sub);
}

std::int64_t nats_event_watch::last_event_ns() const noexcept {
  return impl_->last_event_ns.load(std::memory_order_relaxed);
}

std::uint64_t nats_event_watch::unreadable() const noexcept {
  return impl_->unreadable.load(std::memory_order_relaxed);
}

std::string delete_streams(const nats_target& target, std::string_view names) {
  const auto c = connect(target, "wallet-loadtest-cleanup", 10);
  std::string problems;
  while (!names.empty()) {
    const auto comma = names.find(',');
    const std::string name{names.substr(0, comma)};
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
    jsErrCode err{};
    const natsStatus st = js_DeleteStream(c->jetstream(), name.c_str(), nullptr, &err);
    if (st != NATS_OK && st != NATS_NOT_FOUND) {
      problems += (problems.empty() ? "" : "; ") + wn::failure("deleting " + name, st).message;
    }
  }
  return problems;
}

}  // namespace wallet::loadtest
