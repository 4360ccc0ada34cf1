// Backoff delays and the restart budget.
#include "wallet/actors/backoff.hpp"

#include <algorithm>
#include <random>

namespace wallet::actors {

std::uint64_t jitter_random() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

std::chrono::milliseconds backoff_delay(const backoff_settings& s, std::uint32_t attempt,
                                        std::uint64_t random) noexcept {
  const auto max_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(s.max.count(), 1));
  auto delay = static_cast<std::uint64_t>(std::max<std::int64_t>(s.initial.count(), 1));
  for (std::uint32_t i = 0; i < attempt && delay < max_ms; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, max_ms);
  const std::uint64_t half = delay / 2;
  const std::uint64_t jittered = delay - half + (half == 0 ? 0 : random % (half + 1));
  return std::chrono::milliseconds{static_cast<std::int64_t>(jittered)};
}

bool restart_budget::record(steady_time now) {
  while (!restarts_.empty() && restarts_.front() + settings_.restart_window <= now) {
    restarts_.pop_front();
  }
  if (restarts_.size() >= settings_.restarts_max) {
    return false;
  }
  restarts_.push_back(now);
  return true;
}

std::uint32_t restart_budget::recent() const noexcept {
  return static_cast<std::uint32_t>(restarts_.size());
}

}  // namespace wallet::actors
