// AML screening rules: the per-currency amounts, the sliding window and the rules verdict.
#include "wallet/engine/screening.hpp"

#include <charconv>
#include <limits>

#include "wallet/engine/money.hpp"

namespace wallet::engine {
namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// One "CODE:minor" entry into `out`, or the reason it is refused.
std::optional<std::string> parse_entry(std::string_view entry, currency_amounts& out) {
  const auto colon = entry.find(':');
  if (colon == std::string_view::npos) {
    return "'" + std::string(entry) + "': expected CODE:minor_units";
  }
  const std::string_view code = trim(entry.substr(0, colon));
  const std::string_view number = trim(entry.substr(colon + 1));
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || value < 0) {
    return "'" + std::string(entry) + "': the amount must be a non-negative integer of minor units";
  }
  if (code == "*") {
    if (out.otherwise) return std::string("'*' is given twice");
    out.otherwise = value;
    return std::nullopt;
  }
  const auto c = currency::from_code(code);
  if (!c) {
    return "'" + std::string(code) + "' is not an active ISO 4217 currency code";
  }
  if (!out.by_currency.emplace(c->numeric(), value).second) {
    return "'" + std::string(code) + "' is given twice";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> currency_amounts::find(currency c) const {
  const auto it = by_currency.find(c.numeric());
  return it != by_currency.end() ? std::optional{it->second} : otherwise;
}

result<currency_amounts, std::string> parse_currency_amounts(std::string_view text) {
  currency_amounts out;
  text = trim(text);
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view entry = trim(text.substr(0, comma));
    if (auto error = parse_entry(entry, out)) {
      return std::move(*error);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (trim(text).empty()) return std::string("a trailing ',' without an entry");
  }
  return out;
}

std::string_view to_string(screening_reason r) noexcept {
  switch (r) {
    case screening_reason::amount:
      return "amount";
    case screening_reason::velocity_count:
      return "velocity_count";
    case screening_reason::velocity_sum:
      return "velocity_sum";
  }
  return "unknown";
}

std::string reasons_text(screening_reasons reasons) {
  std::string out;
  for (const auto r : {screening_reason::amount, screening_reason::velocity_count,
                       screening_reason::velocity_sum}) {
    if ((reasons & static_cast<screening_reasons>(r)) != 0) {
      if (!out.empty()) out += ',';
      out += to_string(r);
    }
  }
  return out;
}

void outgoing_velocity::record(timestamp at, std::int64_t amount) {
  if (moves_.size() >= outgoing_moves_max) {
    // Dropping the oldest keeps memory bounded; the count stays at the maximum, which is far
    // above any sensible velocity_count_max (a schema bound keeps it so). The sum loses the
    // oldest amount as expire() takes it off: a busy wallet at the bound pays O(1) per move, not
    // a walk over all of them.
    if (!saturated_) sum_ -= moves_.front().amount;
    moves_.pop_front();
    if (saturated_) recompute();
  }
  moves_.push_back({at, amount});
  if (const auto s = checked_add(sum_, amount)) {
    sum_ = *s;
  } else {
    sum_ = int64_max;
    saturated_ = true;
  }
}

void outgoing_velocity::expire(timestamp now, duration window) {
  bool removed = false;
  while (!moves_.empty() && moves_.front().at + window <= now) {
    if (!saturated_) sum_ -= moves_.front().amount;
    moves_.pop_front();
    removed = true;
  }
  if (removed && saturated_) recompute();
}

void outgoing_velocity::recompute() {
  sum_ = 0;
  saturated_ = false;
  for (const auto& m : moves_) {
    if (const auto s = checked_add(sum_, m.amount)) {
      sum_ = *s;
    } else {
      sum_ = int64_max;
      saturated_ = true;
      return;
    }
  }
}

std::uint32_t outgoing_velocity::count() const noexcept {
  return static_cast<std::uint32_t>(moves_.size());
}

std::optional<money> screened_amount(const command_body& body) noexcept {
  if (const auto* w = std::get_if<withdraw>(&body)) return w->amount;
  // A debit from a review hold is that review's approval: screened when it was held.
  if (const auto* t = std::get_if<transfer_debit>(&body); t && t->from_hold.empty()) {
    return t->amount;
  }
  if (const auto* h = std::get_if<hold_place>(&body)) return h->amount;
  return std::nullopt;
}

screening_reasons screening_needed(const screening_rules& rules, const outgoing_velocity& recent,
                                   money move) {
  screening_reasons reasons = 0;
  if (const auto threshold = rules.threshold.find(move.ccy);
      threshold && move.minor >= *threshold) {
    reasons |= static_cast<screening_reasons>(screening_reason::amount);
  }
  if (rules.velocity_count_max != 0 && recent.count() >= rules.velocity_count_max) {
    reasons |= static_cast<screening_reasons>(screening_reason::velocity_count);
  }
  if (const auto sum_max = rules.velocity_sum_max.find(move.ccy)) {
    const auto total = checked_add(recent.sum(), move.minor);
    if (!total || *total > *sum_max) {
      reasons |= static_cast<screening_reasons>(screening_reason::velocity_sum);
    }
  }
  return reasons;
}

std::string_view to_string(screening_verdict v) noexcept {
  switch (v) {
    case screening_verdict::allow:
      return "allow";
    case screening_verdict::deny:
      return "deny";
    case screening_verdict::review:
      return "review";
  }
  return "unknown";
}

std::optional<screening_verdict> verdict_from(std::string_view text) noexcept {
  for (const auto v :
       {screening_verdict::allow, screening_verdict::deny, screening_verdict::review}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

screening_verdict rules_verdict(const rules_verdicts& rules, money move,
                                screening_reasons reasons) {
  if (const auto deny = rules.deny_from.find(move.ccy); deny && move.minor >= *deny) {
    return screening_verdict::deny;
  }
  if (const auto review = rules.review_from.find(move.ccy); review && move.minor >= *review) {
    return screening_verdict::review;
  }
  const auto velocity = static_cast<screening_reasons>(screening_reason::velocity_count) |
                        static_cast<screening_reasons>(screening_reason::velocity_sum);
  if (rules.review_on_velocity && (reasons & velocity) != 0) {
    return screening_verdict::review;
  }
  return screening_verdict::allow;
}

}  // namespace wallet::engine
