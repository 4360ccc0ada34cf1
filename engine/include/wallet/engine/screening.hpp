// AML screening rules (ADR 0007): when an outgoing move must be screened (an amount threshold
// per currency, velocity over a sliding window), and the built-in rules provider's verdict. Pure.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "wallet/engine/command.hpp"
#include "wallet/engine/currency.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/time.hpp"

namespace wallet::engine {

// An amount per currency: "EUR:100000,USD:100000,*:5000000" in minor units; `*` is every
// currency without its own entry. No entry and no `*`: no amount for that currency (rule off).
struct currency_amounts {
  std::map<std::uint16_t, std::int64_t> by_currency;  // by ISO 4217 numeric code
  std::optional<std::int64_t> otherwise;              // the `*` entry

  [[nodiscard]] std::optional<std::int64_t> find(currency c) const;
  friend bool operator==(const currency_amounts&, const currency_amounts&) = default;
};

// Parses the text form above. Empty text: no entries. Errors name the entry at fault.
[[nodiscard]] result<currency_amounts, std::string> parse_currency_amounts(std::string_view text);

// When an outgoing move is screened. Each rule is off when its value says so.
struct screening_rules {
  currency_amounts threshold;  // screen a move whose amount >= this (in its currency)
  duration velocity_window{std::chrono::hours{1}};
  std::uint32_t velocity_count_max = 0;  // screen when the window already holds >= this many
                                         // outgoing moves; 0: off
  currency_amounts velocity_sum_max;     // screen when the window's sum + this move > this
  friend bool operator==(const screening_rules&, const screening_rules&) = default;
};

// Why a move is screened; more than one may hold (a bit set).
enum class screening_reason : std::uint8_t {
  amount = 1,          // amount >= threshold
  velocity_count = 2,  // the window's count of outgoing moves reached velocity_count_max
  velocity_sum = 4,    // the window's sum plus this move passes velocity_sum_max
};
using screening_reasons = std::uint8_t;

[[nodiscard]] std::string_view to_string(screening_reason r) noexcept;
// "amount,velocity_sum": for the request to the provider and for logs.
[[nodiscard]] std::string reasons_text(screening_reasons reasons);

// The money that left one wallet recently: its outgoing moves (withdrawals, transfer debits, the
// captured part of holds) with
// their times, oldest first. Kept by the wallet actor from the events it appends; bounded by
// outgoing_moves_max (the oldest are dropped first, so the count saturates, never overflows).
class outgoing_velocity {
 public:
  static constexpr std::size_t outgoing_moves_max = 4'096;

  void record(timestamp at, std::int64_t amount);
  // Forgets moves at or before now - window.
  void expire(timestamp now, duration window);
  [[nodiscard]] std::uint32_t count() const noexcept;
  // The sum of the moves in the window, saturating at INT64_MAX.
  [[nodiscard]] std::int64_t sum() const noexcept { return sum_; }

 private:
  struct move {
    timestamp at;
    std::int64_t amount = 0;
  };
  // A list, not a deque: an empty std::deque still holds about 600 bytes (its map and a first
  // block), and most resident wallets have no recent outgoing move.
  std::list<move> moves_;
  std::int64_t sum_ = 0;
  bool saturated_ = false;  // the sum passed INT64_MAX once: recomputed as moves leave
  void recompute();
};

// The money an outgoing command moves: a withdrawal, a transfer's debit, or a hold (screened when
// placed, like the KYC limits: its capture was authorized by it and is never refused); nothing
// otherwise (deposits, captures, releases, legs and administrative commands).
[[nodiscard]] std::optional<money> screened_amount(const command_body& body) noexcept;

// Why `move` must be screened given the wallet's recent outgoing moves (already expired to now);
// 0: it need not be.
[[nodiscard]] screening_reasons screening_needed(const screening_rules& rules,
                                                 const outgoing_velocity& recent, money move);

enum class screening_verdict : std::uint8_t { allow, deny, review };

[[nodiscard]] std::string_view to_string(screening_verdict v) noexcept;
[[nodiscard]] std::optional<screening_verdict> verdict_from(std::string_view text) noexcept;

// The built-in rules provider: deny at or above deny_from, review at or above review_from
// (or when any velocity rule fired and review_on_velocity is set), allow otherwise.
struct rules_verdicts {
  currency_amounts deny_from;
  currency_amounts review_from;
  bool review_on_velocity = false;
  friend bool operator==(const rules_verdicts&, const rules_verdicts&) = default;
};

[[nodiscard]] screening_verdict rules_verdict(const rules_verdicts& rules, money move,
                                              screening_reasons reasons);

}  // namespace wallet::engine
