// The runtime's remote_submit port inside walletd, bound late: the runtime starts before the NATS
// interface and stops after it. While nothing is bound, a leg is answered `unavailable` and its
// saga retries it (the transfer stays pending, never lost).
#pragma once

#include <memory>
#include <mutex>

#include "wallet/actors/runtime.hpp"

namespace wallet::app {

class remote_legs {
 public:
  void bind(actors::runtime::remote_submit target) {
    const std::lock_guard lock{mutex_};
    target_ = std::make_shared<const actors::runtime::remote_submit>(std::move(target));
  }
  void unbind() {
    const std::lock_guard lock{mutex_};
    target_.reset();
  }
  void operator()(engine::command cmd, actors::completion done) const {
    std::shared_ptr<const actors::runtime::remote_submit> target;
    {
      const std::lock_guard lock{mutex_};
      target = target_;
    }
    if (!target) {
      done(actors::refused(actors::submit_errc::unavailable));
      return;
    }
    (*target)(std::move(cmd), std::move(done));
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const actors::runtime::remote_submit> target_;
};

}  // namespace wallet::app
