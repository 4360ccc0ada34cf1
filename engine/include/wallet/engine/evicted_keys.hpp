// The keys a wallet's idempotency window let go of (ADR 0017), summarized in fixed memory: one
// Bloom filter per slice of time. A key it does not hold was certainly not evicted within the
// retention, so a command under it is new without asking the store; a key it may hold is looked
// up in the store by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "wallet/engine/time.hpp"

namespace wallet::engine {

class evicted_keys {
 public:
  // Adds a key that left the window, recorded at `recorded_at`, which is not before the previous
  // key's (the window lets its oldest go first; a later one is stamped with the previous time).
  // `retention` sets how long a slice spans (limits.hpp: evicted_filter_*).
  void add(std::string_view key, timestamp recorded_at, duration retention);

  // false: `key` was not added (or only in a slice expired since) — certain. true: it may have
  // been (a false positive with a small probability).
  [[nodiscard]] bool may_contain(std::string_view key) const noexcept;

  // Drops every slice whose keys are all older than now - retention.
  void expire(timestamp now, duration retention);

  [[nodiscard]] bool empty() const noexcept { return slices_.empty(); }
  [[nodiscard]] std::size_t slices() const noexcept { return slices_.size(); }
  // Keys added to the slices kept.
  [[nodiscard]] std::size_t keys() const noexcept;
  // The bits kept, in bytes (the filter's memory but for its few bookkeeping bytes).
  [[nodiscard]] std::size_t bytes() const noexcept;

  friend bool operator==(const evicted_keys&, const evicted_keys&) = default;

 private:
  struct slice {
    timestamp first;  // its oldest key's time
    timestamp last;   // its newest key's time
    std::size_t keys = 0;
    std::vector<std::uint64_t> words;  // evicted_filter_keys_per_slice * _bits_per_key bits
    friend bool operator==(const slice&, const slice&) = default;
  };

  std::vector<slice> slices_;  // oldest first
};

}  // namespace wallet::engine
