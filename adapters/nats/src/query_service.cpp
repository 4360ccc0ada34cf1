// Wallet and outcome queries: core NATS queue subscriptions answered from PostgreSQL.
#include "wallet/nats/query_service.hpp"

#include <array>
#include <chrono>
#include <pqxx/pqxx>
#include <utility>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/command.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/nats/wire.hpp"
#include "wallet/postgres/conninfo.hpp"
#include "wallet/postgres/queries.hpp"

namespace wallet::nats {

// The database side: one connection for both subscriptions (queries are short; their delivery
// threads take turns), and the count of subscriptions whose last callback has not yet returned.
struct query_service::shared {
  std::string conninfo;
  std::shared_ptr<query_probe> probe;

  std::mutex db_mutex;
  std::unique_ptr<pqxx::connection> conn;

  std::mutex done_mutex;
  std::condition_variable done;
  std::size_t active = 0;

  // The connection, opened if needed; nullptr when the server cannot be reached (reported).
  pqxx::connection* connection();
  // Drops the connection after an unavailable error, so the next query reconnects.
  void failed(const postgres::error& e);
  // Runs `read` on the connection. When that finds the connection dead (a server restart, an
  // idle session killed), it reconnects and reads once more: reads are idempotent, and a client
  // should not see "unavailable" for a connection the server dropped long ago. Failures reported.
  template <class Read>
  auto with_connection(const Read& read) -> decltype(read(std::declval<pqxx::connection&>()));

  std::string wallet_answer(const std::string& wallet_id);
  std::string outcome_answer(const std::string& wallet_id, const std::string& key);
};

namespace {

using namespace std::chrono_literals;

// A query is interactive: a statement that takes longer fails, and the client may retry.
constexpr std::chrono::milliseconds statement_timeout{5'000};
// How long stop() waits for a callback blocked on the database (two reads at most, and the
// connects) before leaving it running; the callback then only touches `shared`, which it keeps
// alive.
constexpr std::chrono::milliseconds stop_wait_max = 2 * statement_timeout + 5s;

enum class query_kind : std::uint8_t { wallet, outcome };

// Owned by one subscription: freed by its completion callback, the last call the library makes.
struct subscription_closure {
  std::shared_ptr<query_service::shared> state;
  query_kind kind;
};

bool valid_wallet_id(std::string_view id) {
  return engine::is_valid_id(id, engine::wallet_id_length_max);
}

// A valid id needs no JSON escaping ([A-Za-z0-9._:-] only), so this is written directly: the
// wallet_nats library does not link the JSON writer that wire.cpp uses.
std::string wallet_unavailable(std::string_view wallet_id) {
  WALLET_ASSERT(valid_wallet_id(wallet_id));
  std::string json = R"({"wallet_id":")";
  json.append(wallet_id).append(
      R"(","status":"refused","replayed":false,"error":{"code":"unavailable",)"
      R"("message":"the store is failing; retry later","retryable":true}})");
  return json;
}

// An outcome query that finds nothing. A wallet that was never opened and a key that is not
// remembered are different answers: the first means "check the wallet id", the second "not
// decided (yet), or forgotten". Valid ids and keys need no JSON escaping (see above); an invalid
// key is not repeated.
std::string outcome_not_found(std::string_view wallet_id, std::string_view key, bool valid_key,
                              bool wallet_exists) {
  WALLET_ASSERT(valid_wallet_id(wallet_id));
  WALLET_ASSERT(!valid_key || engine::is_valid_id(key, engine::idempotency_key_length_max));
  std::string message;
  if (!valid_key) {
    message = "not a valid idempotency key (1 to " +
              std::to_string(engine::idempotency_key_length_max) +
              " bytes of A-Z a-z 0-9 . _ : -): no outcome is recorded under it";
  } else if (!wallet_exists) {
    message = "the wallet was never opened, so nothing is recorded under this key";
  } else {
    message =
        "no outcome is recorded under this key: the command was not decided (yet: not "
        "delivered, deferred, or dead-lettered) or its key is older than the retention window";
  }
  std::string json = R"({"wallet_id":")";
  json.append(wallet_id).append(R"(",)");
  if (valid_key) json.append(R"("idempotency_key":")").append(key).append(R"(",)");
  json.append(R"("status":"refused","replayed":false,"error":{"code":"not_found","message":")")
      .append(message)
      .append(R"(","retryable":false}})");
  return json;
}

// Keys never contain white space (engine::is_valid_id); a trailing newline from a shell is not
// part of the key.
std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

void on_query(natsConnection* nc, natsSubscription* /*sub*/, natsMsg* msg, void* closure) {
  const msg_ptr owned{msg};
  const auto* c = static_cast<const subscription_closure*>(closure);
  const char* reply = natsMsg_GetReply(msg);
  if (reply == nullptr) return;  // a publish, not a request: nobody to answer
  const std::string wallet_id{wallet_of_subject(natsMsg_GetSubject(msg))};
  std::string answer;
  if (c->kind == query_kind::wallet) {
    answer = c->state->wallet_answer(wallet_id);
  } else {
    const std::string key{trimmed(std::string_view{
        natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))})};
    answer = c->state->outcome_answer(wallet_id, key);
  }
  if (const natsStatus s =
          natsConnection_Publish(nc, reply, answer.data(), static_cast<int>(answer.size()));
      s != NATS_OK) {
    c->state->probe->failed(failure("answering a query", s).message);
  }
}

void on_complete(void* closure) {
  auto* c = static_cast<subscription_closure*>(closure);
  const std::shared_ptr<query_service::shared> state = c->state;
  delete c;  // NOLINT(cppcoreguidelines-owning-memory): the library hands it back exactly once
  {
    const std::lock_guard lock{state->done_mutex};
    --state->active;
  }
  state->done.notify_all();
}

}  // namespace

pqxx::connection* query_service::shared::connection() {
  if (conn && conn->is_open()) return conn.get();
  conn.reset();
  try {
    auto c = std::make_unique<pqxx::connection>(conninfo);
    c->set_variable("statement_timeout", std::to_string(statement_timeout.count()));
    conn = std::move(c);
    return conn.get();
  } catch (const std::exception& e) {
    probe->failed(postgres::scrub_secret(std::string{"connecting to PostgreSQL: "} + e.what(),
                                         postgres::conninfo_password(conninfo)));
    return nullptr;
  }
}

void query_service::shared::failed(const postgres::error& e) {
  probe->failed(e.detail);
  if (e.code == postgres::errc::unavailable) conn.reset();
}

template <class Read>
auto query_service::shared::with_connection(const Read& read)
    -> decltype(read(std::declval<pqxx::connection&>())) {
  for (int attempt = 1;; ++attempt) {
    pqxx::connection* c = connection();
    if (c == nullptr) return postgres::error{postgres::errc::unavailable, "not connected"};
    auto found = read(*c);
    if (found) return found;
    const bool lost = !c->is_open();
    failed(found.error());
    if (!lost || attempt == 2) return found;
  }
}

std::string query_service::shared::wallet_answer(const std::string& wallet_id) {
  if (!valid_wallet_id(wallet_id)) return encode_not_found(wallet_id);
  const std::lock_guard lock{db_mutex};
  auto found =
      with_connection([&](pqxx::connection& c) { return postgres::find_wallet(c, wallet_id); });
  if (!found) return wallet_unavailable(wallet_id);
  if (!found.value()) return encode_not_found(wallet_id);
  return encode_wallet(*found.value());
}

std::string query_service::shared::outcome_answer(const std::string& wallet_id,
                                                  const std::string& key) {
  if (!valid_wallet_id(wallet_id)) return encode_not_found(wallet_id);
  // Invalid keys are never remembered (engine::wallet_aggregate): nothing to look up.
  if (!engine::is_valid_id(key, engine::idempotency_key_length_max)) {
    return outcome_not_found(wallet_id, key, false, false);
  }
  actors::submit_outcome outcome;
  outcome.error = actors::submit_errc::unavailable;
  engine::currency ccy;
  {
    const std::lock_guard lock{db_mutex};
    auto found = with_connection(
        [&](pqxx::connection& c) { return postgres::find_outcome(c, wallet_id, key); });
    if (found && !found.value()) {
      // Which of the two: the wallet's row says (a second short read, only on this path).
      auto wallet =
          with_connection([&](pqxx::connection& c) { return postgres::find_wallet(c, wallet_id); });
      if (!wallet) return wallet_unavailable(wallet_id);
      return outcome_not_found(wallet_id, key, true, wallet.value().has_value());
    }
    if (found) {
      postgres::stored_outcome stored = *std::move(found).value();
      outcome.error.reset();
      outcome.result = stored.record.result;
      outcome.event = std::move(stored.event);
      outcome.replayed = true;  // an answer given before, not a new decision
      ccy = engine::currency::from_code(stored.currency).value_or(engine::currency{});
      outcome.ccy = ccy;
    }
  }
  return encode_outcome(outcome_view{wallet_id, key, {}, ccy, outcome});
}

query_service::query_service(const client& c, std::string conninfo,
                             std::shared_ptr<query_probe> probe)
    : client_(c), shared_(std::make_shared<shared>()) {
  shared_->conninfo = std::move(conninfo);
  shared_->probe = probe ? std::move(probe) : std::make_shared<query_probe>();
}

query_service::~query_service() { stop(); }

std::optional<nats_error> query_service::start() {
  const std::string& prefix = client_.settings().prefix;
  const std::array<std::pair<std::string, query_kind>, 2> subjects{
      {{wallet_query_subject(prefix, "*"), query_kind::wallet},
       {outcome_query_subject(prefix, "*"), query_kind::outcome}}};
  for (const auto& [subject, kind] : subjects) {
    auto* closure =
        new subscription_closure{shared_, kind};  // NOLINT(cppcoreguidelines-owning-memory)
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_QueueSubscribe(&sub, client_.connection(), subject.c_str(),
                                                 query_queue_group, on_query, closure);
    if (s == NATS_OK) s = natsSubscription_SetOnCompleteCB(sub, on_complete, closure);
    if (s != NATS_OK) {
      auto e = failure("subscribing to " + subject, s);
      if (sub != nullptr) {
        // Without a completion callback there is no telling when a running callback returns:
        // the closure is left to the library rather than freed under it.
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
      } else {
        delete closure;  // NOLINT(cppcoreguidelines-owning-memory): never seen by the library
      }
      stop();
      return e;
    }
    {
      const std::lock_guard lock{shared_->done_mutex};
      ++shared_->active;
    }
    subscriptions_.push_back(sub);
  }
  return std::nullopt;
}

void query_service::stop() {
  if (subscriptions_.empty()) return;
  for (natsSubscription* sub : subscriptions_) {
    // Fails harmlessly when the connection is closed: that closed the subscription already.
    natsSubscription_Unsubscribe(sub);
  }
  {
    std::unique_lock lock{shared_->done_mutex};
    if (!shared_->done.wait_for(lock, stop_wait_max, [this] { return shared_->active == 0; })) {
      shared_->probe->failed("a query was still running at stop; it finishes on its own");
    }
  }
  for (natsSubscription* sub : subscriptions_) natsSubscription_Destroy(sub);
  subscriptions_.clear();
}

}  // namespace wallet::nats
