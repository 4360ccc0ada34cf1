// The idempotency window and the wallet aggregate that puts decide, apply and keys together.
#include "wallet/engine/idempotency.hpp"

#include <algorithm>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/limits.hpp"

namespace wallet::engine {

const idempotency_record* idempotency_window::find(std::string_view key) const {
  // A heterogeneous lookup would need a transparent hash; keys are short, so copying is cheap.
  const auto it = records_.find(std::string{key});
  return it == records_.end() ? nullptr : &it->second;
}

bool idempotency_window::full() const noexcept {
  return records_.size() >= idempotency_keys_per_wallet_max;
}

void idempotency_window::remember(std::string key, idempotency_record record) {
  WALLET_ASSERT(!full());
  // A wall clock may step back; keep the window ordered so expiry stays a pop from the front.
  if (!order_.empty()) {
    record.recorded_at = std::max(record.recorded_at, records_.at(order_.back()).recorded_at);
  }
  const auto [it, inserted] = records_.emplace(key, record);
  WALLET_ASSERT(inserted);
  order_.push_back(std::move(key));
  WALLET_ASSERT(order_.size() == records_.size());
}

void idempotency_window::expire(timestamp now, duration retention) {
  while (!order_.empty()) {
    const auto it = records_.find(order_.front());
    WALLET_ASSERT(it != records_.end());
    if (it->second.recorded_at + retention > now) {
      break;
    }
    records_.erase(it);
    order_.pop_front();
  }
}

wallet_aggregate::wallet_aggregate(std::string wallet_id, duration idempotency_retention)
    : state_(empty_wallet(std::move(wallet_id))), retention_(idempotency_retention) {}

wallet_aggregate::wallet_aggregate(wallet_state state, idempotency_window window,
                                   duration idempotency_retention)
    : state_(std::move(state)), window_(std::move(window)), retention_(idempotency_retention) {
  check_invariants(state_);
}

bool wallet_aggregate::would_accept(const command& c, timestamp now, const policy& limits,
                                    const feature_flags& flags) {
  WALLET_ASSERT(c.wallet_id == state_.id);
  if (!is_valid_id(c.idempotency_key, idempotency_key_length_max)) {
    return false;
  }
  window_.expire(now, retention_);
  if (window_.find(c.idempotency_key) != nullptr || window_.full() ||
      refusing_flag(flags, c.body)) {
    return false;
  }
  return decide(state_, c, now, limits).ok();
}

handled wallet_aggregate::handle(const command& c, timestamp now, const policy& limits,
                                 const feature_flags& flags, std::optional<rejection> screened) {
  WALLET_ASSERT(!screened || *screened == rejection::aml_denied ||
                *screened == rejection::aml_unavailable);
  WALLET_ASSERT(c.wallet_id == state_.id);
  const auto answer = [&](std::optional<rejection> rejected) {
    return outcome{rejected, state_.version, state_.balance, state_.held};
  };
  if (!is_valid_id(c.idempotency_key, idempotency_key_length_max)) {
    return {answer(rejection::idempotency_key_invalid), std::nullopt, false};
  }
  window_.expire(now, retention_);
  const std::uint64_t print = fingerprint(c);
  if (const idempotency_record* seen = window_.find(c.idempotency_key)) {
    if (seen->fingerprint != print) {
      return {answer(rejection::idempotency_conflict), std::nullopt, false};
    }
    return {seen->result, std::nullopt, true};
  }
  if (window_.full()) {
    return {answer(rejection::idempotency_window_full), std::nullopt, false};
  }
  if (refusing_flag(flags, c.body)) {
    return {answer(rejection::feature_disabled), std::nullopt, false};
  }
  if (screened && is_transient(*screened)) {
    return {answer(*screened), std::nullopt, false};
  }

  auto decided = screened ? result<event, rejection>{*screened} : decide(state_, c, now, limits);
  handled h;
  if (decided.ok()) {
    h.appended = std::move(decided).value();
    apply(state_, *h.appended);
    h.result = answer(std::nullopt);
  } else {
    h.result = answer(decided.error());
  }
  WALLET_ASSERT(!h.result.rejected || !is_transient(*h.result.rejected));
  window_.remember(c.idempotency_key, idempotency_record{print, h.result, now});
  return h;
}

}  // namespace wallet::engine
