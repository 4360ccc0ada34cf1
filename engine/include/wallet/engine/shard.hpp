// Wallet-to-shard mapping: stable across processes, releases and languages, since NATS subject
// partitioning and every instance must agree on it.
#pragma once

#include <cstdint>
#include <string_view>

namespace wallet::engine {

// A wallet id as one NATS subject token: '.' separates tokens, so it is written '~', which no
// id contains (is_valid_id), so the mapping is one to one.
inline constexpr char subject_dot = '~';

// FNV-1a (32 bit) of the wallet id as a subject token, modulo the shard count — the function
// nats-server's partition(n, token) subject mapping applies to that token.
[[nodiscard]] constexpr std::uint32_t shard_of(std::string_view wallet_id,
                                               std::uint32_t shard_count) noexcept {
  std::uint32_t hash = 2166136261U;
  for (const char ch : wallet_id) {
    hash ^= static_cast<unsigned char>(ch == '.' ? subject_dot : ch);
    hash *= 16777619U;
  }
  return shard_count == 0 ? 0 : hash % shard_count;
}

}  // namespace wallet::engine
