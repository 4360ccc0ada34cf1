// The AML screening port (ADR 0007): what the wallet actor asks before an outgoing move, and the
// settings it asks under. Free of CAF: adapters implement the port, app/ installs it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wallet/engine/money.hpp"
#include "wallet/engine/screening.hpp"

namespace wallet::actors {

// One outgoing move to screen. Ids only: never personal data (ADR 0004, decision 5).
struct screening_request {
  std::string wallet_id;
  std::string owner;            // the owner id
  std::string command;          // "withdraw" or "transfer_debit"
  std::string idempotency_key;  // the client's key: a provider may use it to deduplicate
  std::string destination;      // the transfer's destination wallet; empty for a withdrawal
  engine::money amount;
  engine::screening_reasons reasons = 0;
  std::uint32_t velocity_count = 0;  // outgoing moves in the window before this one
  std::int64_t velocity_sum = 0;     // their sum, minor units of the wallet's currency
};

// A provider's answer: a verdict, or why there is none (the provider is down: timed out,
// failed, refused by its circuit breaker).
struct screening_answer {
  std::optional<engine::screening_verdict> verdict;
  std::string error;  // one line for the log when there is no verdict
};

// A screening provider. screen() blocks (an HTTP provider waits for the network): the runtime
// calls it only on a thread of its own, never on a CAF worker. Thread-safe.
class screening_port {
 public:
  screening_port() = default;
  screening_port(const screening_port&) = delete;
  screening_port& operator=(const screening_port&) = delete;
  screening_port(screening_port&&) = delete;
  screening_port& operator=(screening_port&&) = delete;
  virtual ~screening_port() = default;

  [[nodiscard]] virtual screening_answer screen(const screening_request& request) = 0;
  // The runtime had no verdict (the provider's answer or the runtime's deadline) and applied
  // aml.on_provider_down: `allowed` under fail_open. For the provider's metrics and log.
  virtual void unanswered(const screening_request& /*request*/, std::string_view /*why*/,
                          bool /*allowed*/) {}
};

// Whether and how the wallet actors screen: installed whole by app/ (compliance_controls), read
// per command. The feature flag aml_screening switches it on and off at run time.
struct screening_setup {
  engine::screening_rules rules;
  std::shared_ptr<screening_port> port;
  bool fail_open = false;  // no verdict: allow (counted) instead of refusing aml_unavailable
  // Longest a wallet waits for a verdict; past it the command is answered as if the provider
  // were down. Above the provider's own bound (its timeouts and retries), which ends first.
  std::chrono::milliseconds deadline{10'000};
  std::size_t inflight_max = 256;  // screenings in flight per process; past it: overloaded
  // A withdrawal or transfer the provider sends to review is held this long for an admin's
  // decision (ADR 0009); the hold then expires and the money is available again.
  std::chrono::seconds review_hold{std::chrono::hours{24 * 7}};
  // Screenings running now (each on its own thread): bounds those threads by inflight_max.
  mutable std::atomic<std::size_t> inflight{0};
};

}  // namespace wallet::actors
