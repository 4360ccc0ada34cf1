// The open loop's schedule: job i is due at start + i / rate, whatever happened to the jobs before
// it. Its latency counts from then (the intended send time), so a stall of the service (or of the
// sender) shows as latency and never as fewer commands sent: no coordinated omission.
#pragma once

#include <cstdint>
#include <functional>

namespace wallet::loadtest {

class open_schedule {
 public:
  // `rate` jobs per second, > 0.
  open_schedule(std::int64_t start_ns, double rate);

  [[nodiscard]] std::int64_t intended(std::uint64_t i) const noexcept;
  // How many jobs are due at `now_ns` (those with intended(i) <= now_ns).
  [[nodiscard]] std::uint64_t due(std::int64_t now_ns) const noexcept;
  [[nodiscard]] std::int64_t start() const noexcept { return start_; }
  [[nodiscard]] double rate() const noexcept { return rate_; }

 private:
  std::int64_t start_;
  double rate_;
  double period_ns_;
};

struct schedule_run {
  std::uint64_t sent = 0;
  std::int64_t lag_max_ns = 0;  // how far behind its schedule the sender fell at worst
};

// Sends jobs 0, 1, ... on the schedule: waits (`wait_until`, which may do other work meanwhile)
// until each is due, then calls `send(i, intended)`; a sender that fell behind sends the overdue
// jobs at once, each still with its own intended time. Stops after `count` jobs (0: no limit) or
// when `send` returns false.
schedule_run run_schedule(const open_schedule& s, std::uint64_t count,
                          const std::function<std::int64_t()>& now,
                          const std::function<void(std::int64_t)>& wait_until,
                          const std::function<bool(std::uint64_t, std::int64_t)>& send);

}  // namespace wallet::loadtest
