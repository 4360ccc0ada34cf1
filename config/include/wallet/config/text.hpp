// Text ↔ setting values: strict parsing of environment and flag values, bounds checks, and the
// redacted rendering used wherever a value is shown (--print-config, logs, error messages).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wallet/config/config.hpp"
#include "wallet/config/schema.hpp"

namespace wallet::config {

// A value, or why there is none. The message names the problem only; the caller adds which
// setting and which source.
struct parsed {
  std::optional<value> ok;
  std::string error;
};

// Decimal digits with an optional leading '-': no '+', spaces, leading zeros, separators,
// fractions or exponents; must fit in 64 bits.
parsed parse_integer(std::string_view text);
// Exactly "true" or "false".
parsed parse_boolean(std::string_view text);
// Parses `text` as a value of `s` (environment and flags) and checks it against its bounds.
parsed parse_value(const setting& s, std::string_view text);
// Checks a value of the right type against the setting's bounds (range, length, words, schemes).
// Returns an empty string if it is within them.
std::string check_bounds(const setting& s, const value& v);

// The value as shown to people: secrets as "***", URLs with their password replaced by "***".
std::string render(const setting& s, const value& v);
// Replaces the password of every URL in `text` (`user:password@` and `password=...`) by "***".
// Errs on the side of hiding too much.
std::string redact_url(std::string_view text);

// `store.batch_size_max` ↔ `WALLETD_STORE__BATCH_SIZE_MAX`: upper case, '.' → "__".
std::string environment_name(std::string_view setting_name);
inline constexpr std::string_view environment_prefix = "WALLETD_";
// The environment variable naming the configuration file.
inline constexpr std::string_view environment_config_file = "WALLETD_CONFIG";

// The candidate nearest to `word` by edit distance, if it is near enough to be a likely typo.
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates);

}  // namespace wallet::config
