// nats_bench: walletd end to end through NATS JetStream (issue 4). Publishes commands as a client
// would, and counts a transfer complete when its outcome came back AND its debit and credit events
// were seen on the event stream. It talks to NATS.c directly and links none of the engine, so it
// measures walletd as a separate process (and loads the machine as a real client would).
#include <nats/nats.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <semaphore>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "log_histogram.hpp"
#include "wallet/nats/settings.hpp"

namespace {

namespace json = boost::json;
namespace wn = wallet::nats;
using wallet::loadtest::log_histogram;
using clock_type = std::chrono::steady_clock;

struct msg_deleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using msg_ptr = std::unique_ptr<natsMsg, msg_deleter>;

constexpr std::int64_t balance_hot = 1'000'000'000'000;  // minor units: never runs dry
constexpr std::int64_t balance_regular = 1'000'000;
constexpr std::uint32_t amount_max = 100;  // transfers move 1..100 minor units
constexpr std::size_t slots_max = 1'000'000;
constexpr std::size_t phases_max = 8;

constexpr const char* help_text = R"(nats_bench: walletd end to end through NATS JetStream.

Options:
  --url URL            NATS server (default nats://127.0.0.1:54222)
  --prefix P           subject prefix of walletd (default wallet)
  --wallets N          wallets w1..wN (default 100000)
  --hot-wallets N      w1..wN are hot: half of the hot scenario's transfers touch one (default 10)
  --transfers N        transfers per closed-loop scenario (default 200000)
  --concurrency N      commands outstanding in a closed loop (default 4096)
  --scenario LIST      comma-separated: uniform,hot,open (default all three)
  --rate R             open loop, transfers/s (default half the uniform completed rate)
  --open-seconds S     open loop duration (default 15)
  --stall-seconds S    a phase without progress for this long is abandoned (default 60)
  --skip-setup         the wallets exist and are funded already
  --seed N             random seed (default 20261130)
  --json PATH          write every figure as JSON
  --delete-streams L   only delete the comma-separated JetStream streams L and exit (the
                       script's clean-up of the streams its walletd created for one run)
  --help               this text

A transfer is complete when walletd's outcome reply arrived (accepted; a business rejection is
counted apart) and its transfer_debited and transfer_credited events were seen on
<prefix>.evt.*. Output ends with "RESULT key value" lines.
)";

struct options {
  std::string url = "nats://127.0.0.1:54222";
  std::string prefix = "wallet";
  std::size_t wallets = 100'000;
  std::size_t hot_wallets = 10;
  std::size_t transfers = 200'000;
  std::size_t concurrency = 4'096;
  std::vector<std::string> scenarios{"uniform", "hot", "open"};
  double rate = 0;
  double open_seconds = 15;
  double stall_seconds = 60;
  bool skip_setup = false;
  std::uint64_t seed = 20'261'130;
  std::string json_path;
  std::vector<std::string> delete_streams;
};

struct usage_error {
  std::string message;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

double self_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

double to_number(const std::string& name, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && v >= 0 && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw usage_error{name + " needs a non-negative number, got '" + text + "'"};
}

std::size_t to_count(const std::string& name, const std::string& text) {
  const double v = to_number(name, text);
  if (v < 1 || v != std::floor(v)) throw usage_error{name + " needs a positive integer"};
  return static_cast<std::size_t>(v);
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in{text};
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

std::vector<std::string> scenarios(const std::string& text) {
  auto parts = split(text);
  for (const auto& part : parts) {
    if (part != "uniform" && part != "hot" && part != "open") {
      throw usage_error{"unknown scenario '" + part + "'"};
    }
  }
  return parts;
}

// One `--name value` option.
void set_option(options& o, const std::string& k, const std::string& v) {
  const std::map<std::string, std::function<void()>> setters{
      {"--url", [&] { o.url = v; }},
      {"--prefix", [&] { o.prefix = v; }},
      {"--wallets", [&] { o.wallets = to_count(k, v); }},
      {"--hot-wallets", [&] { o.hot_wallets = to_count(k, v); }},
      {"--transfers", [&] { o.transfers = to_count(k, v); }},
      {"--concurrency", [&] { o.concurrency = to_count(k, v); }},
      {"--scenario", [&] { o.scenarios = scenarios(v); }},
      {"--rate", [&] { o.rate = to_number(k, v); }},
      {"--open-seconds", [&] { o.open_seconds = to_number(k, v); }},
      {"--stall-seconds", [&] { o.stall_seconds = to_number(k, v); }},
      {"--seed", [&] { o.seed = static_cast<std::uint64_t>(to_count(k, v)); }},
      {"--json", [&] { o.json_path = v; }},
      {"--delete-streams", [&] { o.delete_streams = split(v); }},
  };
  const auto it = setters.find(k);
  if (it == setters.end()) throw usage_error{"unknown option " + k};
  it->second();
}

options parse(int argc, char** argv, bool& help) {
  options o;
  const std::vector<std::string> a(argv + 1, argv + argc);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string& k = a[i];
    if (k == "--help" || k == "-h") {
      help = true;
      continue;
    }
    if (k == "--skip-setup") {
      o.skip_setup = true;
      continue;
    }
    if (i + 1 >= a.size()) throw usage_error{"unknown option or missing value: " + k};
    const std::string& v = a[++i];
    set_option(o, k, v);
  }
  if (o.wallets < 2 || o.hot_wallets >= o.wallets) {
    throw usage_error{"need at least 2 wallets and fewer hot wallets than wallets"};
  }
  if (o.concurrency > slots_max) throw usage_error{"--concurrency is at most 1000000"};
  return o;
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

std::string wallet_id(std::size_t n) { return "w" + std::to_string(n); }

// Minor units of EUR as the wire's decimal string.
std::string eur(std::int64_t minor) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(minor / 100),
                static_cast<long long>(minor % 100));
  return buf;
}

struct transfer_spec {
  std::uint32_t source = 0;
  std::uint32_t destination = 0;
  std::uint32_t amount = 0;
};

// The mix of runtime_bench and the pgbench baselines: uniform and distinct; hot: a quarter from
// one of the hot wallets, a quarter to one, so half of all transfers touch one.
std::vector<transfer_spec> make_specs(std::size_t count, const options& o, bool hot_mix,
                                      std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto draw = [&](std::size_t lo, std::size_t hi) {
    return static_cast<std::uint32_t>(std::uniform_int_distribution<std::size_t>(lo, hi)(rng));
  };
  const auto other_than = [&](std::uint32_t other) {
    const std::uint32_t w = draw(1, o.wallets - 1);
    return w >= other ? w + 1 : w;
  };
  std::vector<transfer_spec> specs(count);
  for (auto& s : specs) {
    const std::uint32_t mix = hot_mix ? draw(0, 3) : 3;
    if (mix == 0) {
      s.source = draw(1, o.hot_wallets);
      s.destination = other_than(s.source);
    } else if (mix == 1) {
      s.destination = draw(1, o.hot_wallets);
      s.source = other_than(s.destination);
    } else {
      s.source = draw(1, o.wallets);
      s.destination = other_than(s.source);
    }
    s.amount = draw(1, amount_max);
  }
  return specs;
}

enum class kind : std::uint8_t { open_wallet, deposit, transfer };

// What completes a job: bits of its state byte.
constexpr std::uint8_t bit_reply = 1;
constexpr std::uint8_t bit_debit = 2;
constexpr std::uint8_t bit_credit = 4;
constexpr std::uint8_t bit_done = 0x80;

// ---------------------------------------------------------------------------------------------
// One phase: its jobs' state, shared between the sender and the NATS callback threads.
// ---------------------------------------------------------------------------------------------

struct latency_figures {
  std::uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

latency_figures summarise(const log_histogram& h) {
  constexpr double ms = 1e-6;
  const auto p = [&](double q) { return static_cast<double>(h.percentile(q)) * ms; };
  return {h.count(), p(0.50), p(0.90), p(0.99), p(0.999), static_cast<double>(h.max()) * ms};
}

struct phase {
  phase(std::string phase_name, std::size_t phase_index, kind phase_kind, std::size_t job_count)
      : name(std::move(phase_name)),
        index(phase_index),
        what(phase_kind),
        jobs(job_count),
        need(phase_kind == kind::transfer ? bit_reply | bit_debit | bit_credit : bit_reply),
        sent_ns(std::make_unique<std::atomic<std::int64_t>[]>(job_count)),
        state(std::make_unique<std::atomic<std::uint8_t>[]>(job_count)) {}

  std::string name;
  std::size_t index;  // travels in inbox subjects and transfer ids
  kind what;
  std::size_t jobs;
  std::uint8_t need;
  std::vector<transfer_spec> specs;
  std::unique_ptr<std::atomic<std::int64_t>[]> sent_ns;  // intended send time (open loop)
  std::unique_ptr<std::atomic<std::uint8_t>[]> state;
  // Closed loop: free slots for commands; each completion gives one back.
  std::counting_semaphore<slots_max> slots{0};
  std::atomic<bool> closed_loop{false};

  log_histogram outcome_ns;   // sent -> outcome reply
  log_histogram credit_ns;    // sent -> credit event
  log_histogram complete_ns;  // sent -> the last of reply, debit and credit
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> replayed{0};
  std::atomic<std::uint64_t> rejected{0};  // business rejections: decided, no events
  std::atomic<std::uint64_t> refused{0};   // not decided (walletd retries retryable ones itself)
  std::atomic<std::uint64_t> publish_failed{0};
  std::atomic<std::uint64_t> reversed{0};
  std::atomic<std::int64_t> first_send_ns{0};
  std::atomic<std::int64_t> last_complete_ns{0};
  double rate = 0;  // open loop
  double send_lag_max_ms = 0;
  double cpu_s = 0;
  double seconds = 0;
  bool stalled = false;

  [[nodiscard]] double completed_per_s() const {
    return seconds > 0 ? static_cast<double>(completed.load()) / seconds : 0;
  }

  // Sets `bits` on job i; completes the job when it has everything it needs.
  void mark(std::size_t i, std::uint8_t bits) {
    const std::uint8_t before = state[i].fetch_or(bits);
    const auto after = static_cast<std::uint8_t>(before | bits);
    if ((before & bit_done) != 0 || (after & need) != need) return;
    if ((state[i].fetch_or(bit_done) & bit_done) != 0) return;
    const std::int64_t t = now_ns();
    complete_ns.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, t - sent(i))));
    std::int64_t seen = last_complete_ns.load();
    while (t > seen && !last_complete_ns.compare_exchange_weak(seen, t)) {
    }
    completed.fetch_add(1);
    if (closed_loop.load()) slots.release();
  }

  // A job that will never complete normally (rejected, refused, not stored) stops waiting.
  void give_up(std::size_t i) { mark(i, need); }

  [[nodiscard]] std::int64_t sent(std::size_t i) const {
    return sent_ns[i].load(std::memory_order_acquire);
  }
  void record_since_sent(log_histogram& h, std::size_t i) const {
    h.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_ns() - sent(i))));
  }
};

// Every phase of the run, looked up by the index carried in subjects and ids. Callbacks may run
// after a phase ended (late events), so phases live until the end.
struct registry {
  std::array<std::atomic<phase*>, phases_max> phases{};
  std::string run_tag;       // distinguishes this run's transfer ids from earlier runs'
  std::string inbox_prefix;  // _INBOX.<unique>
  std::atomic<std::int64_t> last_event_ns{0};
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> async_errors{0};  // slow consumer and the like

  [[nodiscard]] phase* get(std::size_t i) const {
    return i < phases_max ? phases[i].load(std::memory_order_acquire) : nullptr;
  }
};

// "<phase>_<job>" -> both numbers.
std::optional<std::pair<std::size_t, std::size_t>> parse_pair(std::string_view text, char sep) {
  const auto at = text.find(sep);
  if (at == std::string_view::npos) return std::nullopt;
  const auto num = [](std::string_view s) -> std::optional<std::size_t> {
    if (s.empty()) return std::nullopt;
    std::size_t v = 0;
    for (const char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    return v;
  };
  const auto a = num(text.substr(0, at));
  const auto b = num(text.substr(at + 1));
  if (!a || !b) return std::nullopt;
  return std::pair{*a, *b};
}

// ---------------------------------------------------------------------------------------------
// NATS callbacks
// ---------------------------------------------------------------------------------------------

std::string_view text_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view{v->get_string()} : std::string_view{};
}

// An outcome on _INBOX.<unique>.<phase>_<job>.
void on_reply(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg, void* closure) {
  const msg_ptr owned{msg};
  auto& reg = *static_cast<registry*>(closure);
  const std::string_view subject = natsMsg_GetSubject(msg);
  const auto ids = parse_pair(subject.substr(subject.rfind('.') + 1), '_');
  phase* p = ids ? reg.get(ids->first) : nullptr;
  if (p == nullptr || ids->second >= p->jobs) return;
  const std::size_t i = ids->second;
  boost::system::error_code ec;
  const json::value v = json::parse(
      std::string_view{natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))},
      ec);
  const std::string_view status = !ec && v.is_object() ? text_of(v.get_object(), "status") : "";
  p->record_since_sent(p->outcome_ns, i);
  if (status == "accepted") {
    p->accepted.fetch_add(1);
    const json::value* r = v.get_object().if_contains("replayed");
    if (r != nullptr && r->is_bool() && r->get_bool()) p->replayed.fetch_add(1);
    p->mark(i, bit_reply);
  } else {
    (status == "rejected" ? p->rejected : p->refused).fetch_add(1);
    p->give_up(i);
  }
}

// An event on <prefix>.evt.<wallet>: transfer events of this run complete their transfers.
void on_event(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg, void* closure) {
  const msg_ptr owned{msg};
  auto& reg = *static_cast<registry*>(closure);
  reg.events.fetch_add(1, std::memory_order_relaxed);
  reg.last_event_ns.store(now_ns(), std::memory_order_relaxed);
  const std::string_view data{natsMsg_GetData(msg),
                              static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
  // Most events of the set-up are no transfers: skip them without parsing.
  if (data.find(reg.run_tag) == std::string_view::npos) return;
  boost::system::error_code ec;
  const json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) return;
  const std::string_view type = text_of(v.get_object(), "type");
  const std::string_view id = text_of(v.get_object(), "transfer_id");
  if (id.substr(0, reg.run_tag.size()) != reg.run_tag) return;
  const auto ids = parse_pair(id.substr(reg.run_tag.size()), '-');
  phase* p = ids ? reg.get(ids->first) : nullptr;
  if (p == nullptr || ids->second >= p->jobs) return;
  const std::size_t i = ids->second;
  if (type == "transfer_debited") {
    p->mark(i, bit_debit);
  } else if (type == "transfer_credited") {
    p->record_since_sent(p->credit_ns, i);
    p->mark(i, bit_credit);
  } else if (type == "transfer_reversed") {
    p->reversed.fetch_add(1);
    p->give_up(i);
  }
}

// JetStream did not store a command: its transfer will never complete.
void on_publish_error(jsCtx* /*js*/, jsPubAckErr* pae, void* closure) {
  auto& reg = *static_cast<registry*>(closure);
  const char* reply = nullptr;
  if (natsMsgHeader_Get(pae->Msg, wn::header::reply_to, &reply) != NATS_OK) return;
  const std::string_view subject{reply};
  const auto ids = parse_pair(subject.substr(subject.rfind('.') + 1), '_');
  phase* p = ids ? reg.get(ids->first) : nullptr;
  if (p == nullptr || ids->second >= p->jobs) return;
  p->publish_failed.fetch_add(1);
  p->give_up(ids->second);
}

void on_async_error(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsStatus /*err*/,
                    void* closure) {
  static_cast<registry*>(closure)->async_errors.fetch_add(1);
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

struct nats_error {
  std::string message;
};

void check(natsStatus s, const std::string& doing) {
  if (s != NATS_OK) {
    throw nats_error{doing + ": " + natsStatus_GetText(s) + " (" + nats_GetLastError(nullptr) +
                     ")"};
  }
}

// Three connections, so that the replies and the events each have a socket and a reader thread
// of their own, apart from the publisher's acknowledgements.
struct session {
  natsConnection* publisher = nullptr;
  natsConnection* replies = nullptr;
  natsConnection* events = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* reply_sub = nullptr;
  natsSubscription* event_sub = nullptr;

  session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  session(session&&) = delete;
  session& operator=(session&&) = delete;
  ~session() {
    natsSubscription_Destroy(event_sub);
    natsSubscription_Destroy(reply_sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(events);
    natsConnection_Destroy(replies);
    natsConnection_Destroy(publisher);
  }
};

natsConnection* connect(const options& o, const char* name, registry& reg) {
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "natsOptions_Create");
  const std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> opts{raw, natsOptions_Destroy};
  check(natsOptions_SetURL(raw, o.url.c_str()), "natsOptions_SetURL");
  check(natsOptions_SetName(raw, name), "natsOptions_SetName");
  check(natsOptions_SetErrorHandler(raw, on_async_error, &reg), "natsOptions_SetErrorHandler");
  // Larger socket buffers: tens of thousands of small messages a second each way.
  check(natsOptions_SetIOBufSize(raw, 1 << 20), "natsOptions_SetIOBufSize");
  natsConnection* nc = nullptr;
  check(natsConnection_Connect(&nc, raw), std::string{"connecting to "} + o.url);
  return nc;
}

void open_session(session& s, const options& o, registry& reg) {
  s.publisher = connect(o, "nats_bench-publish", reg);
  s.replies = connect(o, "nats_bench-replies", reg);
  s.events = connect(o, "nats_bench-events", reg);
  jsOptions jo;
  check(jsOptions_Init(&jo), "jsOptions_Init");
  // Bounded: a closed loop keeps --concurrency outstanding; the open loop may exceed it when
  // walletd falls behind, and then the sender waits (which shows as send lag and latency).
  jo.PublishAsync.MaxPending =
      static_cast<std::int64_t>(std::max<std::size_t>(o.concurrency, 65'536));
  jo.PublishAsync.StallWait = 60'000;
  jo.PublishAsync.ErrHandler = on_publish_error;
  jo.PublishAsync.ErrHandlerClosure = &reg;
  check(natsConnection_JetStream(&s.js, s.publisher, &jo), "natsConnection_JetStream");

  natsInbox* inbox = nullptr;
  check(natsInbox_Create(&inbox), "natsInbox_Create");
  reg.inbox_prefix = inbox;
  natsInbox_Destroy(inbox);
  const std::string replies = reg.inbox_prefix + ".*";
  check(natsConnection_Subscribe(&s.reply_sub, s.replies, replies.c_str(), on_reply, &reg),
        "subscribing to " + replies);
  // Core subscription: it sees what JetStream stores on these subjects from now on.
  const std::string events = wn::event_subject(o.prefix, "*");
  check(natsConnection_Subscribe(&s.event_sub, s.events, events.c_str(), on_event, &reg),
        "subscribing to " + events);
  // No client-side limit: a dropped message would leave a transfer incomplete forever.
  check(natsSubscription_SetPendingLimits(s.reply_sub, -1, -1), "pending limits");
  check(natsSubscription_SetPendingLimits(s.event_sub, -1, -1), "pending limits");
  check(natsConnection_Flush(s.replies), "flush");
  check(natsConnection_Flush(s.events), "flush");
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

struct command_text {
  std::string wallet;
  std::string key;
  std::string json;
};

command_text make_command(const phase& p, std::size_t i, const options& o, const registry& reg) {
  if (p.what == kind::transfer) {
    const transfer_spec& s = p.specs[i];
    const std::string id = reg.run_tag + std::to_string(p.index) + "-" + std::to_string(i);
    command_text c{wallet_id(s.source), id, {}};
    c.json = R"({"wallet_id":")" + c.wallet + R"(","idempotency_key":")" + id +
             R"(","type":"transfer","transfer_id":")" + id + R"(","destination":")" +
             wallet_id(s.destination) + R"(","amount":")" + eur(s.amount) +
             R"(","currency":"EUR"})";
    return c;
  }
  const std::size_t n = i + 1;
  command_text c{wallet_id(n), {}, {}};
  if (p.what == kind::open_wallet) {
    c.key = "open-" + c.wallet;
    c.json = R"({"wallet_id":")" + c.wallet + R"(","idempotency_key":")" + c.key +
             R"(","type":"open_wallet","owner":"bench","currency":"EUR"})";
  } else {
    c.key = "fund-" + c.wallet;
    const std::int64_t funds = n <= o.hot_wallets ? balance_hot : balance_regular;
    c.json = R"({"wallet_id":")" + c.wallet + R"(","idempotency_key":")" + c.key +
             R"(","type":"deposit","amount":")" + eur(funds) + R"(","currency":"EUR"})";
  }
  return c;
}

// Publishes job i asynchronously; its JetStream acknowledgement is handled by the library (only
// failures reach on_publish_error).
void publish(session& s, phase& p, std::size_t i, const options& o, registry& reg) {
  const command_text c = make_command(p, i, o, reg);
  const std::string subject = wn::command_subject(o.prefix, c.wallet);
  const std::string reply =
      reg.inbox_prefix + "." + std::to_string(p.index) + "_" + std::to_string(i);
  const std::string msg_id = c.wallet + "/" + c.key;  // keys are unique per wallet only
  natsMsg* msg = nullptr;
  natsStatus st = natsMsg_Create(&msg, subject.c_str(), nullptr, c.json.data(),
                                 static_cast<int>(c.json.size()));
  if (st == NATS_OK) st = natsMsgHeader_Set(msg, wn::header::reply_to, reply.c_str());
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id.c_str();
  if (st == NATS_OK) st = js_PublishMsgAsync(s.js, &msg, &po);
  natsMsg_Destroy(msg);  // NULL once the library took it
  if (st != NATS_OK) {
    p.publish_failed.fetch_add(1);
    p.give_up(i);
  }
}

// Blocks until every job of `p` completed, or nothing progressed for --stall-seconds.
void wait_done(phase& p, const options& o) {
  std::uint64_t last = 0;
  auto progress_at = clock_type::now();
  while (p.completed.load() < p.jobs) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
    const std::uint64_t c = p.completed.load();
    if (c != last) {
      last = c;
      progress_at = clock_type::now();
    } else if (clock_type::now() - progress_at > std::chrono::duration<double>(o.stall_seconds)) {
      p.stalled = true;
      return;
    }
  }
}

void finish(phase& p, double cpu_before) {
  p.cpu_s = self_cpu_s() - cpu_before;
  const std::int64_t end = p.last_complete_ns.load();
  p.seconds =
      end > p.first_send_ns.load() ? static_cast<double>(end - p.first_send_ns.load()) * 1e-9 : 0;
}

// Closed loop: --concurrency jobs outstanding; each completion lets the next one go.
void run_closed(session& s, phase& p, const options& o, registry& reg) {
  p.closed_loop.store(true);
  p.slots.release(static_cast<std::ptrdiff_t>(o.concurrency));
  const double cpu = self_cpu_s();
  p.first_send_ns.store(now_ns());
  const auto stall = std::chrono::duration<double>(o.stall_seconds);
  for (std::size_t i = 0; i < p.jobs && !p.stalled; ++i) {
    std::uint64_t seen = p.completed.load();
    auto progress_at = clock_type::now();
    while (!p.slots.try_acquire_for(std::chrono::milliseconds{100})) {
      if (p.completed.load() != seen) {
        seen = p.completed.load();
        progress_at = clock_type::now();
      } else if (clock_type::now() - progress_at > stall) {
        p.stalled = true;
        break;
      }
    }
    if (p.stalled) break;
    p.sent_ns[i].store(now_ns(), std::memory_order_release);
    publish(s, p, i, o, reg);
  }
  if (!p.stalled) wait_done(p, o);
  finish(p, cpu);
}

// Open loop: job i is due at start + i / rate; latency counts from then, so a stall of walletd
// shows as latency instead of as fewer commands sent (no coordinated omission).
void run_open(session& s, phase& p, const options& o, registry& reg) {
  const double cpu = self_cpu_s();
  const std::int64_t start = now_ns() + 1'000'000;
  p.first_send_ns.store(start);
  const double interval_ns = 1e9 / p.rate;
  std::int64_t lag_max = 0;
  for (std::size_t i = 0; i < p.jobs; ++i) {
    const auto due = start + static_cast<std::int64_t>(static_cast<double>(i) * interval_ns);
    const std::int64_t t = now_ns();
    if (t < due) std::this_thread::sleep_for(std::chrono::nanoseconds{due - t});
    lag_max = std::max(lag_max, now_ns() - due);
    p.sent_ns[i].store(due, std::memory_order_release);
    publish(s, p, i, o, reg);
  }
  p.send_lag_max_ms = static_cast<double>(lag_max) * 1e-6;
  wait_done(p, o);
  finish(p, cpu);
}

// Lets the event stream go quiet (the set-up's events, a previous phase's stragglers) so that a
// phase does not pay for the one before.
void settle(const registry& reg) {
  const auto deadline = clock_type::now() + std::chrono::seconds{120};
  while (clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    if (now_ns() - reg.last_event_ns.load() > 1'000'000'000) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

void print_latency(const char* what, const log_histogram& h) {
  const latency_figures f = summarise(h);
  std::printf("  %-26s p50 %8.2f  p90 %8.2f  p99 %8.2f  p99.9 %8.2f  max %8.2f ms  (n=%llu)\n",
              what, f.p50, f.p90, f.p99, f.p999, f.max, static_cast<unsigned long long>(f.count));
}

void print_phase(const phase& p) {
  std::printf("\n== %s: %zu %s%s\n", p.name.c_str(), p.jobs,
              p.what == kind::transfer ? "transfers" : "commands",
              p.stalled ? "  (STALLED: abandoned)" : "");
  if (p.rate > 0) {
    std::printf("  rate %.0f/s, sender lag max %.2f ms\n", p.rate, p.send_lag_max_ms);
  }
  std::printf(
      "  completed %llu in %.2f s: %.0f/s; accepted %llu (replayed %llu), rejected %llu, "
      "refused %llu, not stored %llu, reversed %llu\n",
      static_cast<unsigned long long>(p.completed.load()), p.seconds, p.completed_per_s(),
      static_cast<unsigned long long>(p.accepted.load()),
      static_cast<unsigned long long>(p.replayed.load()),
      static_cast<unsigned long long>(p.rejected.load()),
      static_cast<unsigned long long>(p.refused.load()),
      static_cast<unsigned long long>(p.publish_failed.load()),
      static_cast<unsigned long long>(p.reversed.load()));
  print_latency("sent -> outcome", p.outcome_ns);
  if (p.what == kind::transfer) {
    print_latency("sent -> credit event", p.credit_ns);
    print_latency("sent -> complete", p.complete_ns);
  }
  std::printf("  nats_bench CPU %.2f cores (%.1f us per job)\n",
              p.seconds > 0 ? p.cpu_s / p.seconds : 0,
              p.completed.load() > 0 ? 1e6 * p.cpu_s / static_cast<double>(p.completed.load()) : 0);
}

void print_results(const std::vector<std::unique_ptr<phase>>& phases, const registry& reg) {
  std::printf("\n");
  bool ok = reg.async_errors.load() == 0;
  for (const auto& p : phases) {
    const char* n = p->name.c_str();
    std::printf("RESULT %s_completed_per_s %.1f\n", n, p->completed_per_s());
    std::printf("RESULT %s_incomplete %llu\n", n,
                static_cast<unsigned long long>(p->jobs - p->completed.load()));
    const latency_figures out = summarise(p->outcome_ns);
    std::printf("RESULT %s_p50_ms %.3f\nRESULT %s_p99_ms %.3f\n", n, out.p50, n, out.p99);
    if (p->what == kind::transfer) {
      const latency_figures cr = summarise(p->credit_ns);
      const latency_figures all = summarise(p->complete_ns);
      std::printf("RESULT %s_credit_p50_ms %.3f\nRESULT %s_credit_p99_ms %.3f\n", n, cr.p50, n,
                  cr.p99);
      std::printf("RESULT %s_complete_p50_ms %.3f\nRESULT %s_complete_p99_ms %.3f\n", n, all.p50, n,
                  all.p99);
      std::printf("RESULT %s_rejected %llu\n", n,
                  static_cast<unsigned long long>(p->rejected.load()));
    }
    if (p->rate > 0) std::printf("RESULT %s_rate %.1f\n", n, p->rate);
    // The bench shares the machine with walletd: its own cost must be visible beside the figures.
    std::printf("RESULT %s_bench_cores %.2f\n", n, p->seconds > 0 ? p->cpu_s / p->seconds : 0);
    if (p->stalled || p->refused.load() > 0 || p->publish_failed.load() > 0) ok = false;
  }
  std::printf("RESULT async_errors %llu\nRESULT ok %d\n",
              static_cast<unsigned long long>(reg.async_errors.load()), ok ? 1 : 0);
}

json::object latency_json(const log_histogram& h) {
  const latency_figures f = summarise(h);
  return {{"count", f.count}, {"p50_ms", f.p50},   {"p90_ms", f.p90},
          {"p99_ms", f.p99},  {"p999_ms", f.p999}, {"max_ms", f.max}};
}

void write_json(const std::vector<std::unique_ptr<phase>>& phases, const options& o,
                const registry& reg) {
  json::array list;
  for (const auto& p : phases) {
    json::object j{{"name", p->name},
                   {"jobs", p->jobs},
                   {"completed", p->completed.load()},
                   {"seconds", p->seconds},
                   {"completed_per_s", p->completed_per_s()},
                   {"accepted", p->accepted.load()},
                   {"replayed", p->replayed.load()},
                   {"rejected", p->rejected.load()},
                   {"refused", p->refused.load()},
                   {"not_stored", p->publish_failed.load()},
                   {"reversed", p->reversed.load()},
                   {"stalled", p->stalled},
                   {"rate", p->rate},
                   {"send_lag_max_ms", p->send_lag_max_ms},
                   {"bench_cpu_s", p->cpu_s},
                   {"outcome", latency_json(p->outcome_ns)}};
    if (p->what == kind::transfer) {
      j["credit"] = latency_json(p->credit_ns);
      j["complete"] = latency_json(p->complete_ns);
    }
    list.push_back(std::move(j));
  }
  const json::object root{{"url", o.url},
                          {"prefix", o.prefix},
                          {"wallets", o.wallets},
                          {"hot_wallets", o.hot_wallets},
                          {"concurrency", o.concurrency},
                          {"events_seen", reg.events.load()},
                          {"async_errors", reg.async_errors.load()},
                          {"phases", std::move(list)}};
  std::ofstream out{o.json_path};
  out << json::serialize(root) << '\n';
  if (!out) throw nats_error{"cannot write " + o.json_path};
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

struct bench {
  const options& o;
  session s;
  registry reg;
  std::vector<std::unique_ptr<phase>> phases;

  phase& add(const std::string& name, kind what, std::size_t jobs) {
    if (phases.size() >= phases_max) throw nats_error{"too many phases"};
    phases.push_back(std::make_unique<phase>(name, phases.size(), what, jobs));
    reg.phases[phases.size() - 1].store(phases.back().get(), std::memory_order_release);
    return *phases.back();
  }

  void setup() {
    for (const kind what : {kind::open_wallet, kind::deposit}) {
      phase& p = add(what == kind::open_wallet ? "setup_open" : "setup_fund", what, o.wallets);
      std::printf("%s: %zu wallets, %zu outstanding\n", p.name.c_str(), o.wallets, o.concurrency);
      std::fflush(stdout);
      run_closed(s, p, o, reg);
      print_phase(p);
      if (p.completed.load() != p.jobs || p.refused.load() > 0) {
        throw nats_error{p.name + " did not complete: is walletd running on this prefix?"};
      }
    }
  }

  double transfers(const std::string& scenario, double peak) {
    settle(reg);
    const bool open = scenario == "open";
    const double rate = open ? (o.rate > 0 ? o.rate : peak / 2) : 0;
    if (open && rate <= 0) throw nats_error{"the open loop needs --rate or the uniform scenario"};
    const std::size_t jobs =
        open ? std::max<std::size_t>(1, static_cast<std::size_t>(rate * o.open_seconds))
             : o.transfers;
    phase& p = add(scenario, kind::transfer, jobs);
    p.rate = rate;
    p.specs = make_specs(jobs, o, scenario == "hot", o.seed + phases.size());
    std::printf("%s: %zu transfers%s\n", scenario.c_str(), jobs,
                open ? "" : (", " + std::to_string(o.concurrency) + " outstanding").c_str());
    std::fflush(stdout);
    if (open) {
      run_open(s, p, o, reg);
    } else {
      run_closed(s, p, o, reg);
    }
    print_phase(p);
    std::fflush(stdout);
    return scenario == "uniform" ? p.completed_per_s() : peak;
  }

  void run() {
    std::random_device rd;
    char tag[16];
    std::snprintf(tag, sizeof tag, "b%08x-", static_cast<unsigned>(rd()));
    reg.run_tag = tag;
    open_session(s, o, reg);
    if (!o.skip_setup) setup();
    double peak = 0;
    for (const auto& scenario : o.scenarios) peak = transfers(scenario, peak);
    // The library must not call back into phases while they are printed.
    js_PublishAsyncComplete(s.js, nullptr);
    print_results(phases, reg);
    if (!o.json_path.empty()) write_json(phases, o, reg);
  }
};

// The streams one run's walletd created: removed so that runs do not pile up on the disk.
int delete_streams(const options& o) {
  registry reg;
  natsConnection* nc = connect(o, "nats_bench-cleanup", reg);
  jsCtx* js = nullptr;
  int code = 0;
  if (natsConnection_JetStream(&js, nc, nullptr) == NATS_OK) {
    for (const auto& name : o.delete_streams) {
      jsErrCode err{};
      const natsStatus st = js_DeleteStream(js, name.c_str(), nullptr, &err);
      if (st != NATS_OK && st != NATS_NOT_FOUND) {
        std::cerr << "nats_bench: deleting stream " << name << ": " << natsStatus_GetText(st)
                  << '\n';
        code = 1;
      }
    }
  } else {
    code = 1;
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    bool help = false;
    o = parse(argc, argv, help);
    if (help) {
      std::cout << help_text;
      return 0;
    }
  } catch (const usage_error& e) {
    std::cerr << "nats_bench: " << e.message << " (see --help)\n";
    return 2;
  }
  int code = 0;
  try {
    if (!o.delete_streams.empty()) {
      code = delete_streams(o);
      nats_Close();
      return code;
    }
    bench b{o, {}, {}, {}};
    b.run();
    std::fflush(stdout);
    for (const auto& p : b.phases) {
      if (p->stalled || p->completed.load() != p->jobs) code = 1;
    }
  } catch (const nats_error& e) {
    std::cerr << "nats_bench: " << e.message << '\n';
    code = 1;
  }
  nats_Close();
  return code;
}
