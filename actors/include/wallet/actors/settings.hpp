// Settings of the actor runtime, filled by app/ from the configuration (config/ documents them).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "wallet/actors/backoff.hpp"
#include "wallet/actors/circuit_breaker.hpp"
#include "wallet/engine/limits.hpp"

namespace wallet::actors {

struct runtime_settings {
  std::uint32_t shards = 16;                     // fixed per deployment (recorded in the database)
  std::size_t wallets_resident_max = 1'000'000;  // per process, split evenly over the shards
  // Live wallet actors per process, split evenly over the shards; idle wallets past it go dormant
  // (ADR 0010). 0: every idle wallet goes dormant at once.
  std::size_t wallets_live_max = 16'384;
  std::size_t wallet_inflight_max = 1'024;  // commands queued or uncommitted per wallet
  std::chrono::seconds idempotency_retention{86'400};
  // Idempotency records resident per wallet; older keys within the retention are summarized by
  // the wallet's evicted-key filter and looked up in the store when it may hold them (ADR 0017).
  std::size_t idempotency_keys_resident = engine::idempotency_keys_resident_default;
  std::size_t batch_size_max = 512;  // writes per PostgreSQL transaction
  // Longest a write waits for its batch; 0: none (committed once the mailbox holds no more).
  std::chrono::microseconds flush_interval{1'000};
  // Batches of one shard committed at once, each on a PostgreSQL connection of its own (ADR 0016);
  // a wallet is in one of them at most. 1 (the default): the store commits them itself, in turn.
  std::size_t commits_in_flight_max = 1;
  std::size_t store_queue_max = 65'536;       // commands in flight per shard before `overloaded`
  std::chrono::milliseconds saga_retry{200};  // first delay before a transfer leg is retried
  std::chrono::seconds recovery_scan_interval{5};  // pending transfers and due holds
  circuit_breaker_settings circuit;
  backoff_settings restart;
  // The shards this instance serves (DESIGN.md §7: instance i of n owns a disjoint set). Empty:
  // every shard, the single-instance default.
  std::vector<std::uint32_t> owned_shards;
};

// Whether `shard` is served by an instance with these settings.
[[nodiscard]] inline bool owns_shard(const runtime_settings& s, std::uint32_t shard) noexcept {
  if (s.owned_shards.empty()) {
    return shard < s.shards;
  }
  return std::ranges::find(s.owned_shards, shard) != s.owned_shards.end();
}

}  // namespace wallet::actors
