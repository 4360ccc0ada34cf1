// Wallet-to-shard mapping: stable across processes, releases and languages, since NATS subject
// partitioning and every instance must agree on it.
#pragma once

#include <cstdint>
#include <string_view>

namespace wallet::engine {

// FNV-1a (32 bit) of the wallet id, modulo the shard count — the function nats-server's
// partition(n, token) subject mapping applies to a token.
[[nodiscard]] constexpr std::uint32_t shard_of(std::string_view wallet_id,
                                               std::uint32_t shard_count) noexcept {
  std::uint32_t hash = 2166136261U;
  for (const char ch : wallet_id) {
    hash ^= static_cast<unsigned char>(ch);
    hash *= 16777619U;
  }
  return shard_count == 0 ? 0 : hash % shard_count;
}

}  // namespace wallet::engine
