// The texts the harness exchanges with walletd: commands as docs/wire.md's JSON (NATS, and the
// naive baseline, which decodes the same JSON), the same commands as /v1 HTTP requests, and the
// outcomes and problems that come back, read into the harness's normalised answer.
#pragma once

#include <string>
#include <string_view>

#include "ledger.hpp"
#include "workload.hpp"

namespace wallet::loadtest {

// The command as docs/wire.md's JSON, with its deliberate defect if it has one.
[[nodiscard]] std::string render_command(const command& c, const naming& names);

// An outcome message (docs/wire.md, "Outcomes") as an answer; unreadable text is `failed`.
[[nodiscard]] answer parse_outcome(std::string_view text);

// The command as a request of walletd's /v1 API (without the Authorization header).
struct http_request {
  std::string target;  // "/v1/wallets/lt-3/deposits"
  std::string body;    // the JSON object of the command's fields
};
[[nodiscard]] http_request render_http(const command& c, const naming& names);

// An HTTP answer: 2xx carries an outcome; anything else a problem (application/problem+json)
// whose code is a rejection's (rejected), "invalid_request" or "malformed_json" (refused, as over
// NATS), or another refusal.
[[nodiscard]] answer parse_http_answer(unsigned status, std::string_view body,
                                       bool replayed_header);

// Refusals a client retries with the same idempotency key (after Retry-After).
[[nodiscard]] bool is_retryable(const answer& a) noexcept;

}  // namespace wallet::loadtest
