// A circuit breaker for one dependency (PostgreSQL): pure logic, time passed in, no CAF.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace wallet::actors {

using steady_time = std::chrono::steady_clock::time_point;

enum class circuit_state : std::uint8_t { closed, open, half_open };

[[nodiscard]] std::string_view to_string(circuit_state s) noexcept;

struct circuit_breaker_settings {
  std::uint32_t failures_to_open = 5;          // consecutive failures that open it
  std::chrono::milliseconds cool_down{1'000};  // open -> half-open after this long
};

// closed: every call allowed; consecutive failures reaching the threshold open it.
// open: calls fail fast until the cool-down has passed; then one probe is let through (half-open).
// half_open: the probe's success closes it, its failure opens it again for another cool-down.
class circuit_breaker {
 public:
  explicit circuit_breaker(circuit_breaker_settings settings) noexcept;

  // May a call go to the dependency now? In half-open, only the first caller (the probe) may.
  [[nodiscard]] bool allow(steady_time now) noexcept;
  void on_success() noexcept;
  void on_failure(steady_time now) noexcept;

  [[nodiscard]] circuit_state state() const noexcept { return state_; }
  // When an open circuit will let a probe through (meaningful while open).
  [[nodiscard]] steady_time retry_at() const noexcept { return opened_at_ + settings_.cool_down; }

 private:
  circuit_breaker_settings settings_;
  circuit_state state_ = circuit_state::closed;
  std::uint32_t failures_ = 0;
  steady_time opened_at_{};
  bool probe_in_flight_ = false;
};

}  // namespace wallet::actors
