// The effective configuration: one value per setting of the schema, and where each came from.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "wallet/config/schema.hpp"

namespace wallet::config {

// integer → int64_t, boolean → bool, text, choice and url → std::string.
using value = std::variant<std::int64_t, bool, std::string>;

// Where a value came from, in increasing precedence.
enum class source : std::uint8_t { default_value, file, environment, flag };

struct origin {
  source from = source::default_value;
  std::string where;  // the file's path, the environment variable or the flag; empty for defaults

  friend bool operator==(const origin&, const origin&) = default;
};

// "default", "file /etc/walletd.json", "environment WALLETD_HTTP__PORT", "flag --http.port".
std::string describe(const origin& o);

class config {
 public:
  // Every setting at its default.
  config();

  [[nodiscard]] std::int64_t integer(integer_key k) const;
  [[nodiscard]] bool boolean(boolean_key k) const;
  [[nodiscard]] const std::string& text(text_key k) const;
  [[nodiscard]] std::chrono::microseconds duration(duration_key k) const;
  [[nodiscard]] const origin& origin_of(any_key k) const { return origins_[k.index]; }

  // By index into `settings`, for code that walks the whole schema.
  [[nodiscard]] const value& at(std::size_t index) const { return values_[index]; }
  [[nodiscard]] const origin& origin_at(std::size_t index) const { return origins_[index]; }
  // Replaces a value. The value must have the setting's type (a programmer error otherwise);
  // its bounds are checked by validate(), not here.
  void set(std::size_t index, value v, origin from);

  // Equal values from equal origins.
  friend bool operator==(const config&, const config&) = default;

 private:
  std::vector<value> values_;
  std::vector<origin> origins_;
};

// Every bound and relation of the schema that `cfg` breaks, one precise message each; empty if
// none. load() runs it; code that builds a config by hand can too.
std::vector<std::string> validate(const config& cfg);

}  // namespace wallet::config
