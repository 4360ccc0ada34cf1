// One clock for every load generator here: steady nanoseconds since the process's first call,
// small and comparable across threads.
#pragma once

#include <chrono>
#include <cstdint>

namespace wallet::loadtest {

using steady = std::chrono::steady_clock;

inline std::int64_t now_ns() {
  static const steady::time_point origin = steady::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - origin).count();
}

}  // namespace wallet::loadtest
