// The swappable policy and flags.
#include "wallet/actors/compliance.hpp"

#include "wallet/engine/assert.hpp"

namespace wallet::actors {

compliance_controls::compliance_controls()
    : policy_(std::make_shared<const engine::policy>(engine::policy::unlimited())),
      flags_(std::make_shared<const engine::feature_flags>()) {}

void compliance_controls::set_policy(std::shared_ptr<const engine::policy> p) {
  WALLET_ASSERT(p != nullptr);
  policy_.store(std::move(p), std::memory_order_release);
}

void compliance_controls::set_flags(std::shared_ptr<const engine::feature_flags> f) {
  WALLET_ASSERT(f != nullptr);
  flags_.store(std::move(f), std::memory_order_release);
}

void compliance_controls::set_screening(std::shared_ptr<const screening_setup> s) {
  screening_.store(std::move(s), std::memory_order_release);
}

}  // namespace wallet::actors
