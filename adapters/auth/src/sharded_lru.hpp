// A bounded map from string keys to values, split into mutex-guarded shards so that threads
// working on different keys rarely meet on one lock; each shard forgets its least recently used
// entry past its share of the bound. Shared by the rate limiter and the verified-token cache.
// Shards and buckets are chosen by a hash keyed per process (keyed_hash.hpp): callers choose the
// keys, and keys crafted to fall into one shard would evict the other callers' entries there (a
// rate-limited caller forgotten comes back with a full bucket).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "wallet/auth/keyed_hash.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::auth::detail {

template <class Value>
class sharded_lru {
 public:
  // min(shards, keys_max) shards of keys_max / that many entries each: never more than keys_max.
  // `key`: the hash key (tests); the process's by default.
  sharded_lru(std::size_t keys_max, std::size_t shards, hash_key key = process_hash_key())
      : hash_{key} {
    WALLET_ASSERT(keys_max >= 1 && shards >= 1);
    const std::size_t count = std::min(shards, keys_max);
    shards_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      shards_.push_back(std::make_unique<shard>(hash_));
      shards_.back()->keys_max = keys_max / count;
    }
  }

  // fn(value) on the entry for `key` under its shard's lock, the entry made first with
  // make() when there is none; the entry becomes the most recently used.
  template <class Make, class Fn>
  decltype(auto) with(std::string_view key, Make&& make, Fn&& fn) {
    shard& s = shard_of(key);
    const std::lock_guard lock(s.mutex);
    auto found = s.index.find(key);
    if (found == s.index.end()) {
      if (s.index.size() >= s.keys_max) {
        s.index.erase(s.recent.back().key);
        s.recent.pop_back();
      }
      s.recent.push_front(entry{std::string(key), std::forward<Make>(make)()});
      found = s.index.emplace(s.recent.front().key, s.recent.begin()).first;
    } else {
      s.recent.splice(s.recent.begin(), s.recent, found->second);
    }
    return std::forward<Fn>(fn)(found->second->value);
  }

  // fn(pointer to the value, or nullptr) under the shard's lock; a found entry becomes the most
  // recently used.
  template <class Fn>
  decltype(auto) find(std::string_view key, Fn&& fn) {
    shard& s = shard_of(key);
    const std::lock_guard lock(s.mutex);
    const auto found = s.index.find(key);
    if (found == s.index.end()) return std::forward<Fn>(fn)(static_cast<Value*>(nullptr));
    s.recent.splice(s.recent.begin(), s.recent, found->second);
    return std::forward<Fn>(fn)(&found->second->value);
  }

  [[nodiscard]] std::size_t size() const {
    std::size_t total = 0;
    for (const auto& s : shards_) {
      const std::lock_guard lock(s->mutex);
      total += s->index.size();
    }
    return total;
  }

 private:
  struct entry {
    std::string key;
    Value value;
  };
  struct shard {
    explicit shard(keyed_hash h) : index(0, h) {}
    std::mutex mutex;
    std::list<entry> recent;  // most recently used first
    // Views into the list's keys, which never move while their node lives.
    std::unordered_map<std::string_view, typename std::list<entry>::iterator, keyed_hash> index;
    std::size_t keys_max = 1;
  };

  shard& shard_of(std::string_view key) {
    // The hash's high half picks the shard; the buckets inside use it whole (mostly its low bits).
    constexpr unsigned half = 32;
    return *shards_[static_cast<std::size_t>(siphash24(hash_.key, key) >> half) % shards_.size()];
  }

  keyed_hash hash_;
  std::vector<std::unique_ptr<shard>> shards_;
};

}  // namespace wallet::auth::detail
