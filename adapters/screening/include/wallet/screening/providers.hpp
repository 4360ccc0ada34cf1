// The screening providers (ADR 0007): the built-in rules provider, and the HTTP provider behind
// a circuit breaker with retries, exponential backoff and jitter. Both implement
// actors::screening_port; what they observe goes to a screening_probe (metrics and logs).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "wallet/actors/backoff.hpp"
#include "wallet/actors/circuit_breaker.hpp"
#include "wallet/actors/screening.hpp"
#include "wallet/https_client/client.hpp"

namespace wallet::screening {

// What the providers report; app/ implements it with metrics and a log line per failure.
class screening_probe {
 public:
  screening_probe() = default;
  screening_probe(const screening_probe&) = delete;
  screening_probe& operator=(const screening_probe&) = delete;
  screening_probe(screening_probe&&) = delete;
  screening_probe& operator=(screening_probe&&) = delete;
  virtual ~screening_probe() = default;

  // A verdict: `outcome` is allow, deny or review.
  virtual void screened(std::string_view /*provider*/, std::string_view /*outcome*/) {}
  // The runtime applied aml.on_provider_down: outcome "fail_open" or "fail_closed".
  virtual void unanswered(std::string_view /*provider*/, std::string_view /*outcome*/,
                          std::string_view /*why*/, std::string_view /*wallet_id*/) {}
  // One attempt failed (`kind`: timeout, transport, status, answer, circuit_open).
  virtual void attempt_failed(std::string_view /*provider*/, std::string_view /*kind*/,
                              std::string_view /*detail*/) {}
  virtual void circuit_changed(actors::circuit_state /*state*/) {}
};

// The built-in provider: verdicts from engine::rules_verdicts, never down.
class rules_provider final : public actors::screening_port {
 public:
  rules_provider(engine::rules_verdicts rules, std::shared_ptr<screening_probe> probe);
  actors::screening_answer screen(const actors::screening_request& request) override;
  void unanswered(const actors::screening_request& request, std::string_view why,
                  bool allowed) override;

 private:
  engine::rules_verdicts rules_;
  std::shared_ptr<screening_probe> probe_;
};

struct http_provider_settings {
  std::string url;                           // aml.http_url
  std::string ca_file;                       // aml.http_ca_file: empty: the system's trust store
  std::chrono::milliseconds timeout{2'000};  // one attempt
  std::uint32_t retries = 2;                 // attempts after the first
  actors::backoff_settings backoff{std::chrono::milliseconds{50}, std::chrono::milliseconds{1'000},
                                   0, std::chrono::milliseconds{0}};
  actors::circuit_breaker_settings circuit{5, std::chrono::milliseconds{5'000}};
};

// Largest answer body accepted from a provider.
inline constexpr std::uint64_t reply_bytes_max = 65'536;

// The request body sent to a provider and the verdict read from its answer: pure, for tests.
[[nodiscard]] std::string request_body(const actors::screening_request& request);
// {"verdict": "allow" | "deny" | "review", ...}: anything else is no verdict (the error says why).
[[nodiscard]] engine::result<engine::screening_verdict, std::string> parse_verdict(
    std::string_view body);

// Whether a failed attempt may be retried: no reply (timeout, connection), 5xx, 408 and 429
// may pass next time; any other status or a bad answer would fail again.
[[nodiscard]] bool retryable(const https_client::reply& reply) noexcept;

class http_provider final : public actors::screening_port {
 public:
  using sleeper = std::function<void(std::chrono::milliseconds)>;
  using clock = std::function<actors::steady_time()>;

  // The URL and the trust store are checked here: the error line says what is wrong.
  static engine::result<std::shared_ptr<http_provider>, std::string> make(
      http_provider_settings settings, std::shared_ptr<screening_probe> probe, sleeper sleep = {},
      clock now = {});

  actors::screening_answer screen(const actors::screening_request& request) override;
  void unanswered(const actors::screening_request& request, std::string_view why,
                  bool allowed) override;

  [[nodiscard]] actors::circuit_state circuit() const;

  http_provider(http_provider_settings settings, https_client::target target,
                std::shared_ptr<boost::asio::ssl::context> tls,
                std::shared_ptr<screening_probe> probe, sleeper sleep, clock now);

 private:
  bool allow_attempt();
  void record(bool success);

  http_provider_settings settings_;
  https_client::target target_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::shared_ptr<screening_probe> probe_;
  sleeper sleep_;
  clock now_;
  mutable std::mutex mutex_;  // the breaker: screenings run on many threads
  actors::circuit_breaker breaker_;
};

}  // namespace wallet::screening
