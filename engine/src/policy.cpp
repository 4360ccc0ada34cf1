// KYC level names and the policy's lookups.
#include "wallet/engine/policy.hpp"

#include "wallet/engine/assert.hpp"

namespace wallet::engine {
namespace {

constexpr std::array<std::string_view, kyc_level_count> names = {"none", "basic", "full"};

std::size_t index_of(kyc level) {
  const auto i = static_cast<std::size_t>(level);
  WALLET_ASSERT(i < kyc_level_count);
  return i;
}

void check_limits(const kyc_limits& l) {
  for (const auto& limit : {l.balance_max, l.withdrawal_max, l.daily_outgoing_max}) {
    WALLET_ASSERT(!limit || *limit >= 0);
  }
}

}  // namespace

std::string_view to_string(kyc level) noexcept {
  const auto i = static_cast<std::size_t>(level);
  return i < names.size() ? names[i] : std::string_view{"unknown"};
}

std::optional<kyc> kyc_from_string(std::string_view text) noexcept {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) return static_cast<kyc>(i);
  }
  return std::nullopt;
}

std::optional<kyc> kyc_from_code(std::int64_t code) noexcept {
  if (code < 0 || code >= static_cast<std::int64_t>(kyc_level_count)) return std::nullopt;
  return static_cast<kyc>(code);
}

policy::policy(const kyc_limits& everywhere) {
  check_limits(everywhere);
  for (auto& level : levels_) {
    level.fallback = everywhere;
  }
}

void policy::set_fallback(kyc level, const kyc_limits& limits) {
  check_limits(limits);
  levels_[index_of(level)].fallback = limits;
}

void policy::set(kyc level, currency ccy, const kyc_limits& limits) {
  WALLET_ASSERT(!ccy.is_none());
  check_limits(limits);
  levels_[index_of(level)].by_currency.insert_or_assign(ccy.numeric(), limits);
}

const kyc_limits& policy::limits(kyc level, currency ccy) const noexcept {
  const level_limits& l = levels_[index_of(level)];
  const auto it = l.by_currency.find(ccy.numeric());
  return it == l.by_currency.end() ? l.fallback : it->second;
}

bool policy::is_unlimited() const noexcept {
  for (const level_limits& l : levels_) {
    if (!l.fallback.unlimited()) return false;
    for (const auto& [code, limits] : l.by_currency) {
      if (!limits.unlimited()) return false;
    }
  }
  return true;
}

}  // namespace wallet::engine
