// decide(): the pure business rules. Inputs are checked first, then the wallet's status, then
// money.
#include "wallet/engine/assert.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/wallet.hpp"

namespace wallet::engine {
namespace {

using decision = result<event, rejection>;

// Which statuses a command may act in. Checked after the command's own fields are valid.
enum class needs : std::uint8_t {
  unopened,    // open_wallet
  active,      // customer operations
  not_closed,  // release, expire, freeze, unfreeze, close: also allowed while frozen
  any_opened,  // reversal: returning money in flight must always land
};

std::optional<rejection> check_status(const wallet_state& s, needs n) {
  if (n == needs::unopened) {
    return s.status == wallet_status::none ? std::nullopt : std::optional{rejection::wallet_exists};
  }
  switch (s.status) {
    case wallet_status::none:
      return rejection::wallet_not_found;
    case wallet_status::closed:
      return n == needs::any_opened ? std::nullopt : std::optional{rejection::wallet_closed};
    case wallet_status::frozen:
      return n == needs::active ? std::optional{rejection::wallet_frozen} : std::nullopt;
    case wallet_status::active:
      return std::nullopt;
  }
  return rejection::wallet_not_found;
}

// A command amount: a real currency, strictly positive, at most amount_minor_max.
std::optional<rejection> check_amount(const money& m) {
  if (m.ccy.is_none()) {
    return rejection::currency_invalid;
  }
  if (m.minor <= 0 || m.minor > amount_minor_max) {
    return rejection::amount_invalid;
  }
  return std::nullopt;
}

std::optional<rejection> check_reason(std::string_view reason) {
  if (reason.empty() || reason.size() > reason_length_max) {
    return rejection::reason_invalid;
  }
  for (const char ch : reason) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return rejection::reason_invalid;
    }
  }
  return std::nullopt;
}

bool valid_hold_id(std::string_view id) { return is_valid_id(id, hold_id_length_max); }
bool valid_transfer_id(std::string_view id) { return is_valid_id(id, transfer_id_length_max); }
bool valid_wallet_id(std::string_view id) { return is_valid_id(id, wallet_id_length_max); }

// Short-circuits a chain of checks: the first rejection wins.
template <class... Checks>
std::optional<rejection> first_of(Checks&&... checks) {
  std::optional<rejection> found;
  (void)((found = checks(), found.has_value()) || ...);
  return found;
}

// The decision for one command type: a list of checks, then the event body to append.
class decider {
 public:
  decider(const wallet_state& s, timestamp now, const policy& limits)
      : s_(s), now_(now), limits_(limits) {}

  decision operator()(const open_wallet& c) const {
    if (!is_valid_id(c.owner, owner_id_length_max)) return rejection::id_invalid;
    if (c.ccy.is_none()) return rejection::currency_invalid;
    if (c.overdraft_limit < 0 || c.overdraft_limit > overdraft_limit_max) {
      return rejection::overdraft_limit_invalid;
    }
    if (auto r = check_status(s_, needs::unopened)) return *r;
    return emit(wallet_opened{c.owner, c.ccy, c.overdraft_limit});
  }

  decision operator()(const deposit& c) const {
    if (auto r = incoming(c.amount)) return *r;
    if (auto r = kyc_incoming(c.amount.minor)) return *r;
    return emit(deposited{c.amount.minor});
  }

  decision operator()(const withdraw& c) const {
    if (auto r = outgoing(c.amount)) return *r;
    if (auto r = kyc_outgoing(c.amount.minor)) return *r;
    return emit(withdrawn{c.amount.minor});
  }

  decision operator()(const transfer_debit& c) const {
    if (!valid_transfer_id(c.transfer_id) || !valid_wallet_id(c.destination)) {
      return rejection::id_invalid;
    }
    if (auto r = check_amount(c.amount)) return *r;
    if (c.destination == s_.id) return rejection::transfer_to_self;
    if (!c.from_hold.empty()) return from_hold(c);
    if (auto r = outgoing(c.amount)) return *r;
    if (auto r = kyc_outgoing(c.amount.minor)) return *r;
    return emit(transfer_debited{c.transfer_id, c.destination, c.amount.minor});
  }

  decision operator()(const transfer_credit& c) const {
    if (!valid_transfer_id(c.transfer_id) || !valid_wallet_id(c.source)) {
      return rejection::id_invalid;
    }
    if (auto r = check_amount(c.amount)) return *r;
    if (c.source == s_.id) return rejection::transfer_to_self;
    if (auto r = incoming(c.amount)) return *r;
    // A refused credit is reversed to its source by the saga: nothing is lost.
    if (auto r = kyc_incoming(c.amount.minor)) return *r;
    return emit(transfer_credited{c.transfer_id, c.source, c.amount.minor});
  }

  decision operator()(const transfer_reversal& c) const {
    if (!valid_transfer_id(c.transfer_id)) return rejection::id_invalid;
    if (auto r = incoming(c.amount, needs::any_opened)) return *r;
    return emit(transfer_reversed{c.transfer_id, c.amount.minor});
  }

  decision operator()(const hold_place& c) const {
    if (!valid_hold_id(c.hold_id)) return rejection::id_invalid;
    if (auto r = check_amount(c.amount)) return *r;
    if (c.expires_at <= now_) return rejection::hold_expiry_invalid;
    if (auto r = check_status(s_, needs::active)) return *r;
    if (c.amount.ccy != s_.ccy) return rejection::currency_mismatch;
    if (s_.holds.contains(c.hold_id)) return rejection::hold_exists;
    if (s_.holds.size() >= holds_per_wallet_max) return rejection::holds_limit_reached;
    if (s_.available() < c.amount.minor) return rejection::insufficient_funds;
    // A hold is checked as the outgoing move it may become: its capture is not checked again.
    if (auto r = kyc_outgoing(c.amount.minor)) return *r;
    return emit(hold_placed{c.hold_id, c.amount.minor, c.expires_at});
  }

  decision operator()(const hold_capture& c) const {
    if (!valid_hold_id(c.hold_id)) return rejection::id_invalid;
    if (c.amount) {
      if (auto r = check_amount(*c.amount)) return *r;
    }
    if (auto r = check_status(s_, needs::active)) return *r;
    if (c.amount && c.amount->ccy != s_.ccy) return rejection::currency_mismatch;
    const auto it = s_.holds.find(c.hold_id);
    if (it == s_.holds.end()) return rejection::hold_not_found;
    if (now_ >= it->second.expires_at) return rejection::hold_expired;
    const std::int64_t reserved = it->second.amount;
    const std::int64_t captured = c.amount ? c.amount->minor : reserved;
    if (captured > reserved) return rejection::hold_amount_exceeded;
    return emit(hold_captured{c.hold_id, captured, reserved - captured});
  }

  decision operator()(const hold_release& c) const {
    if (!valid_hold_id(c.hold_id)) return rejection::id_invalid;
    if (auto r = check_status(s_, needs::not_closed)) return *r;
    const auto it = s_.holds.find(c.hold_id);
    if (it == s_.holds.end()) return rejection::hold_not_found;
    return emit(hold_released{c.hold_id, it->second.amount});
  }

  decision operator()(const hold_expire& c) const {
    if (!valid_hold_id(c.hold_id)) return rejection::id_invalid;
    if (auto r = check_status(s_, needs::not_closed)) return *r;
    const auto it = s_.holds.find(c.hold_id);
    if (it == s_.holds.end()) return rejection::hold_not_found;
    if (now_ < it->second.expires_at) return rejection::hold_not_expired;
    return emit(hold_expired{c.hold_id, it->second.amount});
  }

  decision operator()(const freeze& c) const {
    if (auto r = check_reason(c.reason)) return *r;
    if (auto r = check_status(s_, needs::active)) return *r;
    return emit(wallet_frozen{c.reason});
  }

  decision operator()(const unfreeze& c) const {
    if (auto r = check_reason(c.reason)) return *r;
    if (auto r = check_status(s_, needs::not_closed)) return *r;
    if (s_.status != wallet_status::frozen) return rejection::wallet_not_frozen;
    return emit(wallet_unfrozen{c.reason});
  }

  decision operator()(const close_wallet& /*c*/) const {
    if (auto r = check_status(s_, needs::not_closed)) return *r;
    if (!s_.holds.empty()) return rejection::wallet_has_holds;
    if (s_.balance != 0) return rejection::wallet_not_empty;
    return emit(wallet_closed{});
  }

  // Allowed while frozen: verification goes on during a review.
  decision operator()(const set_kyc_level& c) const {
    WALLET_ASSERT(static_cast<std::size_t>(c.level) < kyc_level_count);  // decoders make only these
    if (auto r = check_reason(c.reason)) return *r;
    if (auto r = check_status(s_, needs::not_closed)) return *r;
    return emit(kyc_level_set{c.level, c.reason});
  }

 private:
  // The approved debit of a transfer under AML review (ADR 0009): it takes the review's hold whole,
  // in the one event that debits, so the reserved money is never available in between. Funds and
  // KYC limits were checked when the hold was placed (as for a capture); the status is checked now.
  [[nodiscard]] decision from_hold(const transfer_debit& c) const {
    if (!valid_hold_id(c.from_hold)) return rejection::id_invalid;
    if (auto r = check_status(s_, needs::active)) return *r;
    if (c.amount.ccy != s_.ccy) return rejection::currency_mismatch;
    const auto it = s_.holds.find(c.from_hold);
    if (it == s_.holds.end()) return rejection::hold_not_found;
    if (now_ >= it->second.expires_at) return rejection::hold_expired;
    // The debit is the hold's whole amount: a part would leave the rest held with no review.
    if (c.amount.minor != it->second.amount) return rejection::hold_amount_exceeded;
    return emit(transfer_debited{c.transfer_id, c.destination, c.amount.minor, c.from_hold});
  }

  // Money coming in: status, currency, and the balance ceiling.
  [[nodiscard]] std::optional<rejection> incoming(const money& m, needs n = needs::active) const {
    return first_of([&] { return check_amount(m); }, [&] { return check_status(s_, n); },
                    [&]() -> std::optional<rejection> {
                      if (m.ccy != s_.ccy) return rejection::currency_mismatch;
                      if (s_.balance > balance_minor_max - m.minor) {
                        return rejection::balance_limit_exceeded;
                      }
                      return std::nullopt;
                    });
  }

  // Money going out: status, currency, and what is available after holds and overdraft.
  [[nodiscard]] std::optional<rejection> outgoing(const money& m) const {
    return first_of([&] { return check_amount(m); },
                    [&] { return check_status(s_, needs::active); },
                    [&]() -> std::optional<rejection> {
                      if (m.ccy != s_.ccy) return rejection::currency_mismatch;
                      if (s_.available() < m.minor) return rejection::insufficient_funds;
                      return std::nullopt;
                    });
  }

  // The KYC ceiling on the balance after `amount` comes in.
  [[nodiscard]] std::optional<rejection> kyc_incoming(std::int64_t amount) const {
    const kyc_limits& l = limits_.limits(s_.kyc_level, s_.ccy);
    if (!l.balance_max) return std::nullopt;
    const auto after = checked_add(s_.balance, amount);
    if (!after || *after > *l.balance_max) return rejection::kyc_balance_limit_exceeded;
    return std::nullopt;
  }

  // The KYC limits on one outgoing move of `amount`: its size, and today's total. Open holds count
  // towards the day (they may be captured today, and captures are not checked), so the money that
  // leaves on one UTC day stays within daily_outgoing_max while the policy and level stand.
  [[nodiscard]] std::optional<rejection> kyc_outgoing(std::int64_t amount) const {
    const kyc_limits& l = limits_.limits(s_.kyc_level, s_.ccy);
    if (l.withdrawal_max && amount > *l.withdrawal_max) {
      return rejection::kyc_withdrawal_limit_exceeded;
    }
    if (l.daily_outgoing_max) {
      auto total = checked_add(s_.outgoing_on(now_), s_.held);
      if (total) total = checked_add(*total, amount);
      if (!total || *total > *l.daily_outgoing_max) return rejection::kyc_daily_limit_exceeded;
    }
    return std::nullopt;
  }

  [[nodiscard]] decision emit(event_body body) const {
    return event{s_.version + 1, now_, std::move(body)};
  }

  const wallet_state& s_;
  timestamp now_;
  const policy& limits_;
};

}  // namespace

decision decide(const wallet_state& state, const command& c, timestamp now, const policy& limits) {
  WALLET_ASSERT(c.wallet_id == state.id);
  // The O(1) invariants; apply() checks them all (including the sum of holds) after every event.
  WALLET_ASSERT(state.held >= 0 && state.held <= state.balance + state.overdraft_limit);
  WALLET_ASSERT(state.balance >= -state.overdraft_limit);
  decision d = std::visit(decider{state, now, limits}, c.body);
  if (d.ok()) {
    WALLET_ASSERT(d.value().seq == state.version + 1);
  }
  return d;
}

}  // namespace wallet::engine
