// The key-set cache: a copy-on-write pointer to the last good set, and serialised, rate-limited
// fetches that replace it.
#include "wallet/auth/jwks_cache.hpp"

#include <utility>

namespace wallet::auth {

jwks_cache::jwks_cache(jwks_fetch fetch, std::string source, std::chrono::seconds refresh,
                       std::chrono::seconds refresh_min, logging::logger log,
                       std::shared_ptr<auth_probe> probe)
    : fetch_(std::move(fetch)),
      source_(std::move(source)),
      refresh_(refresh),
      refresh_min_(refresh_min),
      log_(std::move(log)),
      probe_(probe ? std::move(probe) : std::make_shared<auth_probe>()) {}

bool jwks_cache::refresh(time_point now) {
  const std::lock_guard lock(fetch_mutex_);
  return fetch_locked(now);
}

bool jwks_cache::refresh_if_due(time_point now) {
  const std::lock_guard lock(fetch_mutex_);
  if (last_attempt_ && now < *last_attempt_ + (last_failed_ ? refresh_min_ : refresh_)) {
    return false;
  }
  return fetch_locked(now);
}

jwks_cache::time_point jwks_cache::next_due() const {
  const std::lock_guard lock(fetch_mutex_);
  if (!last_attempt_) return time_point{};
  return *last_attempt_ + (last_failed_ ? refresh_min_ : refresh_);
}

std::shared_ptr<const key_set> jwks_cache::current() const {
  const std::lock_guard lock(set_mutex_);
  return set_;
}

engine::result<std::shared_ptr<const public_key>, auth_errc> jwks_cache::lookup(
    std::string_view kid, key_type type) const {
  const std::shared_ptr<const key_set> set = current();
  if (!set) return auth_errc::keys_unavailable;
  const public_key* key = set->find(kid, type);
  if (key == nullptr) return auth_errc::unknown_key;
  // Shares ownership of the whole set: the key outlives a refresh that replaces it.
  return std::shared_ptr<const public_key>(set, key);
}

engine::result<std::shared_ptr<const public_key>, auth_errc> jwks_cache::find(std::string_view kid,
                                                                              key_type type,
                                                                              time_point now) {
  auto found = lookup(kid, type);
  if (found) return found;
  // Never wait behind another fetch: a request thread that waited could be held for the whole
  // fetch timeout, and a flood of made-up kids would hold them all.
  const std::unique_lock lock(fetch_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return lookup(kid, type);
  found = lookup(kid, type);  // another thread may have installed a new set meanwhile
  if (found) return found;
  if (last_attempt_ && now < *last_attempt_ + refresh_min_) {
    probe_->keys_refresh_throttled();
    log_.debug("JWKS not fetched for an unknown kid: the last fetch was too recent",
               {{"source", source_}, {"refresh_min_s", refresh_min_.count()}});
    return found;
  }
  log_.info("JWKS fetched again: a token names a key the set does not hold", {{"source", source_}});
  fetch_locked(now);
  return lookup(kid, type);
}

bool jwks_cache::fetch_locked(time_point now) {
  last_attempt_ = now;
  last_failed_ = true;
  const std::shared_ptr<const key_set> previous = current();
  const auto fail = [&](std::string_view stage, const std::string& why) {
    probe_->keys_refresh_failed();
    log_.error(previous ? "JWKS refresh failed; the previous key set stays in use"
                        : "JWKS could not be loaded; tokens are refused until it is",
               {{"source", source_},
                {"stage", stage},
                {"error", why},
                {"keys_in_use", previous ? previous->keys.size() : std::size_t{0}}});
    return false;
  };
  auto text = fetch_();
  if (!text) return fail("fetch", text.error().message);
  if (previous && text.value() == document_) {
    // The usual case of a periodic refresh: keep the set, and the tokens verified with it.
    last_failed_ = false;
    probe_->keys_loaded(previous->keys.size());
    log_.debug("JWKS unchanged", {{"source", source_}});
    return false;
  }
  auto parsed = parse_jwks(text.value());
  if (!parsed) return fail("parse", parsed.error());
  for (const std::string& why : parsed.value().skipped) {
    log_.warn("JWKS key skipped", {{"source", source_}, {"why", why}});
  }
  auto next = std::make_shared<const key_set>(std::move(parsed).value().set);
  const std::size_t keys = next->keys.size();
  {
    const std::lock_guard lock(set_mutex_);
    set_ = std::move(next);
  }
  ++generation_;
  document_ = std::move(text).value();
  last_failed_ = false;
  probe_->keys_loaded(keys);
  log_.info("JWKS loaded", {{"source", source_}, {"keys", keys}});
  return true;
}

}  // namespace wallet::auth
