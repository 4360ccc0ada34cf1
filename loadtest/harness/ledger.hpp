// What a run expects of the wallets, gathered while it runs: the effect of every command answered
// as applied (client side), the events seen on the event stream folded per wallet, the deliberate
// duplicates and the invalid commands with how each was answered. Thread-safe: transport threads
// record answers while the event thread folds events. verify.hpp judges it against the database.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "workload.hpp"

namespace wallet::loadtest {

// A normalised answer (transports map theirs onto it).
struct answer {
  answer_status status = answer_status::failed;
  std::string code;     // the rejection or refusal code; failed: what went wrong
  std::string problem;  // `invalid`: the first field problem
  bool replayed = false;
};

// What an applied command does to its wallet(s), in minor units.
struct effect {
  std::int64_t balance = 0;
  std::int64_t held = 0;
  std::int64_t destination_balance = 0;  // transfer: the credit, once the saga delivers it
  std::int64_t deposited = 0;
  std::int64_t withdrawn = 0;
  std::int64_t captured = 0;
};
[[nodiscard]] effect effect_of(const command& c) noexcept;

// Client-side expectations per wallet (1..N) and in total.
class expectations {
 public:
  explicit expectations(std::uint32_t wallets);
  // An accepted first answer (not a replay): its effect happened exactly once.
  void applied(const command& c) noexcept;
  [[nodiscard]] std::int64_t balance_delta(std::uint32_t n) const noexcept;
  [[nodiscard]] std::int64_t held_delta(std::uint32_t n) const noexcept;
  [[nodiscard]] bool touched(std::uint32_t n) const noexcept;
  [[nodiscard]] std::uint32_t wallets() const noexcept { return wallets_; }
  [[nodiscard]] std::int64_t deposited() const noexcept { return deposited_.load(); }
  [[nodiscard]] std::int64_t withdrawn() const noexcept { return withdrawn_.load(); }
  [[nodiscard]] std::int64_t captured() const noexcept { return captured_.load(); }
  [[nodiscard]] std::uint64_t transfers() const noexcept { return transfers_.load(); }

 private:
  struct slot {
    std::atomic<std::int64_t> balance{0};
    std::atomic<std::int64_t> held{0};
    std::atomic<bool> touched{false};
  };
  std::uint32_t wallets_;
  std::unique_ptr<slot[]> slots_;
  std::atomic<std::int64_t> deposited_{0};
  std::atomic<std::int64_t> withdrawn_{0};
  std::atomic<std::int64_t> captured_{0};
  std::atomic<std::uint64_t> transfers_{0};
};

// One wallet's row as the database holds it.
struct wallet_row {
  std::uint32_t n = 0;
  std::int64_t balance = 0;
  std::int64_t held = 0;
  std::int64_t overdraft_limit = 0;
  std::uint64_t version = 0;  // the seq of its last event; 0 where the store has no versions
};

// The event stream folded per wallet, from the versions of a snapshot on: an event at or below
// the snapshot's version is old news; the next must be version + 1, and so on.
class event_fold {
 public:
  explicit event_fold(std::uint32_t wallets);
  // Before any event: the versions the run starts from (absent: 0).
  void start_from(const std::vector<wallet_row>& before);
  void add(std::uint32_t n, std::uint64_t seq, std::int64_t balance_delta, std::int64_t held_delta);

  struct wallet_state {
    std::uint64_t last_seq = 0;
    std::int64_t balance = 0;  // sum of balance deltas after the start version
    std::int64_t held = 0;
    std::uint32_t gaps = 0;     // events that skipped a seq
    std::uint32_t repeats = 0;  // events at or below the last seq after the start
  };
  [[nodiscard]] wallet_state state(std::uint32_t n) const;
  [[nodiscard]] std::uint64_t events() const;

 private:
  mutable std::mutex mutex_;
  std::vector<wallet_state> wallets_;
  std::vector<std::uint64_t> start_;
  std::uint64_t events_ = 0;
};

// The deliberate duplicates: for each pair (same key), its answers and the events carrying the key.
class duplicate_tracker {
 public:
  void sent(std::uint64_t id);
  void answered(std::uint64_t id, const answer& a);
  void event_seen(std::uint64_t id);

  struct pair_state {
    std::uint8_t answers = 0;
    std::uint8_t first_time = 0;  // answers that were not replays
    std::uint8_t accepted = 0;
    std::uint8_t rejected = 0;
    std::uint32_t events = 0;
  };
  [[nodiscard]] std::unordered_map<std::uint64_t, pair_state> pairs() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, pair_state> pairs_;
};

// The invalid commands: how many of each defect, how many answered as expected, examples of the
// others.
class invalid_tracker {
 public:
  // Returns whether the answer is `want`.
  bool answered(const command& c, const std::string& key, const answer& a,
                const expected_answer& want);

  struct defect_counts {
    std::uint64_t sent = 0;
    std::uint64_t right = 0;
  };
  [[nodiscard]] std::map<std::string, defect_counts> counts() const;
  [[nodiscard]] std::vector<std::string> wrong_examples() const;

 private:
  static constexpr std::size_t examples_max = 10;
  mutable std::mutex mutex_;
  std::map<std::string, defect_counts> counts_;
  std::vector<std::string> wrong_;
};

}  // namespace wallet::loadtest
