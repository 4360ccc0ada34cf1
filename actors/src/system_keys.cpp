// Idempotency keys of the engine's own commands.
#include "wallet/actors/system_keys.hpp"

namespace wallet::actors {

std::string credit_key(std::string_view source, std::string_view transfer_id) {
  std::string key{system_key_prefix};
  key.append("credit:").append(std::to_string(source.size())).append(":");
  key.append(source).append(":").append(transfer_id);
  return key;
}

std::string reversal_key(std::string_view transfer_id) {
  std::string key{system_key_prefix};
  key.append("reversal:").append(transfer_id);
  return key;
}

std::string expiry_key(std::string_view hold_id, engine::timestamp expires_at) {
  std::string key{system_key_prefix};
  key.append("expire:").append(hold_id).append(":");
  key.append(std::to_string(expires_at.time_since_epoch().count()));
  return key;
}

}  // namespace wallet::actors
