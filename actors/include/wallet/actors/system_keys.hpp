// Idempotency keys of the engine's own commands. They start with system_key_prefix, which clients
// may not use, and carry lengths so that no two different legs can share a key.
#pragma once

#include <string>
#include <string_view>

#include "wallet/actors/outcome.hpp"
#include "wallet/engine/time.hpp"

namespace wallet::actors {

// The credit leg of transfer `transfer_id` from `source`, on the destination wallet.
[[nodiscard]] std::string credit_key(std::string_view source, std::string_view transfer_id);
// The compensation of transfer `transfer_id`, on its source wallet.
[[nodiscard]] std::string reversal_key(std::string_view transfer_id);
// The expiry of hold `hold_id` placed with this expiry time.
[[nodiscard]] std::string expiry_key(std::string_view hold_id, engine::timestamp expires_at);

[[nodiscard]] inline bool is_system_key(std::string_view key) noexcept {
  return key.starts_with(system_key_prefix);
}

}  // namespace wallet::actors
