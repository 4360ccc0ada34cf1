// Queries over core NATS request/reply: a wallet's state (<prefix>.query.wallet.<id>, empty body)
// and the recorded outcome of an idempotency key (<prefix>.query.outcome.<id>, body = the key).
// Every instance answers from PostgreSQL in the queue group "walletd", so any one of them can
// answer for any wallet. Answers use the wire codec (docs/wire.md); a database failure is answered
// "refused" with code "unavailable" (retryable).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wallet/nats/client.hpp"

namespace wallet::nats {

class query_probe {
 public:
  query_probe() = default;
  query_probe(const query_probe&) = delete;
  query_probe& operator=(const query_probe&) = delete;
  query_probe(query_probe&&) = delete;
  query_probe& operator=(query_probe&&) = delete;
  virtual ~query_probe() = default;
  virtual void failed(std::string_view /*what*/) {}  // a database read or a reply failed
};

inline constexpr const char* query_queue_group = "walletd";

class query_service {
 public:
  // `conninfo` is PostgreSQL's (it holds the password: never logged). The service opens its own
  // connection on the first query and again after a loss.
  query_service(const client& c, std::string conninfo, std::shared_ptr<query_probe> probe);
  ~query_service();
  query_service(const query_service&) = delete;
  query_service& operator=(const query_service&) = delete;
  query_service(query_service&&) = delete;
  query_service& operator=(query_service&&) = delete;

  // Subscribes to both query subjects.
  [[nodiscard]] std::optional<nats_error> start();
  // Unsubscribes and waits for a running callback to return: no callback runs after it.
  void stop();

  struct shared;  // what the library's callbacks use; outlives the service if it must

 private:
  const client& client_;
  std::shared_ptr<shared> shared_;
  std::vector<natsSubscription*> subscriptions_;
};

}  // namespace wallet::nats
