// Errors as application/problem+json (RFC 9457) with a stable code: `type` is
// "urn:wallet-engine:problem:<code>" and `code` repeats the word for clients that switch on it.
// The mapping from the engine's rejections and refusals and from authentication failures to HTTP
// statuses lives here, in one place (docs/openapi.json lists the codes).
#pragma once

// Boost 1.81's string_view (under Beast) uses std::ostream without including it.
#include <ostream>

#include <boost/beast/http/status.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wallet/actors/outcome.hpp"
#include "wallet/auth/auth.hpp"
#include "wallet/engine/rejection.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::http {

using status = boost::beast::http::status;

inline constexpr std::string_view problem_type_prefix = "urn:wallet-engine:problem:";
inline constexpr std::string_view problem_content_type = "application/problem+json";

struct problem {
  status code_status = status::internal_server_error;
  std::string code;                                 // stable lower_snake_case word
  std::string detail;                               // this occurrence, for people
  std::vector<nats::field_problem> fields;          // invalid_request: each field's problem
  std::optional<std::chrono::seconds> retry_after;  // 429 and 503: sent as Retry-After
  boost::json::object extensions;                   // e.g. the wallet's version on a rejection
};

// The problem with `code`, its status and title from the table of codes (asserted known).
[[nodiscard]] problem make_problem(std::string_view code, std::string detail = {});

// 400 invalid_request naming each field ("amount", a query parameter "limit", a header
// "Idempotency-Key"; "" for the body as a whole).
[[nodiscard]] problem invalid_request(std::vector<nats::field_problem> fields);

// A business rejection: 404 for a missing wallet or hold, 409 for a key or id already used,
// 503 with Retry-After `retry_after` for a transient one (feature_disabled: the same request may
// pass once the operator switches the feature on), 422 for every other rule.
[[nodiscard]] problem from_rejection(engine::rejection r,
                                     std::chrono::seconds retry_after = std::chrono::seconds{1});

// Why the runtime did not decide: 503 with Retry-After when waiting helps (overloaded,
// unavailable, shutting_down, not_owner), 409 for a refused write, 400 for a bad id or key.
[[nodiscard]] problem from_refusal(actors::submit_errc e, std::chrono::seconds retry_after);

// 401 for every authentication failure but keys_unavailable (503: the key set cannot be read).
[[nodiscard]] problem from_auth(auth::auth_errc e, std::chrono::seconds retry_after);

// The HTTP status and title of a code; nullopt for a code not in the table.
struct problem_kind {
  std::string_view code;
  status http_status;
  std::string_view title;
};
[[nodiscard]] const std::vector<problem_kind>& problem_kinds();

// The problem as a response body (with `trace_id` and `instance`, the request's path) and its
// Retry-After header.
[[nodiscard]] std::string problem_body(const problem& p, std::string_view instance,
                                       std::string_view trace_id);

}  // namespace wallet::http
