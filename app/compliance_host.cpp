// Loading and reloading the policy and flags files, with a log line and a metric for each result.
#include "compliance_host.hpp"

#include <openssl/evp.h>

#include <pqxx/pqxx>

#include "wallet/compliance/files.hpp"
#include "wallet/engine/assert.hpp"
#include "wallet/postgres/audit.hpp"

namespace wallet::app {
namespace {

constexpr std::string_view policy_name = "policy";
constexpr std::string_view flags_name = "flags";
constexpr std::size_t policy_kind = 0;
constexpr std::size_t flags_kind = 1;

std::string_view kind_name(std::size_t kind) {
  return kind == policy_kind ? policy_name : flags_name;
}

// Lower-case hex SHA-256 of `text` ("" if OpenSSL fails, which it does not for SHA-256).
std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  static constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(hex[digest[i] >> 4U]);
    out.push_back(hex[digest[i] & 0x0fU]);
  }
  return out;
}

}  // namespace

struct compliance_host::audit_connection {
  pqxx::connection conn;
  explicit audit_connection(const std::string& conninfo) : conn(conninfo) {}
};

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
      loaded_text(policy_kind, text);
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
      loaded_text(flags_kind, text);
      target_->set_flags(std::make_shared<const engine::feature_flags>(std::move(f).value()));
      return std::nullopt;
    });
  }
  // At start-up a configured file must load: serving with other controls than the configured ones
  // (say, no limits because of a typo) is worse than not starting.
  bool ok = true;
  for (const auto& [reloader, name] :
       {std::pair{&policy_, policy_name}, std::pair{&flags_, flags_name}}) {
    if (!*reloader) continue;
    const auto r = (*reloader)->poll();
    report(**reloader, name, r);
    ok = ok && r.what == compliance::file_reloader::result::loaded;
  }
  return ok;
}

void compliance_host::start_watching(actors::compliance_controls& target,
                                     std::string audit_conninfo) {
  WALLET_ASSERT(!watcher_.joinable());
  target.set_policy(loaded_.policy());
  target.set_flags(loaded_.flags());
  target_ = &target;
  audit_conninfo_ = std::move(audit_conninfo);
  // The files in force at the start are recorded too: a reload whose record was lost (walletd
  // stopped before the database took it) is bounded by the next start's.
  for (const auto& [kind, reloader] : {std::pair{policy_kind, &policy_}, {flags_kind, &flags_}}) {
    if (!*reloader || digests_[kind].empty() || audit_conninfo_.empty()) continue;
    audit_pending_.push_back(
        actors::audit_entry{"system:start-up",
                            std::string(kind_name(kind)) + "_loaded",
                            std::string(kind_name(kind)),
                            "walletd started with this file",
                            "",
                            {{"file", (*reloader)->path()}, {"digest", digests_[kind]}}});
  }
  write_audit();
  watching_ = true;
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
  write_audit();
}

void compliance_host::loaded_text(std::size_t kind, std::string_view text) {
  std::string digest = sha256_hex(text);
  if (watching_ && !audit_conninfo_.empty()) {
    const auto& reloader = kind == policy_kind ? policy_ : flags_;
    if (audit_pending_.size() >= audit_pending_max) {
      log_.error("audit record of a compliance file reload dropped: too many wait for the database",
                 {{"action", audit_pending_.front().action}});
      audit_pending_.pop_front();
    }
    audit_pending_.push_back(
        actors::audit_entry{"system:file-reload",
                            std::string(kind_name(kind)) + "_reloaded",
                            std::string(kind_name(kind)),
                            "the file changed on disk and was loaded",
                            "",
                            {{"file", reloader ? reloader->path() : std::string{}},
                             {"old_digest", digests_[kind]},
                             {"new_digest", digest}}});
  }
  digests_[kind] = std::move(digest);
}

void compliance_host::write_audit() {
  while (!audit_pending_.empty()) {
    try {
      if (!audit_db_ || !audit_db_->conn.is_open()) {
        audit_db_ = std::make_unique<audit_connection>(audit_conninfo_);
      }
    } catch (const std::exception&) {
      audit_db_.reset();
      metrics_.audit_write_failed();
      log_.error("cannot connect to write a compliance audit record; retried at the next poll",
                 {{"waiting", audit_pending_.size()}});
      return;
    }
    const auto written = postgres::append_audit(audit_db_->conn, audit_pending_.front());
    if (!written) {
      metrics_.audit_write_failed();
      const bool retry = written.error().code == postgres::errc::unavailable;
      log_.error(retry ? "compliance audit record not written; retried at the next poll"
                       : "compliance audit record refused by the database; dropped",
                 {{"action", audit_pending_.front().action},
                  {"detail", written.error().detail},
                  {"waiting", audit_pending_.size()}});
      if (!retry) {
        audit_pending_.pop_front();  // a refused record is refused again: never retry it
        continue;
      }
      audit_db_.reset();
      return;
    }
    log_.info("compliance audit record written",
              {{"action", audit_pending_.front().action}, {"audit_id", written.value()}});
    audit_pending_.pop_front();
  }
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
