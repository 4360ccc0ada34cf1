// The HTTP API (docs/openapi.json): routes under /v1/ that turn requests into engine commands and
// reads, plus /health/live, /health/ready and /metrics. Authentication, roles, wallet ownership,
// rate limits, idempotency keys and trace context are enforced here, before anything reaches the
// engine. Free of sockets: the server hands requests in; tests call handle() directly.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wallet/actors/outcome.hpp"
#include "wallet/auth/auth.hpp"
#include "wallet/engine/command.hpp"
#include "wallet/engine/flags.hpp"
#include "wallet/http/admin_port.hpp"
#include "wallet/http/message.hpp"
#include "wallet/http/probe.hpp"
#include "wallet/http/read_port.hpp"
#include "wallet/http/router.hpp"

namespace wallet::http {

// A page's size when the request names none (bounded by api_settings::page_limit_max).
inline constexpr std::size_t page_limit_default = 100;

struct api_settings {
  std::size_t page_limit_max = 1'000;
  std::size_t owner_cache_max = 100'000;  // wallets whose owner and currency are remembered
  std::chrono::seconds retry_after{1};    // Retry-After of 503 answers
};

// Hands a command to the engine (actors::runtime::submit); `done` is called once, after commit.
using submit_fn = std::function<void(engine::command, actors::command_context,
                                     std::function<void(actors::submit_outcome)>)>;

// One condition of /health/ready besides the database's (NATS connected, circuit closed, ...).
struct readiness_check {
  std::string name;
  std::function<bool()> ok;  // quick and non-blocking
};

struct api_ports {
  submit_fn submit;
  // An admin's decision on an AML review (actors::runtime::submit_review_decision); none: the
  // decision route answers 503.
  submit_fn submit_review;
  std::shared_ptr<read_port> reads;
  // The audit trail and owner profiles; none: the admin routes answer 503.
  std::shared_ptr<admin_port> admin;
  // The feature flags in force (actors::compliance_controls): read and replaced whole by
  // GET/PUT /v1/admin/flags; none: those routes answer 503.
  std::function<std::shared_ptr<const engine::feature_flags>()> flags;
  std::function<void(std::shared_ptr<const engine::feature_flags>)> set_flags;
  // Required; with auth.mode=off walletd passes the development authenticator (every role).
  auth::authenticator* authenticator = nullptr;
  auth::rate_limiter* principal_limits = nullptr;  // by token subject; none: no limit
  auth::rate_limiter* address_limits = nullptr;    // by client address, for requests without a
                                                   // principal (open routes, failed tokens)
  std::vector<readiness_check> readiness;
  int schema_version_expected = 0;            // the database must have applied this migration
  std::function<std::string()> metrics_text;  // Prometheus text exposition for /metrics
  std::shared_ptr<probe> events;              // every answered request is reported here
};

class api {
 public:
  api(api_settings settings, api_ports ports);
  ~api();
  api(const api&) = delete;
  api& operator=(const api&) = delete;
  api(api&&) = delete;
  api& operator=(api&&) = delete;

  // The server's handler: never blocks; answers through `respond`, possibly on another thread.
  void handle(request req, responder respond);

  [[nodiscard]] const router& routes() const noexcept;
  // Every route's pattern, without an instance (the metrics' label set is built before the API).
  [[nodiscard]] static std::vector<std::string> route_patterns();

  // The OpenAPI 3.1 document (docs/openapi.json, embedded at build time), served at
  // /v1/openapi.json.
  [[nodiscard]] static std::string_view openapi_document() noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;  // shared with callbacks that may outlive a request
};

}  // namespace wallet::http
