// Which wallet a command goes to: uniform, Zipf with exponent s, or a hot set (k wallets take a
// share of all picks). Wallets are numbered 1..N; rank 1 is the hottest.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace wallet::loadtest {

// The workloads' random numbers: fast, and seeded per job so that a run is reproducible whatever
// the threads do (the naive baseline replays exactly the same commands).
using rng = std::mt19937_64;

// A mix-in for seeds: job i of a run with seed s draws from rng(seed_of(s, i)).
[[nodiscard]] std::uint64_t seed_of(std::uint64_t seed, std::uint64_t index) noexcept;

struct pick_settings {
  enum class kind : std::uint8_t { uniform, zipf, hot };
  kind how = kind::uniform;
  double zipf_s = 1.0;       // zipf: P(rank k) is proportional to 1 / k^s
  std::uint32_t hot_k = 10;  // hot: wallets 1..k are the hot set
  double hot_share = 0.5;    // hot: the share of picks that go to the hot set
};

// "uniform", "zipf:S" (e.g. zipf:1.0), "hot:K:SHARE" (e.g. hot:10:0.5); nullopt when malformed.
[[nodiscard]] std::optional<pick_settings> parse_pick(std::string_view text);
[[nodiscard]] std::string to_string(const pick_settings& p);

class wallet_picker {
 public:
  // `wallets` >= 2; hot: k < wallets. Zipf precomputes its cumulative distribution (8 bytes a
  // wallet: 8 MB for a million).
  wallet_picker(const pick_settings& settings, std::uint32_t wallets);

  [[nodiscard]] std::uint32_t pick(rng& r) const;
  // A wallet other than `other`, drawn the same way (redrawn while equal, then the next one).
  [[nodiscard]] std::uint32_t pick_other(rng& r, std::uint32_t other) const;

  // The probability of wallet `n` (1-based): what the samples should converge to.
  [[nodiscard]] double probability(std::uint32_t n) const;
  [[nodiscard]] std::uint32_t wallets() const noexcept { return wallets_; }

 private:
  pick_settings settings_;
  std::uint32_t wallets_;
  std::vector<double> cumulative_;  // zipf: cumulative_[k-1] = P(rank <= k)
};

}  // namespace wallet::loadtest
