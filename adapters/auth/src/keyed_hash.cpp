// The process's SipHash key for the sharded maps (keyed_hash.hpp).
#include "wallet/auth/keyed_hash.hpp"

#include <random>

namespace wallet::auth::detail {

hash_key process_hash_key() {
  static const hash_key key = [] {
    std::random_device entropy;
    const auto draw = [&] {
      return (static_cast<std::uint64_t>(entropy()) << 32U) | static_cast<std::uint64_t>(entropy());
    };
    return hash_key{draw(), draw()};
  }();
  return key;
}

}  // namespace wallet::auth::detail
