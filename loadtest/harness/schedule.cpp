// The open loop's schedule and its sender loop, free of threads and clocks so that tests can drive
// them with a fake clock.
#include "schedule.hpp"

#include <algorithm>
#include <cmath>

#include "wallet/engine/assert.hpp"

namespace wallet::loadtest {

open_schedule::open_schedule(std::int64_t start_ns, double rate)
    : start_(start_ns), rate_(rate), period_ns_(1e9 / rate) {
  WALLET_ASSERT(rate > 0 && std::isfinite(rate));
}

std::int64_t open_schedule::intended(std::uint64_t i) const noexcept {
  // Computed from i, never accumulated: no drift over millions of jobs.
  return start_ + static_cast<std::int64_t>(static_cast<double>(i) * period_ns_);
}

std::uint64_t open_schedule::due(std::int64_t now_ns) const noexcept {
  if (now_ns < start_) return 0;
  auto n = static_cast<std::uint64_t>(static_cast<double>(now_ns - start_) / period_ns_) + 1;
  // Rounding may put the boundary one job off either way: settle it with intended() itself.
  while (n > 0 && intended(n - 1) > now_ns) --n;
  while (intended(n) <= now_ns) ++n;
  return n;
}

schedule_run run_schedule(const open_schedule& s, std::uint64_t count,
                          const std::function<std::int64_t()>& now,
                          const std::function<void(std::int64_t)>& wait_until,
                          const std::function<bool(std::uint64_t, std::int64_t)>& send) {
  schedule_run r;
  for (std::uint64_t i = 0; count == 0 || i < count; ++i) {
    const std::int64_t due = s.intended(i);
    if (now() < due) wait_until(due);
    r.lag_max_ns = std::max(r.lag_max_ns, now() - due);
    if (!send(i, due)) break;
    ++r.sent;
  }
  return r;
}

}  // namespace wallet::loadtest
