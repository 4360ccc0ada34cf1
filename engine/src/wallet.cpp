// Folding events into wallet state, and the invariants every state must hold.
#include <numeric>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/overloaded.hpp"
#include "wallet/engine/wallet.hpp"

namespace wallet::engine {
namespace {

std::int64_t add(std::int64_t a, std::int64_t b) {
  const auto sum = checked_add(a, b);
  WALLET_ASSERT(sum.has_value());
  return *sum;
}

std::int64_t sub(std::int64_t a, std::int64_t b) {
  const auto difference = checked_sub(a, b);
  WALLET_ASSERT(difference.has_value());
  return *difference;
}

// Removes an open hold and returns what it reserved.
std::int64_t take_hold(wallet_state& s, const std::string& hold_id) {
  const auto it = s.holds.find(hold_id);
  WALLET_ASSERT(it != s.holds.end());
  const std::int64_t amount = it->second.amount;
  s.holds.erase(it);
  s.held = sub(s.held, amount);
  return amount;
}

bool is_open(wallet_status s) { return s == wallet_status::active || s == wallet_status::frozen; }

// Adds money that left the wallet at `at` to the daily total: a later UTC day starts a new total;
// the same day, or an earlier one (a clock that stepped back), adds to the recorded one.
void count_outgoing(wallet_state& s, timestamp at, std::int64_t amount) {
  WALLET_ASSERT(amount >= 0);
  const auto day = std::chrono::floor<std::chrono::days>(at);
  if (day > s.outgoing_day) {
    s.outgoing_day = day;
    s.outgoing_today = amount;
    return;
  }
  s.outgoing_today = checked_add(s.outgoing_today, amount).value_or(outgoing_total_max);
}

}  // namespace

std::string_view to_string(wallet_status s) noexcept {
  switch (s) {
    case wallet_status::none:
      return "none";
    case wallet_status::active:
      return "active";
    case wallet_status::frozen:
      return "frozen";
    case wallet_status::closed:
      return "closed";
  }
  return "unknown";
}

std::int64_t wallet_state::available() const noexcept {
  // Cannot overflow: |balance| <= balance_minor_max and both other terms <= overdraft/held limits.
  return balance + overdraft_limit - held;
}

std::int64_t wallet_state::outgoing_on(timestamp t) const noexcept {
  return std::chrono::floor<std::chrono::days>(t) > outgoing_day ? 0 : outgoing_today;
}

wallet_state empty_wallet(std::string id) {
  wallet_state s;
  s.id = std::move(id);
  return s;
}

void apply(wallet_state& s, const event& e) {
  WALLET_ASSERT(e.seq == s.version + 1);
  std::visit(
      overloaded{
          [&](const wallet_opened& x) {
            WALLET_ASSERT(s.status == wallet_status::none);
            s.owner = x.owner;
            s.ccy = x.ccy;
            s.overdraft_limit = x.overdraft_limit;
            s.status = wallet_status::active;
          },
          [&](const deposited& x) { s.balance = add(s.balance, x.amount); },
          [&](const withdrawn& x) {
            s.balance = sub(s.balance, x.amount);
            count_outgoing(s, e.at, x.amount);
          },
          [&](const transfer_debited& x) {
            // A debit approved from a review hold takes the hold, whose money it is.
            if (!x.hold_id.empty()) WALLET_ASSERT(take_hold(s, x.hold_id) == x.amount);
            s.balance = sub(s.balance, x.amount);
            count_outgoing(s, e.at, x.amount);
          },
          [&](const transfer_credited& x) { s.balance = add(s.balance, x.amount); },
          [&](const transfer_reversed& x) { s.balance = add(s.balance, x.amount); },
          [&](const hold_placed& x) {
            const bool inserted = s.holds.emplace(x.hold_id, hold{x.amount, x.expires_at}).second;
            WALLET_ASSERT(inserted);
            s.held = add(s.held, x.amount);
          },
          [&](const hold_captured& x) {
            WALLET_ASSERT(take_hold(s, x.hold_id) == add(x.captured, x.released));
            s.balance = sub(s.balance, x.captured);
            count_outgoing(s, e.at, x.captured);
          },
          [&](const hold_released& x) { WALLET_ASSERT(take_hold(s, x.hold_id) == x.amount); },
          [&](const hold_expired& x) { WALLET_ASSERT(take_hold(s, x.hold_id) == x.amount); },
          [&](const wallet_frozen&) {
            WALLET_ASSERT(s.status == wallet_status::active);
            s.status = wallet_status::frozen;
          },
          [&](const wallet_unfrozen&) {
            WALLET_ASSERT(s.status == wallet_status::frozen);
            s.status = wallet_status::active;
          },
          [&](const wallet_closed&) {
            WALLET_ASSERT(is_open(s.status) && s.balance == 0 && s.holds.empty());
            s.status = wallet_status::closed;
          },
          [&](const kyc_level_set& x) {
            WALLET_ASSERT(is_open(s.status));
            s.kyc_level = x.level;
          },
      },
      e.body);
  s.version = e.seq;
  check_invariants(s);
}

void check_invariants(const wallet_state& s) {
  WALLET_ASSERT(s.overdraft_limit >= 0 && s.overdraft_limit <= overdraft_limit_max);
  WALLET_ASSERT(s.balance <= balance_minor_max);
  WALLET_ASSERT(s.balance >= -s.overdraft_limit);
  WALLET_ASSERT(s.held >= 0);
  WALLET_ASSERT(s.held <= s.balance + s.overdraft_limit);
  WALLET_ASSERT(s.holds.size() <= holds_per_wallet_max);
  const std::int64_t sum = std::accumulate(
      s.holds.begin(), s.holds.end(), std::int64_t{0},
      [](std::int64_t acc, const auto& entry) { return acc + entry.second.amount; });
  WALLET_ASSERT(sum == s.held);
  WALLET_ASSERT((s.status == wallet_status::none) == (s.version == 0));
  WALLET_ASSERT(static_cast<std::size_t>(s.kyc_level) < kyc_level_count);
  WALLET_ASSERT(s.outgoing_today >= 0);
}

}  // namespace wallet::engine
