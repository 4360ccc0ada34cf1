// Which feature flag refuses which command.
#include "wallet/engine/flags.hpp"

#include "wallet/engine/overloaded.hpp"

namespace wallet::engine {

bool feature_flags::currency_enabled(currency c) const noexcept {
  const auto it = currencies.find(c.numeric());
  return it == currencies.end() ? currencies_by_default : it->second;
}

std::string_view to_string(flag f) noexcept {
  switch (f) {
    case flag::accept_new_wallets:
      return "accept_new_wallets";
    case flag::accept_transfers:
      return "accept_transfers";
    case flag::currency:
      return "currency";
  }
  return "unknown";
}

std::optional<flag> refusing_flag(const feature_flags& flags, const command_body& body) noexcept {
  // A command without a real currency is left to decide(), which rejects it precisely.
  const auto currency_off = [&](currency c) { return !c.is_none() && !flags.currency_enabled(c); };
  return std::visit(overloaded{
                        [&](const open_wallet& c) -> std::optional<flag> {
                          if (!flags.accept_new_wallets) return flag::accept_new_wallets;
                          if (currency_off(c.ccy)) return flag::currency;
                          return std::nullopt;
                        },
                        [&](const transfer_debit& c) -> std::optional<flag> {
                          // A review's approved transfer was admitted when it was held: it
                          // finishes that work, like a capture (ADR 0009).
                          if (!c.from_hold.empty()) return std::nullopt;
                          if (!flags.accept_transfers) return flag::accept_transfers;
                          if (currency_off(c.amount.ccy)) return flag::currency;
                          return std::nullopt;
                        },
                        [&](const deposit& c) -> std::optional<flag> {
                          if (currency_off(c.amount.ccy)) return flag::currency;
                          return std::nullopt;
                        },
                        [&](const hold_place& c) -> std::optional<flag> {
                          if (currency_off(c.amount.ccy)) return flag::currency;
                          return std::nullopt;
                        },
                        [](const auto&) -> std::optional<flag> { return std::nullopt; },
                    },
                    body);
}

}  // namespace wallet::engine
