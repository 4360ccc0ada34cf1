// Wallet pickers. Zipf samples by inverting a precomputed cumulative distribution (exact for any
// exponent, a binary search a pick); the hot set is a two-way draw.
#include "sampler.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "wallet/engine/assert.hpp"

namespace wallet::loadtest {
namespace {

// Rejects trailing garbage, NaN and infinities.
std::optional<double> to_double(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::uint32_t> to_count(std::string_view text) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// A uniform double in [0, 1) from 53 random bits.
double unit(rng& r) { return static_cast<double>(r() >> 11U) * 0x1.0p-53; }

std::uint32_t uniform_in(rng& r, std::uint32_t lo, std::uint32_t hi) {
  return std::uniform_int_distribution<std::uint32_t>(lo, hi)(r);
}

}  // namespace

std::uint64_t seed_of(std::uint64_t seed, std::uint64_t index) noexcept {
  // splitmix64 of the pair: neighbouring jobs get unrelated streams.
  std::uint64_t z = seed + (index + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

std::optional<pick_settings> parse_pick(std::string_view text) {
  pick_settings p;
  if (text == "uniform") return p;
  if (text.starts_with("zipf:")) {
    const auto s = to_double(text.substr(5));
    if (!s || *s <= 0 || *s > 10) return std::nullopt;
    p.how = pick_settings::kind::zipf;
    p.zipf_s = *s;
    return p;
  }
  if (text.starts_with("hot:")) {
    const std::string_view rest = text.substr(4);
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto k = to_count(rest.substr(0, colon));
    const auto share = to_double(rest.substr(colon + 1));
    if (!k || *k == 0 || !share || *share < 0 || *share > 1) return std::nullopt;
    p.how = pick_settings::kind::hot;
    p.hot_k = *k;
    p.hot_share = *share;
    return p;
  }
  return std::nullopt;
}

std::string to_string(const pick_settings& p) {
  char text[64];
  switch (p.how) {
    case pick_settings::kind::uniform:
      return "uniform";
    case pick_settings::kind::zipf:
      std::snprintf(text, sizeof text, "zipf:%g", p.zipf_s);
      return text;
    case pick_settings::kind::hot:
      std::snprintf(text, sizeof text, "hot:%u:%g", p.hot_k, p.hot_share);
      return text;
  }
  return "?";
}

wallet_picker::wallet_picker(const pick_settings& settings, std::uint32_t wallets)
    : settings_(settings), wallets_(wallets) {
  WALLET_ASSERT(wallets >= 2);
  if (settings_.how == pick_settings::kind::hot) WALLET_ASSERT(settings_.hot_k < wallets);
  if (settings_.how != pick_settings::kind::zipf) return;
  cumulative_.resize(wallets);
  double sum = 0;
  for (std::uint32_t k = 1; k <= wallets; ++k) {
    sum += std::pow(static_cast<double>(k), -settings_.zipf_s);
    cumulative_[k - 1] = sum;
  }
  for (double& c : cumulative_) c /= sum;
  cumulative_.back() = 1.0;  // rounding must not leave a gap above the last rank
}

std::uint32_t wallet_picker::pick(rng& r) const {
  switch (settings_.how) {
    case pick_settings::kind::uniform:
      return uniform_in(r, 1, wallets_);
    case pick_settings::kind::zipf: {
      const double u = unit(r);
      const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
      return static_cast<std::uint32_t>(it - cumulative_.begin()) + 1;
    }
    case pick_settings::kind::hot:
      return unit(r) < settings_.hot_share ? uniform_in(r, 1, settings_.hot_k)
                                           : uniform_in(r, settings_.hot_k + 1, wallets_);
  }
  return 1;
}

std::uint32_t wallet_picker::pick_other(rng& r, std::uint32_t other) const {
  // A few redraws keep the distribution (conditioned on != other); a Zipf set whose rank 1 takes
  // nearly everything could loop long, so the last resort is the neighbour.
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::uint32_t w = pick(r);
    if (w != other) return w;
  }
  return other == wallets_ ? 1 : other + 1;
}

double wallet_picker::probability(std::uint32_t n) const {
  WALLET_ASSERT(n >= 1 && n <= wallets_);
  switch (settings_.how) {
    case pick_settings::kind::uniform:
      return 1.0 / wallets_;
    case pick_settings::kind::zipf:
      return cumulative_[n - 1] - (n == 1 ? 0.0 : cumulative_[n - 2]);
    case pick_settings::kind::hot:
      return n <= settings_.hot_k ? settings_.hot_share / settings_.hot_k
                                  : (1 - settings_.hot_share) / (wallets_ - settings_.hot_k);
  }
  return 0;
}

}  // namespace wallet::loadtest
