// walletctl: a command-line client of walletd's NATS interface (docs/wire.md). Sends commands
// through JetStream and waits for their outcome, queries wallets and outcomes, follows events.
#include <nats/nats.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "wallet/nats/client.hpp"
#include "wallet/nats/settings.hpp"
#include "wallet/nats/wire.hpp"

namespace {

namespace json = boost::json;
namespace wn = wallet::nats;
using namespace std::chrono_literals;

constexpr int exit_accepted = 0;
constexpr int exit_refused = 1;  // rejected or refused
constexpr int exit_usage = 2;
constexpr int exit_no_answer = 3;  // no answer in time, or no connection

constexpr const char* help_text = R"(walletctl: a client of walletd over NATS.

Usage:
  walletctl [options] send '<command JSON>'     send a command, wait for and print its outcome
  walletctl [options] wallet <wallet_id>        print a wallet's state
  walletctl [options] outcome <wallet_id> <key> print the recorded outcome of an idempotency key
  walletctl [options] follow <wallet_id|'*'> [--count N]
                                                print events as they are published, one JSON
                                                object a line; stop after N

Options:
  --url URL          NATS server(s), comma-separated (default nats://127.0.0.1:54222)
  --prefix P         subject prefix (default wallet)
  --timeout-ms MS    how long to wait for an answer (default 5000). follow waits without limit
                     unless it is given.
  --help             this text

send publishes to <prefix>.cmd.<wallet_id> through JetStream with Nats-Msg-Id = <wallet_id>/<idempotency key>
and asks for the outcome on a fresh inbox (header Wallet-Reply-To). When the stream already holds a
message with that key (a resend within the duplicate window), walletd does not see it again: the
outcome is then looked up with an outcome query.

Exit codes:
  0  accepted (send), found (wallet, outcome), follow received its N events
  1  rejected or refused (including not_found)
  2  usage error (bad arguments, a command without wallet_id)
  3  no answer in time, or no connection to NATS
)";

struct options {
  std::string url = "nats://127.0.0.1:54222";
  std::string prefix = "wallet";
  std::chrono::milliseconds timeout{5'000};
  bool timeout_given = false;
  std::optional<long long> count;
  std::vector<std::string> args;  // the subcommand and its operands
  bool help = false;
};

struct usage_error {
  std::string message;
};

std::optional<long long> to_number(const std::string& text) {
  try {
    std::size_t used = 0;
    const long long n = std::stoll(text, &used);
    if (used == text.size() && n > 0) return n;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Reads `--name value` or `--name=value`; advances `i` past what it used.
std::optional<std::string> option_value(const std::vector<std::string>& argv, std::size_t& i,
                                        std::string_view name) {
  const std::string& a = argv[i];
  if (a == name) {
    if (i + 1 >= argv.size()) throw usage_error{std::string{name} + " needs a value"};
    return argv[++i];
  }
  if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=') {
    return a.substr(name.size() + 1);
  }
  return std::nullopt;
}

options parse(const std::vector<std::string>& argv) {
  options o;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--help" || argv[i] == "-h") {
      o.help = true;
    } else if (auto url = option_value(argv, i, "--url")) {
      o.url = *url;
    } else if (auto prefix = option_value(argv, i, "--prefix")) {
      o.prefix = *prefix;
    } else if (auto ms = option_value(argv, i, "--timeout-ms")) {
      const auto n = to_number(*ms);
      if (!n) throw usage_error{"--timeout-ms needs a positive number"};
      o.timeout = std::chrono::milliseconds{*n};
      o.timeout_given = true;
    } else if (auto count = option_value(argv, i, "--count")) {
      o.count = to_number(*count);
      if (!o.count) throw usage_error{"--count needs a positive number"};
    } else if (argv[i].size() > 2 && argv[i].compare(0, 2, "--") == 0) {
      throw usage_error{"unknown option " + argv[i]};
    } else {
      o.args.push_back(argv[i]);
    }
  }
  return o;
}

// The answer's "status" field, or "" when it has none (or is not a JSON object).
std::string status_of(std::string_view answer) {
  boost::system::error_code ec;
  const json::value v = json::parse(answer, ec);
  if (ec || !v.is_object()) return {};
  const json::value* s = v.get_object().if_contains("status");
  return s != nullptr && s->is_string() ? std::string{s->get_string()} : std::string{};
}

// Prints an answer and maps its status to the exit code.
int print_answer(natsMsg* msg) {
  const std::string_view data{natsMsg_GetData(msg),
                              static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
  std::cout << data << '\n' << std::flush;
  const std::string status = status_of(data);
  return status == "rejected" || status == "refused" ? exit_refused : exit_accepted;
}

int no_answer(std::string_view doing, natsStatus s) {
  std::cerr << "walletctl: " << wn::failure(doing, s).message << '\n';
  return exit_no_answer;
}

// The NATS objects of one run, destroyed in the order the library needs.
struct session {
  natsConnection* conn = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  natsInbox* inbox = nullptr;
  session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  session(session&&) = delete;
  session& operator=(session&&) = delete;
  ~session() {
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(conn);
    natsInbox_Destroy(inbox);
    nats_Close();
  }
};

natsStatus connect(session& s, const options& o) {
  natsOptions* raw = nullptr;
  natsStatus st = natsOptions_Create(&raw);
  if (st != NATS_OK) return st;
  const std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> opts{raw, natsOptions_Destroy};
  st = natsOptions_SetURL(opts.get(), o.url.c_str());
  if (st == NATS_OK) st = natsOptions_SetName(opts.get(), "walletctl");
  if (st == NATS_OK) st = natsOptions_SetTimeout(opts.get(), o.timeout.count());
  if (st == NATS_OK) st = natsConnection_Connect(&s.conn, opts.get());
  return st;
}

// The query answer on `subject`, printed.
int request(const options& o, const std::string& subject, std::string_view body) {
  session s;
  if (const natsStatus st = connect(s, o); st != NATS_OK) return no_answer("connecting", st);
  natsMsg* reply = nullptr;
  const natsStatus st = natsConnection_Request(&reply, s.conn, subject.c_str(), body.data(),
                                               static_cast<int>(body.size()), o.timeout.count());
  const wn::msg_ptr owned{reply};
  if (st != NATS_OK) return no_answer("requesting " + subject, st);
  return print_answer(reply);
}

// After a duplicate publish: the first message's outcome, once it is recorded.
int outcome_of_duplicate(const options& o, session& s, const std::string& wallet_id,
                         const std::string& key, std::chrono::steady_clock::time_point deadline) {
  const std::string subject = wn::outcome_query_subject(o.prefix, wallet_id);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return no_answer("waiting for the outcome of a duplicate", NATS_TIMEOUT);
    natsMsg* reply = nullptr;
    const natsStatus st = natsConnection_Request(&reply, s.conn, subject.c_str(), key.data(),
                                                 static_cast<int>(key.size()), left.count());
    const wn::msg_ptr owned{reply};
    if (st != NATS_OK) return no_answer("requesting " + subject, st);
    const std::string_view data{natsMsg_GetData(reply),
                                static_cast<std::size_t>(natsMsg_GetDataLength(reply))};
    // not_found: the first message is still being decided.
    if (data.find(R"("code":"not_found")") == std::string_view::npos) return print_answer(reply);
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(100ms, left));
  }
}

// The wallet id and idempotency key of a command, read by the wire codec; an invalid command
// still travels (walletd answers why it is invalid) when its wallet id can be read.
std::pair<std::string, std::string> ids_of(const std::string& command) {
  auto decoded = wn::decode_command(command, wn::origin::client);
  if (decoded) {
    const auto& c = decoded.value().command;
    return {c.wallet_id, c.idempotency_key};
  }
  return {decoded.error().wallet_id, decoded.error().idempotency_key};
}

int send(const options& o, const std::string& command) {
  const auto [wallet_id, key] = ids_of(command);
  if (!wn::is_subject_token(wn::subject_token(wallet_id))) {
    std::cerr << "walletctl: the command has no wallet_id usable in a subject\n";
    return exit_usage;
  }
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  session s;
  natsStatus st = connect(s, o);
  if (st == NATS_OK) st = natsConnection_JetStream(&s.js, s.conn, nullptr);
  if (st == NATS_OK) st = natsInbox_Create(&s.inbox);
  if (st == NATS_OK) st = natsConnection_SubscribeSync(&s.sub, s.conn, s.inbox);
  if (st != NATS_OK) return no_answer("connecting", st);
  const wn::msg_ptr msg = wn::make_msg(wn::command_subject(o.prefix, wallet_id), command);
  if (!msg) return no_answer("creating the message", NATS_NO_MEMORY);
  natsMsgHeader_Set(msg.get(), wn::header::reply_to, s.inbox);
  jsPubOptions pub;
  jsPubOptions_Init(&pub);
  pub.MaxWait = o.timeout.count();
  // The stream deduplicates across every wallet, and keys are unique per wallet only.
  const std::string msg_id = wallet_id + "/" + key;
  if (!key.empty()) pub.MsgId = msg_id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode code{};
  st = js_PublishMsg(&ack, s.js, msg.get(), &pub, &code);
  const std::unique_ptr<jsPubAck, decltype(&jsPubAck_Destroy)> owned_ack{ack, jsPubAck_Destroy};
  if (st != NATS_OK) return no_answer("publishing the command", st);
  if (ack != nullptr && ack->Duplicate) return outcome_of_duplicate(o, s, wallet_id, key, deadline);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  natsMsg* reply = nullptr;
  st = natsSubscription_NextMsg(&reply, s.sub, std::max<std::int64_t>(left.count(), 1));
  const wn::msg_ptr owned_reply{reply};
  if (st != NATS_OK) return no_answer("waiting for the outcome", st);
  return print_answer(reply);
}

int follow(const options& o, const std::string& wallet) {
  if (wallet != "*" && !wn::is_subject_token(wn::subject_token(wallet))) {
    std::cerr << "walletctl: not a wallet id: " << wallet << '\n';
    return exit_usage;
  }
  session s;
  natsStatus st = connect(s, o);
  const std::string subject = wn::event_subject(o.prefix, wallet);
  if (st == NATS_OK) st = natsConnection_SubscribeSync(&s.sub, s.conn, subject.c_str());
  if (st != NATS_OK) return no_answer("subscribing to " + subject, st);
  for (long long seen = 0; !o.count || seen < *o.count; ++seen) {
    natsMsg* msg = nullptr;
    // Without a timeout, wait in long steps (NextMsg needs a positive one).
    const std::int64_t wait = o.timeout_given ? o.timeout.count() : 3'600'000;
    st = natsSubscription_NextMsg(&msg, s.sub, wait);
    const wn::msg_ptr owned{msg};
    if (st == NATS_TIMEOUT && !o.timeout_given) {
      --seen;
      continue;
    }
    if (st != NATS_OK) return no_answer("waiting for events", st);
    std::cout << std::string_view{natsMsg_GetData(msg),
                                  static_cast<std::size_t>(natsMsg_GetDataLength(msg))}
              << '\n'
              << std::flush;
  }
  return exit_accepted;
}

// A wallet id that fits in a subject token ('.' travels as '~'), or a usage error.
const std::string& checked_wallet(const std::string& id) {
  if (!wn::is_subject_token(wn::subject_token(id))) throw usage_error{"not a wallet id: " + id};
  return id;
}

int run(const options& o) {
  const auto& a = o.args;
  const std::string verb = a.empty() ? std::string{} : a[0];
  if (o.count && verb != "follow") throw usage_error{"--count applies to follow only"};
  if (verb == "send" && a.size() == 2) return send(o, a[1]);
  if (verb == "wallet" && a.size() == 2) {
    return request(o, wn::wallet_query_subject(o.prefix, checked_wallet(a[1])), {});
  }
  if (verb == "outcome" && a.size() == 3) {
    return request(o, wn::outcome_query_subject(o.prefix, checked_wallet(a[1])), a[2]);
  }
  if (verb == "follow" && a.size() == 2) return follow(o, a[1]);
  throw usage_error{verb.empty() ? "no command given" : "bad arguments for " + verb};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(std::vector<std::string>(argv + 1, argv + argc));
    if (o.help) {
      std::cout << help_text;
      return exit_accepted;
    }
    return run(o);
  } catch (const usage_error& e) {
    std::cerr << "walletctl: " << e.message << " (see walletctl --help)\n";
    return exit_usage;
  }
}
