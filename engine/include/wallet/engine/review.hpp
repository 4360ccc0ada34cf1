// AML review holds (ADR 0009): a withdrawal or transfer the screening sends to review is held under
// a reserved hold id until an admin decides; only the decision (a key of its own) may settle it.
#pragma once

#include <string>
#include <string_view>

#include "wallet/engine/command.hpp"

namespace wallet::engine {

// Hold ids with this prefix belong to AML reviews: clients can neither place nor settle them.
inline constexpr std::string_view review_hold_prefix = "aml:";
// The idempotency key of a review's decision ("sys:aml:<review id>"): system keys are refused from
// clients before they reach a wallet, so only the admin decision path can carry one.
inline constexpr std::string_view review_decision_key_prefix = "sys:aml:";
// A review id: 16 lower-case hex digits.
inline constexpr std::size_t review_id_length = 16;

// The review id of the command with `idempotency_key` on `wallet_id`: a 64-bit FNV-1a digest of
// both (length-prefixed), so a repeat of the command names the same review and any instance can
// compute it without a database round trip.
[[nodiscard]] std::string review_id_of(std::string_view wallet_id,
                                       std::string_view idempotency_key);
[[nodiscard]] bool is_review_id(std::string_view text) noexcept;
// "aml:<review id>", and back (empty when `hold_id` is not a review hold).
[[nodiscard]] std::string review_hold_id(std::string_view review_id);
[[nodiscard]] bool is_review_hold(std::string_view hold_id) noexcept;
[[nodiscard]] std::string_view review_of_hold(std::string_view hold_id) noexcept;
[[nodiscard]] std::string review_decision_key(std::string_view review_id);
[[nodiscard]] bool is_review_decision_key(std::string_view key) noexcept;

// Whether `c` may not run as sent because it touches a review hold: any hold_place of a reserved
// id, and a capture or release of one under a key other than the review's decision key; a
// transfer_debit from a hold likewise (and from any hold that is not a review's).
[[nodiscard]] bool touches_review_hold_unduly(const command& c) noexcept;

}  // namespace wallet::engine
