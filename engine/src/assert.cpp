// The failure path of WALLET_ASSERT: report the broken invariant and stop the process at once.
#include "wallet/engine/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace wallet::engine {

// Plain stdio, no allocation and no logging library: this runs when the process state is already
// suspect, so it must not depend on anything that could itself be broken.
void assertion_failed(const char* condition, const char* file, int line) noexcept {
  std::fprintf(stderr, "assertion failed: %s at %s:%d\n", condition, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace wallet::engine
