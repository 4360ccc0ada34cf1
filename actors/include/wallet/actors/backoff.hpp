// Restart policy for supervised actors: exponential backoff with jitter, and a restart budget
// past which the supervisor escalates. Pure but for jitter_random(): time is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include "wallet/actors/circuit_breaker.hpp"

namespace wallet::actors {

struct backoff_settings {
  std::chrono::milliseconds initial{50};
  std::chrono::milliseconds max{5'000};
  std::uint32_t restarts_max = 10;  // restarts allowed within restart_window
  std::chrono::milliseconds restart_window{60'000};
};

// The delay before restart number `attempt` (0-based): initial * 2^attempt capped at max, then
// spread uniformly over [delay/2, delay] by `random` so restarts of many children do not align.
[[nodiscard]] std::chrono::milliseconds backoff_delay(const backoff_settings& s,
                                                      std::uint32_t attempt,
                                                      std::uint64_t random) noexcept;

// A random number for backoff_delay: from a generator per thread, seeded once (a random_device per
// actor would cost a system call at every wallet spawn).
[[nodiscard]] std::uint64_t jitter_random();

// Counts restarts in a sliding window. record() answers false once the budget is spent: the
// supervisor then escalates instead of restarting.
class restart_budget {
 public:
  explicit restart_budget(backoff_settings settings) : settings_(settings) {}
  [[nodiscard]] bool record(steady_time now);
  // Restarts in the current window: the attempt number for backoff_delay.
  [[nodiscard]] std::uint32_t recent() const noexcept;

 private:
  backoff_settings settings_;
  std::deque<steady_time> restarts_;
};

}  // namespace wallet::actors
