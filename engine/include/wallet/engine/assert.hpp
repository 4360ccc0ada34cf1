// Always-on assertions: invariants are the contract, in release builds too (STYLE.md, TigerBeetle).
#pragma once

namespace wallet::engine {

// Prints the failed condition and aborts. Never returns.
[[noreturn]] void assertion_failed(const char* condition, const char* file, int line) noexcept;

}  // namespace wallet::engine

// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): needs the condition's text and location.
#define WALLET_ASSERT(condition)      \
  ((condition) ? static_cast<void>(0) \
               : ::wallet::engine::assertion_failed(#condition, __FILE__, __LINE__))
