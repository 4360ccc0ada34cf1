// Circuit breaker state machine.
#include "wallet/actors/circuit_breaker.hpp"

#include "wallet/engine/assert.hpp"

namespace wallet::actors {

std::string_view to_string(circuit_state s) noexcept {
  switch (s) {
    case circuit_state::closed:
      return "closed";
    case circuit_state::open:
      return "open";
    case circuit_state::half_open:
      return "half_open";
  }
  return "unknown";
}

circuit_breaker::circuit_breaker(circuit_breaker_settings settings) noexcept : settings_(settings) {
  WALLET_ASSERT(settings_.failures_to_open >= 1);
}

bool circuit_breaker::allow(steady_time now) noexcept {
  switch (state_) {
    case circuit_state::closed:
      return true;
    case circuit_state::open:
      if (now < retry_at()) {
        return false;
      }
      state_ = circuit_state::half_open;
      probe_in_flight_ = true;
      return true;
    case circuit_state::half_open:
      if (probe_in_flight_) {
        return false;
      }
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void circuit_breaker::on_success() noexcept {
  state_ = circuit_state::closed;
  failures_ = 0;
  probe_in_flight_ = false;
}

void circuit_breaker::on_failure(steady_time now) noexcept {
  probe_in_flight_ = false;
  if (state_ == circuit_state::half_open) {
    state_ = circuit_state::open;
    opened_at_ = now;
    return;
  }
  if (state_ == circuit_state::closed && ++failures_ >= settings_.failures_to_open) {
    state_ = circuit_state::open;
    opened_at_ = now;
  }
}

}  // namespace wallet::actors
