// Loading and reloading the policy and flags files, with a log line and a metric for each result.
#include "compliance_host.hpp"

#include "wallet/compliance/files.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::app {
namespace {

constexpr std::string_view policy_name = "policy";
constexpr std::string_view flags_name = "flags";

}  // namespace

compliance_host::compliance_host(const config::config& cfg, logging::logger log,
                                 std::shared_ptr<metrics::registry> metrics)
    : cfg_(cfg), log_(std::move(log)), metrics_(std::move(metrics)) {}

compliance_host::~compliance_host() { stop(); }

bool compliance_host::load() {
  const std::string& policy_file = cfg_.text("compliance.policy_file");
  const std::string& flags_file = cfg_.text("compliance.flags_file");
  if (policy_file.empty()) {
    // A default that refused money would stop every wallet (all start at level none) on an
    // upgrade; so no limits, said where an operator looks.
    log_.warn("no KYC policy file (compliance.policy_file): no KYC limits at any level",
              {{"see", "docs/compliance.md"}});
  } else {
    policy_.emplace(policy_file, [this](std::string_view text) -> std::optional<std::string> {
      auto p = compliance::parse_policy(text);
      if (!p) return p.error();
      log_.info("KYC policy loaded", {{"file", cfg_.text("compliance.policy_file")},
                                      {"fallbacks", compliance::describe(p.value())}});
      target_->set_policy(std::make_shared<const engine::policy>(std::move(p).value()));
      return std::nullopt;
    });
  }
  if (flags_file.empty()) {
    log_.info("no feature flags file (compliance.flags_file): every feature on",
              {{"flags", compliance::describe(engine::feature_flags{})}});
  } else {
    flags_.emplace(flags_file, [this](std::string_view text) -> std::optional<std::string> {
      auto f = compliance::parse_flags(text);
      if (!f) return f.error();
      log_.info("feature flags loaded", {{"file", cfg_.text("compliance.flags_file")},
                                         {"flags", compliance::describe(f.value())}});
      target_->set_flags(std::make_shared<const engine::feature_flags>(std::move(f).value()));
      return std::nullopt;
    });
  }
  // At start-up a configured file must load: serving with other controls than the configured ones
  // (say, no limits because of a typo) is worse than not starting.
  bool ok = true;
  for (auto& [reloader, name] :
       {std::pair{&policy_, policy_name}, std::pair{&flags_, flags_name}}) {
    if (!*reloader) continue;
    const auto r = (*reloader)->poll();
    report(**reloader, name, r);
    ok = ok && r.what == compliance::file_reloader::result::loaded;
  }
  return ok;
}

void compliance_host::start_watching(actors::compliance_controls& target) {
  WALLET_ASSERT(!watcher_.joinable());
  target.set_policy(loaded_.policy());
  target.set_flags(loaded_.flags());
  target_ = &target;
  if (!policy_ && !flags_) return;
  watcher_ = std::thread{[this] {
    const auto interval = std::chrono::milliseconds{cfg_.integer("compliance.reload_poll_ms")};
    std::unique_lock lock{mutex_};
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      poll_all();
      lock.lock();
    }
  }};
}

void compliance_host::stop() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void compliance_host::poll_all() {
  if (policy_) report(*policy_, policy_name, policy_->poll());
  if (flags_) report(*flags_, flags_name, flags_->poll());
}

void compliance_host::report(const compliance::file_reloader& r, std::string_view file,
                             const compliance::file_reloader::report& what) {
  switch (what.what) {
    case compliance::file_reloader::result::unchanged:
      return;
    case compliance::file_reloader::result::loaded:
      metrics_.reloaded(file, true);
      return;
    case compliance::file_reloader::result::refused:
      metrics_.reloaded(file, false);
      log_.error(
          "compliance file refused; the values loaded before stay in force (none at "
          "start-up: walletd does not start)",
          {{"file", r.path()}, {"kind", file}, {"detail", what.detail}});
      return;
  }
}

}  // namespace wallet::app
