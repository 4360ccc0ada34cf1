// Time as the engine sees it: a value handed in by the caller. The engine never reads a clock.
#pragma once

#include <chrono>

namespace wallet::engine {

using timestamp = std::chrono::sys_time<std::chrono::microseconds>;
using duration = std::chrono::microseconds;

}  // namespace wallet::engine
