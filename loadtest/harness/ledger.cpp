// The run's expectations: command effects, the folded event stream, duplicates and invalid
// commands.
#include "ledger.hpp"

#include "wallet/engine/assert.hpp"

namespace wallet::loadtest {

effect effect_of(const command& c) noexcept {
  effect e;
  if (c.flaw != defect::none) return e;  // an invalid command must change nothing
  switch (c.what) {
    case op::open_wallet:
      break;
    case op::deposit:
      e.balance = c.amount;
      e.deposited = c.amount;
      break;
    case op::withdraw:
      e.balance = -c.amount;
      e.withdrawn = c.amount;
      break;
    case op::transfer:
      e.balance = -c.amount;
      e.destination_balance = c.amount;
      break;
    case op::hold_place:
      e.held = c.amount;
      break;
    case op::hold_capture: {
      const std::int64_t taken = c.amount == 0 ? c.hold_amount : c.amount;
      e.balance = -taken;
      e.held = -c.hold_amount;  // the rest of the hold is released with the capture
      e.captured = taken;
      break;
    }
    case op::hold_release:
      e.held = -c.hold_amount;
      break;
  }
  return e;
}

// ---- expectations

expectations::expectations(std::uint32_t wallets)
    : wallets_(wallets), slots_(std::make_unique<slot[]>(std::size_t{wallets} + 1)) {}

void expectations::applied(const command& c) noexcept {
  const effect e = effect_of(c);
  WALLET_ASSERT(c.wallet >= 1 && c.wallet <= wallets_);
  slot& s = slots_[c.wallet];
  s.balance.fetch_add(e.balance, std::memory_order_relaxed);
  s.held.fetch_add(e.held, std::memory_order_relaxed);
  s.touched.store(true, std::memory_order_relaxed);
  if (c.what == op::transfer) {
    WALLET_ASSERT(c.destination >= 1 && c.destination <= wallets_);
    slot& d = slots_[c.destination];
    d.balance.fetch_add(e.destination_balance, std::memory_order_relaxed);
    d.touched.store(true, std::memory_order_relaxed);
    transfers_.fetch_add(1, std::memory_order_relaxed);
  }
  deposited_.fetch_add(e.deposited, std::memory_order_relaxed);
  withdrawn_.fetch_add(e.withdrawn, std::memory_order_relaxed);
  captured_.fetch_add(e.captured, std::memory_order_relaxed);
}

std::int64_t expectations::balance_delta(std::uint32_t n) const noexcept {
  return slots_[n].balance.load();
}
std::int64_t expectations::held_delta(std::uint32_t n) const noexcept {
  return slots_[n].held.load();
}
bool expectations::touched(std::uint32_t n) const noexcept { return slots_[n].touched.load(); }

// ---- event_fold

event_fold::event_fold(std::uint32_t wallets)
    : wallets_(std::size_t{wallets} + 1), start_(std::size_t{wallets} + 1, 0) {}

void event_fold::start_from(const std::vector<wallet_row>& before) {
  const std::lock_guard lock(mutex_);
  for (const wallet_row& row : before) {
    if (row.n < start_.size()) {
      start_[row.n] = row.version;
      wallets_[row.n].last_seq = row.version;
    }
  }
}

void event_fold::add(std::uint32_t n, std::uint64_t seq, std::int64_t balance_delta,
                     std::int64_t held_delta) {
  const std::lock_guard lock(mutex_);
  if (n == 0 || n >= wallets_.size()) return;
  ++events_;
  if (seq <= start_[n]) return;  // committed before the run began
  wallet_state& w = wallets_[n];
  if (seq <= w.last_seq) {
    ++w.repeats;  // a republished event: counted once
    return;
  }
  if (seq != w.last_seq + 1) ++w.gaps;
  w.last_seq = seq;
  w.balance += balance_delta;
  w.held += held_delta;
}

event_fold::wallet_state event_fold::state(std::uint32_t n) const {
  const std::lock_guard lock(mutex_);
  return n < wallets_.size() ? wallets_[n] : wallet_state{};
}

std::uint64_t event_fold::events() const {
  const std::lock_guard lock(mutex_);
  return events_;
}

// ---- duplicate_tracker

void duplicate_tracker::sent(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  pairs_.try_emplace(id);
}

void duplicate_tracker::answered(std::uint64_t id, const answer& a) {
  const std::lock_guard lock(mutex_);
  const auto it = pairs_.find(id);
  if (it == pairs_.end()) return;
  pair_state& p = it->second;
  ++p.answers;
  if (!a.replayed && a.status != answer_status::failed) ++p.first_time;
  if (a.status == answer_status::accepted) ++p.accepted;
  if (a.status == answer_status::rejected) ++p.rejected;
}

void duplicate_tracker::event_seen(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  const auto it = pairs_.find(id);
  if (it != pairs_.end()) ++it->second.events;
}

std::unordered_map<std::uint64_t, duplicate_tracker::pair_state> duplicate_tracker::pairs() const {
  const std::lock_guard lock(mutex_);
  return pairs_;
}

// ---- invalid_tracker

bool invalid_tracker::answered(const command& c, const std::string& key, const answer& a,
                               const expected_answer& want) {
  const bool right = a.status == want.status && a.code == want.code &&
                     (want.problem.empty() || a.problem == want.problem);
  const std::lock_guard lock(mutex_);
  defect_counts& n = counts_[std::string(to_string(c.flaw))];
  ++n.sent;
  if (right) {
    ++n.right;
  } else if (wrong_.size() < examples_max) {
    wrong_.push_back(key + " (" + std::string(to_string(c.flaw)) + "): expected " +
                     std::string(to_string(want.status)) + " " + std::string(want.code) +
                     (want.problem.empty() ? "" : "/" + std::string(want.problem)) + ", got " +
                     std::string(to_string(a.status)) + " " + a.code +
                     (a.problem.empty() ? "" : "/" + a.problem));
  }
  return right;
}

std::map<std::string, invalid_tracker::defect_counts> invalid_tracker::counts() const {
  const std::lock_guard lock(mutex_);
  return counts_;
}

std::vector<std::string> invalid_tracker::wrong_examples() const {
  const std::lock_guard lock(mutex_);
  return wrong_;
}

}  // namespace wallet::loadtest
