// Stable wire codes for business rejections.
#include "wallet/engine/rejection.hpp"

#include <array>

namespace wallet::engine {
namespace {

// Indexed by the enum's value minus one; the order must follow the enum.
constexpr std::array<std::string_view, rejection_count> codes = {
    "wallet_not_found",
    "wallet_exists",
    "wallet_frozen",
    "wallet_not_frozen",
    "wallet_closed",
    "wallet_not_empty",
    "wallet_has_holds",
    "currency_invalid",
    "currency_mismatch",
    "amount_invalid",
    "overdraft_limit_invalid",
    "insufficient_funds",
    "balance_limit_exceeded",
    "id_invalid",
    "idempotency_key_invalid",
    "idempotency_conflict",
    "idempotency_window_full",
    "reason_invalid",
    "transfer_to_self",
    "hold_exists",
    "hold_not_found",
    "hold_expired",
    "hold_not_expired",
    "hold_amount_exceeded",
    "hold_expiry_invalid",
    "holds_limit_reached",
    "kyc_balance_limit_exceeded",
    "kyc_withdrawal_limit_exceeded",
    "kyc_daily_limit_exceeded",
    "feature_disabled",
    "aml_denied",
    "aml_unavailable",
};

static_assert(static_cast<std::size_t>(rejection::aml_unavailable) == codes.size(),
              "every rejection needs its code");

}  // namespace

std::string_view code(rejection r) noexcept {
  const auto index = static_cast<std::size_t>(r) - 1;
  return index < codes.size() ? codes[index] : std::string_view{"unknown"};
}

std::optional<rejection> rejection_from_code(std::string_view text) noexcept {
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] == text) {
      return static_cast<rejection>(i + 1);
    }
  }
  return std::nullopt;
}

bool is_transient(rejection r) noexcept {
  // Refusals caused by the key itself (or, before ADR 0017, by a full window) say nothing about the
  // request's content;
  // a feature flag is the operator's switch, which may be on again for the retry; a screening
  // provider that could not be asked may answer the retry.
  return r == rejection::idempotency_key_invalid || r == rejection::idempotency_conflict ||
         r == rejection::idempotency_window_full || r == rejection::feature_disabled ||
         r == rejection::aml_unavailable;
}

}  // namespace wallet::engine
