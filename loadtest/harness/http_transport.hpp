// walletd over HTTP (/v1, docs/openapi): each command one request with an Idempotency-Key and a
// bearer token, over a pool of keep-alive connections (Boost.Beast), one request at a time each.
// Retryable refusals (503, 429) are sent again with the same key after Retry-After, as a client
// must: the answer reported is the final one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "transport.hpp"

namespace wallet::loadtest {

struct http_target {
  std::string url = "http://127.0.0.1:8080";  // http://host:port (no TLS)
  std::string token;                          // the bearer token; empty: none
  std::size_t connections = 64;
  double retry_for_s = 60;  // how long a retryable refusal is retried before it stands
};

class http_transport final : public transport {
 public:
  // Resolves the host; connections open on first use. Throws harness_error on a bad URL.
  http_transport(http_target target, answer_sink& sink);
  ~http_transport() override;
  http_transport(const http_transport&) = delete;
  http_transport& operator=(const http_transport&) = delete;
  http_transport(http_transport&&) = delete;
  http_transport& operator=(http_transport&&) = delete;

  [[nodiscard]] std::string name() const override { return "http"; }
  void send(const command& c, const naming& names, std::uint64_t token) override;
  [[nodiscard]] std::string describe() const override;
  // The API judges a zero amount itself (400, not_positive) instead of leaving it to the engine.
  [[nodiscard]] expected_answer expected(defect d) const override;

  // Retries of retryable refusals so far.
  [[nodiscard]] std::uint64_t retries() const noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace wallet::loadtest
