// The idempotency window and the wallet aggregate that puts decide, apply and keys together.
#include "wallet/engine/idempotency.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/review.hpp"

namespace wallet::engine {

idempotency_window::idempotency_window(const idempotency_window& other) { append_copies_of(other); }

idempotency_window& idempotency_window::operator=(const idempotency_window& other) {
  if (this != &other) {
    clear();
    append_copies_of(other);
  }
  return *this;
}

namespace {
// A bound that takes every record: copies keep what the original kept.
constexpr idempotency_bounds keep_all{duration{0}, std::numeric_limits<std::size_t>::max()};
}  // namespace

// A moved map keeps its nodes (std::allocator propagates), so the chain moves with it.
idempotency_window::idempotency_window(idempotency_window&& other) noexcept
    : records_(std::move(other.records_)),
      oldest_(std::exchange(other.oldest_, nullptr)),
      newest_(std::exchange(other.newest_, nullptr)),
      evicted_(std::move(other.evicted_)) {
  other.records_.clear();
}

idempotency_window& idempotency_window::operator=(idempotency_window&& other) noexcept {
  if (this != &other) {
    records_ = std::move(other.records_);
    oldest_ = std::exchange(other.oldest_, nullptr);
    newest_ = std::exchange(other.newest_, nullptr);
    evicted_ = std::move(other.evicted_);
    other.records_.clear();
  }
  return *this;
}

void idempotency_window::clear() noexcept {
  records_.clear();
  oldest_ = nullptr;
  newest_ = nullptr;
  evicted_.reset();
}

void idempotency_window::append_copies_of(const idempotency_window& other) {
  if (other.evicted_) {
    evicted_ = std::make_unique<evicted_keys>(*other.evicted_);
  }
  records_.reserve(other.records_.size());
  for (const element* e = other.oldest_; e != nullptr; e = e->second.newer) {
    remember(e->first, e->second.record, keep_all);
  }
}

const idempotency_record* idempotency_window::find(std::string_view key) const {
  const auto it = records_.find(key);
  return it == records_.end() ? nullptr : &it->second.record;
}

void idempotency_window::pop_oldest() {
  const auto it = records_.find(oldest_->first);
  WALLET_ASSERT(it != records_.end() && &*it == oldest_);
  oldest_ = oldest_->second.newer;
  if (oldest_ == nullptr) {
    newest_ = nullptr;
  }
  records_.erase(it);
}

const idempotency_record& idempotency_window::remember(std::string key, idempotency_record record,
                                                       const idempotency_bounds& bounds) {
  WALLET_ASSERT(bounds.keys_resident >= 1);
  // A wall clock may step back; keep the window ordered so expiry stays a pop from the front.
  if (newest_ != nullptr) {
    record.recorded_at = std::max(record.recorded_at, newest_->second.record.recorded_at);
  }
  // The oldest records leave memory; their keys stay known to the filter (and the store).
  while (records_.size() >= bounds.keys_resident) {
    if (!evicted_) {
      evicted_ = std::make_unique<evicted_keys>();
    }
    evicted_->add(oldest_->first, oldest_->second.record.recorded_at, bounds.retention);
    pop_oldest();
  }
  const auto [it, inserted] = records_.try_emplace(std::move(key), entry{record, nullptr});
  WALLET_ASSERT(inserted);
  element* added = &*it;
  if (newest_ != nullptr) {
    newest_->second.newer = added;
  } else {
    oldest_ = added;
  }
  newest_ = added;
  return added->second.record;
}

void idempotency_window::adopt_evicted(evicted_keys older) {
  WALLET_ASSERT(records_.empty() && !evicted_);
  if (!older.empty()) {
    evicted_ = std::make_unique<evicted_keys>(std::move(older));
  }
}

void idempotency_window::expire(timestamp now, duration retention) {
  while (oldest_ != nullptr && oldest_->second.record.recorded_at + retention <= now) {
    pop_oldest();
  }
  if (evicted_) {
    evicted_->expire(now, retention);
    if (evicted_->empty()) {
      evicted_.reset();  // a wallet that cooled down gives the filter's memory back
    }
  }
}

bool operator==(const idempotency_window& a, const idempotency_window& b) {
  if (a.records_.size() != b.records_.size()) {
    return false;
  }
  const idempotency_window::element* ea = a.oldest_;
  const idempotency_window::element* eb = b.oldest_;
  for (; ea != nullptr && eb != nullptr; ea = ea->second.newer, eb = eb->second.newer) {
    if (ea->first != eb->first || ea->second.record != eb->second.record) {
      return false;
    }
  }
  if (ea != nullptr || eb != nullptr) {
    return false;
  }
  if (a.evicted_ == nullptr || b.evicted_ == nullptr) {
    return a.evicted_ == b.evicted_;
  }
  return *a.evicted_ == *b.evicted_;
}

wallet_aggregate::wallet_aggregate(std::string wallet_id, duration idempotency_retention)
    : wallet_aggregate(std::move(wallet_id), idempotency_bounds{idempotency_retention}) {}

wallet_aggregate::wallet_aggregate(std::string wallet_id, idempotency_bounds bounds)
    : state_(empty_wallet(std::move(wallet_id))), bounds_(bounds) {
  WALLET_ASSERT(bounds_.keys_resident >= 1);
}

wallet_aggregate::wallet_aggregate(wallet_state state, idempotency_window window,
                                   duration idempotency_retention)
    : wallet_aggregate(std::move(state), std::move(window),
                       idempotency_bounds{idempotency_retention}) {}

wallet_aggregate::wallet_aggregate(wallet_state state, idempotency_window window,
                                   idempotency_bounds bounds)
    : state_(std::move(state)), window_(std::move(window)), bounds_(bounds) {
  WALLET_ASSERT(bounds_.keys_resident >= 1);
  check_invariants(state_);
}

bool wallet_aggregate::needs_lookup(const command& c, timestamp now) {
  WALLET_ASSERT(c.wallet_id == state_.id);
  if (!is_valid_id(c.idempotency_key, idempotency_key_length_max)) {
    return false;
  }
  window_.expire(now, bounds_.retention);
  return window_.find(c.idempotency_key) == nullptr && window_.maybe_evicted(c.idempotency_key);
}

handled wallet_aggregate::recall(const command& c, const idempotency_record& stored) const {
  WALLET_ASSERT(c.wallet_id == state_.id);
  if (stored.fingerprint != fingerprint(c)) {
    return handled{current(rejection::idempotency_conflict), std::nullopt, false};
  }
  return handled{stored.result, std::nullopt, true};
}

bool wallet_aggregate::would_accept(const command& c, timestamp now, const policy& limits,
                                    const feature_flags& flags, key_check checked) {
  WALLET_ASSERT(c.wallet_id == state_.id);
  if (!is_valid_id(c.idempotency_key, idempotency_key_length_max)) {
    return false;
  }
  window_.expire(now, bounds_.retention);
  if (window_.find(c.idempotency_key) != nullptr ||
      (checked == key_check::unchecked && window_.maybe_evicted(c.idempotency_key)) ||
      refusing_flag(flags, c.body) || touches_review_hold_unduly(c)) {
    return false;
  }
  return decide(state_, c, now, limits).ok();
}

std::optional<handled> wallet_aggregate::answered_early(const command& c, timestamp now,
                                                        const feature_flags& flags,
                                                        std::uint64_t print, key_check checked) {
  WALLET_ASSERT(c.wallet_id == state_.id);
  if (!is_valid_id(c.idempotency_key, idempotency_key_length_max)) {
    return handled{current(rejection::idempotency_key_invalid), std::nullopt, false};
  }
  window_.expire(now, bounds_.retention);
  if (const idempotency_record* seen = window_.find(c.idempotency_key)) {
    if (seen->fingerprint != print) {
      return handled{current(rejection::idempotency_conflict), std::nullopt, false};
    }
    return handled{seen->result, std::nullopt, true};
  }
  // A key the filter may hold is never decided before the store is asked: it may be a repeat.
  if (checked == key_check::unchecked && window_.maybe_evicted(c.idempotency_key)) {
    handled h{current(std::nullopt), std::nullopt, false};
    h.lookup = true;
    return h;
  }
  if (refusing_flag(flags, c.body)) {
    return handled{current(rejection::feature_disabled), std::nullopt, false};
  }
  return std::nullopt;
}

outcome wallet_aggregate::current(std::optional<rejection> rejected) const {
  return outcome{rejected, state_.version, state_.balance, state_.held};
}

handled wallet_aggregate::settle(const std::string& key, std::uint64_t print,
                                 result<event, rejection> decided, timestamp now) {
  handled h;
  if (decided.ok()) {
    h.appended = std::move(decided).value();
    apply(state_, *h.appended);
    h.result = current(std::nullopt);
  } else {
    h.result = current(decided.error());
  }
  WALLET_ASSERT(!h.result.rejected || !is_transient(*h.result.rejected));
  const std::size_t before = window_.size();
  h.recorded = window_.remember(key, idempotency_record{print, h.result, now}, bounds_);
  h.evicted = before + 1 - window_.size();
  h.remembered = true;
  return h;
}

handled wallet_aggregate::handle(const command& c, timestamp now, const policy& limits,
                                 const feature_flags& flags, std::optional<rejection> screened,
                                 key_check checked) {
  WALLET_ASSERT(!screened || *screened == rejection::aml_denied ||
                *screened == rejection::aml_unavailable);
  const std::uint64_t print = fingerprint(c);
  if (auto early = answered_early(c, now, flags, print, checked)) {
    return std::move(*early);
  }
  if (screened && is_transient(*screened)) {
    return {current(*screened), std::nullopt, false};
  }
  // A review hold is the engine's own (ADR 0009): a client's command on one is refused like a
  // malformed id, and remembered (it depends on the command alone).
  if (touches_review_hold_unduly(c)) {
    return settle(c.idempotency_key, print, rejection::id_invalid, now);
  }
  auto decided = screened ? result<event, rejection>{*screened} : decide(state_, c, now, limits);
  // A review's decision that cannot apply now (the wallet is frozen, the hold is gone) is answered
  // and not remembered: nothing happened, and the reviewer may decide once it can apply.
  if (!decided.ok() && is_review_decision_key(c.idempotency_key)) {
    return {current(decided.error()), std::nullopt, false};
  }
  return settle(c.idempotency_key, print, std::move(decided), now);
}

handled wallet_aggregate::hold_for_review(const command& c, timestamp now, const policy& limits,
                                          const feature_flags& flags, timestamp expires_at,
                                          key_check checked) {
  const money* amount = nullptr;
  if (const auto* w = std::get_if<withdraw>(&c.body)) amount = &w->amount;
  if (const auto* t = std::get_if<transfer_debit>(&c.body); t && t->from_hold.empty()) {
    amount = &t->amount;
  }
  WALLET_ASSERT(amount != nullptr);
  const std::uint64_t print = fingerprint(c);
  if (auto early = answered_early(c, now, flags, print, checked)) {
    return std::move(*early);
  }
  // A move the engine refuses is refused as it would be without a review (its own checks: ids, a
  // transfer to itself, funds, KYC).
  if (auto own = decide(state_, c, now, limits); !own.ok()) {
    return settle(c.idempotency_key, print, std::move(own), now);
  }
  // The money is reserved, not taken: the same checks as a hold of its amount, under the review's
  // reserved hold id. The command's key remembers the hold's outcome, so a repeat answers
  // pending_review with the same review.
  const command held{c.wallet_id, c.idempotency_key,
                     hold_place{review_hold_id(review_id_of(c.wallet_id, c.idempotency_key)),
                                *amount, expires_at}};
  return settle(c.idempotency_key, print, decide(state_, held, now, limits), now);
}

}  // namespace wallet::engine
