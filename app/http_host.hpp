// Brings the HTTP API up inside walletd: authentication and rate limits from the auth.* and
// rate_limit.* settings, the PostgreSQL read pool (and replica), the API over the runtime, and
// the Beast server on http.listen_address:http.port. Every request is logged as one JSON line and
// counted in the metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "wallet/actors/runtime.hpp"
#include "wallet/auth/auth.hpp"
#include "wallet/config/config.hpp"
#include "wallet/http/api.hpp"
#include "wallet/http/pg_admin.hpp"
#include "wallet/http/pg_reader.hpp"
#include "wallet/http/server.hpp"
#include "wallet/logging/log.hpp"
#include "wallet/metrics/metrics.hpp"

namespace wallet::app {

class http_host {
 public:
  // `conninfo` is the primary's libpq connection string (with its password: never logged);
  // `nats_serving` tells readiness whether the NATS interface serves.
  http_host(const config::config& cfg, logging::logger log, actors::runtime& runtime,
            std::string conninfo, std::shared_ptr<metrics::registry> metrics,
            std::function<bool()> nats_serving);
  http_host(const http_host&) = delete;
  http_host& operator=(const http_host&) = delete;
  http_host(http_host&&) = delete;
  http_host& operator=(http_host&&) = delete;
  ~http_host();

  // Builds the authenticator and the read pool and listens. On failure (unusable auth settings,
  // a replica URL that cannot be used, an address or port that cannot be bound, unreadable TLS
  // files) it logs why and returns false.
  bool start();
  // Stops accepting connections; requests already read are still answered.
  void stop_accepting();
  // Waits up to `grace` for the answers of requests in flight, closes every connection and
  // stops the read pool.
  void stop(std::chrono::milliseconds grace);

 private:
  bool make_auth();

  const config::config& cfg_;
  logging::logger log_;
  actors::runtime& runtime_;
  std::string conninfo_;
  std::shared_ptr<metrics::registry> metrics_;
  std::function<bool()> nats_serving_;
  std::unique_ptr<auth::authenticator> authenticator_;
  std::unique_ptr<auth::rate_limiter> principal_limits_;
  std::unique_ptr<auth::rate_limiter> address_limits_;
  std::shared_ptr<http::pg_reader> reads_;
  std::shared_ptr<http::pg_admin> admin_;  // the audit trail and owner profiles (admin routes)
  std::unique_ptr<http::api> api_;
  std::unique_ptr<http::server> server_;
};

}  // namespace wallet::app
