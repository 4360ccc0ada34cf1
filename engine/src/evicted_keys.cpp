// The evicted-key filter: blocked Bloom filters (every bit of a key in one 512-bit block, so a
// check reads one cache line per slice), one per slice of time.
#include "wallet/engine/evicted_keys.hpp"

#include <algorithm>
#include <bit>
#include <functional>

#include "wallet/engine/limits.hpp"

namespace wallet::engine {
namespace {

constexpr std::size_t slice_bits = evicted_filter_keys_per_slice * evicted_filter_bits_per_key;
constexpr std::size_t slice_blocks = slice_bits / evicted_filter_block_bits;
constexpr std::size_t words_per_block = evicted_filter_block_bits / 64;
static_assert(std::has_single_bit(slice_blocks) && std::has_single_bit(evicted_filter_block_bits),
              "blocks and bits within a block are picked by masking");

// SplitMix64's finalizer: spreads a hash's bits so that its parts are independent enough.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30U;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27U;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31U;
  return x;
}

// Where a key's bits are: its block, and the start and stride of its bits within the block
// (double hashing; an odd stride below the block's size gives distinct bits).
struct probe {
  std::size_t block = 0;
  std::size_t start = 0;
  std::size_t stride = 1;
};

probe probe_of(std::string_view key) noexcept {
  const std::uint64_t h = mix(std::hash<std::string_view>{}(key));
  const std::uint64_t g = mix(h ^ 0x9e3779b97f4a7c15ULL);
  constexpr std::uint64_t in_block = evicted_filter_block_bits - 1;
  return probe{static_cast<std::size_t>(h & (slice_blocks - 1)),
               static_cast<std::size_t>(g & in_block),
               static_cast<std::size_t>(((g >> 32U) & in_block) | 1U)};
}

template <class F>
void for_each_bit(const probe& p, F&& f) {
  const std::size_t base = p.block * words_per_block;
  std::size_t bit = p.start;
  for (std::size_t i = 0; i < evicted_filter_hashes; ++i) {
    std::forward<F>(f)(base + bit / 64, std::uint64_t{1} << (bit % 64));
    bit = (bit + p.stride) & (evicted_filter_block_bits - 1);
  }
}

}  // namespace

void evicted_keys::add(std::string_view key, timestamp recorded_at, duration retention) {
  const duration span = std::max(
      retention / static_cast<duration::rep>(evicted_filter_slices_per_retention), duration{1});
  if (!slices_.empty()) {
    recorded_at = std::max(recorded_at, slices_.back().last);
  }
  const bool open_one = slices_.empty() || slices_.back().keys >= evicted_filter_keys_per_slice ||
                        recorded_at - slices_.back().first >= span;
  // Past the bound the newest slice takes the key: more false positives, never a miss.
  if (open_one && slices_.size() < evicted_filter_slices_max) {
    slices_.push_back(
        slice{recorded_at, recorded_at, 0, std::vector<std::uint64_t>(slice_bits / 64)});
  }
  slice& s = slices_.back();
  for_each_bit(probe_of(key),
               [&s](std::size_t word, std::uint64_t mask) { s.words[word] |= mask; });
  s.last = recorded_at;
  ++s.keys;
}

bool evicted_keys::may_contain(std::string_view key) const noexcept {
  if (slices_.empty()) {
    return false;
  }
  const probe p = probe_of(key);
  return std::ranges::any_of(slices_, [&p](const slice& s) {
    bool all = true;
    for_each_bit(
        p, [&](std::size_t word, std::uint64_t mask) { all = all && (s.words[word] & mask) != 0; });
    return all;
  });
}

void evicted_keys::expire(timestamp now, duration retention) {
  const auto kept =
      std::ranges::find_if(slices_, [&](const slice& s) { return s.last + retention > now; });
  slices_.erase(slices_.begin(), kept);
}

std::size_t evicted_keys::keys() const noexcept {
  std::size_t n = 0;
  for (const slice& s : slices_) n += s.keys;
  return n;
}

std::size_t evicted_keys::bytes() const noexcept { return slices_.size() * (slice_bits / 8); }

}  // namespace wallet::engine
