// The compliance values every wallet decision reads: the KYC policy and the feature flags (ADR
// 0004). Each is swapped whole at run time; a decision sees the old value or the new one, never a
// mix. Free of CAF: app/ swaps them from its reloader thread.
#pragma once

#include <atomic>
#include <memory>

#include "wallet/actors/screening.hpp"
#include "wallet/engine/flags.hpp"
#include "wallet/engine/policy.hpp"

namespace wallet::actors {

class compliance_controls {
 public:
  // No limits at any level, every flag at its default: the behaviour before any file is loaded.
  compliance_controls();

  [[nodiscard]] std::shared_ptr<const engine::policy> policy() const noexcept {
    return policy_.load(std::memory_order_acquire);
  }
  [[nodiscard]] std::shared_ptr<const engine::feature_flags> flags() const noexcept {
    return flags_.load(std::memory_order_acquire);
  }
  // Decisions taken after the swap use the new value; those in progress finish with the old one.
  void set_policy(std::shared_ptr<const engine::policy> p);
  void set_flags(std::shared_ptr<const engine::feature_flags> f);

  // AML screening (ADR 0007): null (the default) screens nothing even with aml_screening on.
  [[nodiscard]] std::shared_ptr<const screening_setup> screening() const noexcept {
    return screening_.load(std::memory_order_acquire);
  }
  void set_screening(std::shared_ptr<const screening_setup> s);

 private:
  std::atomic<std::shared_ptr<const engine::policy>> policy_;
  std::atomic<std::shared_ptr<const engine::feature_flags>> flags_;
  std::atomic<std::shared_ptr<const screening_setup>> screening_;
};

}  // namespace wallet::actors
