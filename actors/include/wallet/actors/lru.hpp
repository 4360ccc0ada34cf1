// A map that remembers use order, for passivating the least recently used wallets.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace wallet::actors {

template <class Value>
class lru_map {
  using entry = std::pair<std::string, Value>;

 public:
  // The value under `key`, now the most recently used; nullptr when absent.
  Value* touch(const std::string& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) {
      return nullptr;
    }
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // The value under `key` without changing the order; nullptr when absent.
  Value* peek(const std::string& key) {
    const auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }

  // Inserts `key` as the most recently used; the key must be absent.
  Value& insert(std::string key, Value value) {
    order_.emplace_front(key, std::move(value));
    index_.emplace(std::move(key), order_.begin());
    return order_.front().second;
  }

  bool erase(const std::string& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) {
      return false;
    }
    order_.erase(it->second);
    index_.erase(it);
    return true;
  }

  // Removes and returns the least recently used entry for which `evictable(value)` holds, looking
  // at no more than `scan_max` entries from the cold end (so a hot, busy tail costs O(scan_max)).
  template <class Predicate>
  std::optional<entry> pop_coldest(Predicate evictable, std::size_t scan_max) {
    std::size_t scanned = 0;
    for (auto it = order_.rbegin(); it != order_.rend() && scanned < scan_max; ++it, ++scanned) {
      if (evictable(it->second)) {
        auto victim = std::prev(it.base());
        entry out = std::move(*victim);
        index_.erase(out.first);
        order_.erase(victim);
        return out;
      }
    }
    return std::nullopt;
  }

  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }

 private:
  std::list<entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<entry>::iterator> index_;
};

}  // namespace wallet::actors
