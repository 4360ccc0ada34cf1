// AML screening inside walletd (ADR 0007, docs/compliance.md): reads the aml.* settings, builds
// the provider (rules or HTTP) with its metrics and log lines, and installs it in the runtime.
#pragma once

#include <memory>

#include "wallet/actors/compliance.hpp"
#include "wallet/config/config.hpp"
#include "wallet/logging/log.hpp"
#include "wallet/metrics/metrics.hpp"

namespace wallet::app {

class screening_host {
 public:
  screening_host(const config::config& cfg, logging::logger log,
                 std::shared_ptr<metrics::registry> metrics);

  // Reads and checks the settings and builds the provider; false (logged) on a bad value: a
  // configuration mistake that stops walletd.
  bool load();
  // Hands the screening to the runtime; it screens while the aml_screening flag is on.
  void install(actors::compliance_controls& target) const;

 private:
  const config::config& cfg_;
  logging::logger log_;
  std::shared_ptr<metrics::registry> metrics_;
  std::shared_ptr<const actors::screening_setup> setup_;
};

}  // namespace wallet::app
