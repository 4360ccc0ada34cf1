// The policy and flags files as engine values: strict JSON (every problem named with its path,
// unknown keys refused), so that a typo is a refused file rather than a silently missing limit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "wallet/engine/flags.hpp"
#include "wallet/engine/policy.hpp"
#include "wallet/engine/result.hpp"

namespace wallet::compliance {

// The largest policy or flags file read; a larger one is refused unread.
inline constexpr std::size_t file_bytes_max = 1'048'576;

// {"levels": {"none": {...}, "basic": {...}, "full": {...}}}: every level, each with a "*" entry
// (every currency without its own) and any number of ISO 4217 codes. An entry is
// {"unlimited": true}, or all three of balance_max, withdrawal_max and daily_outgoing_max, each a
// non-negative integer of the currency's minor units or the string "unlimited".
[[nodiscard]] engine::result<engine::policy, std::string> parse_policy(std::string_view text);

// {"accept_new_wallets": bool, "accept_transfers": bool, "aml_screening": bool,
//  "currency.*": bool, "currency.<ISO>": bool, ...}: every key optional (defaults: true, true,
// false, true), values booleans, currencies active ISO 4217 codes.
[[nodiscard]] engine::result<engine::feature_flags, std::string> parse_flags(std::string_view text);

// The flags as the JSON object parse_flags reads: every flag, each currency entry by its code.
// parse_flags(encode_flags(f)) == f.
[[nodiscard]] std::string encode_flags(const engine::feature_flags& f);

// One line for a log: "levels none: EUR, * limited; basic: ...; full: * unlimited".
[[nodiscard]] std::string describe(const engine::policy& p);
// "accept_new_wallets=true accept_transfers=false ... currency.*=true currency.USD=false".
[[nodiscard]] std::string describe(const engine::feature_flags& f);

}  // namespace wallet::compliance
