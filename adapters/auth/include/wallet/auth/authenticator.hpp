// The authenticators walletd builds from its settings: JWT bearer tokens verified against a cached
// JWK Set (the default), or — for development only — none at all.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "wallet/auth/auth.hpp"
#include "wallet/auth/jwks_cache.hpp"
#include "wallet/auth/jwt.hpp"
#include "wallet/auth/probe.hpp"
#include "wallet/auth/settings.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/logging/log.hpp"

namespace wallet::auth {

// Verifies bearer tokens (verify_jws) with keys from a jwks_cache, remembering the tokens it
// accepted. authenticate() never waits for another thread's fetch; it fetches itself only when a
// token names an unknown key and the cache allows it (at most once per jwks_refresh_min, bounded
// by jwks_fetch_timeout).
class jwt_authenticator final : public authenticator {
 public:
  // Loads the key set once, here; a failure is logged and retried (see jwks_cache). `clock`
  // schedules the key set's fetches (empty: steady_clock::now).
  jwt_authenticator(jwt_settings settings, jwks_fetch fetch, std::string source,
                    logging::logger log, std::shared_ptr<auth_probe> probe,
                    monotonic_clock clock = {});
  ~jwt_authenticator() override;
  jwt_authenticator(const jwt_authenticator&) = delete;
  jwt_authenticator& operator=(const jwt_authenticator&) = delete;
  jwt_authenticator(jwt_authenticator&&) = delete;
  jwt_authenticator& operator=(jwt_authenticator&&) = delete;

  [[nodiscard]] engine::result<principal, auth_errc> authenticate(
      std::string_view authorization, std::chrono::system_clock::time_point now) override;

  // Starts a thread that refreshes the key set when due (by the monotonic clock); the destructor
  // stops it.
  void start_refresher();

  [[nodiscard]] jwks_cache& keys() noexcept { return keys_; }
  // Tokens in the verified-token cache now (at most settings.token_cache_max).
  [[nodiscard]] std::size_t cached_tokens() const;

  struct token_cache;  // defined in authenticator.cpp

 private:
  engine::result<principal, auth_errc> refuse(const rejection& r);

  jwt_settings settings_;
  logging::logger log_;
  std::shared_ptr<auth_probe> probe_;
  monotonic_clock clock_;
  jwks_cache keys_;
  std::unique_ptr<token_cache> tokens_;  // null when settings.token_cache_max is 0
  std::jthread refresher_;
};

// The subject every request has when authentication is off.
inline constexpr const char* development_subject = "development";

// auth.mode = jwt: a jwt_authenticator over auth.jwks_file or auth.jwks_url (exactly one), with
// its refresher running. auth.mode = off: make_development_authenticator. An error (one line,
// naming the setting) when the settings are unusable: no issuer or audience, no key source or
// both, a URL that is not https (or http to a loopback host), a trust-anchor file that cannot be
// loaded, or a key file that cannot be loaded now.
// `clock`: as jwt_authenticator's.
[[nodiscard]] engine::result<std::unique_ptr<authenticator>, std::string> make_authenticator(
    const jwt_settings& settings, const logging::logger& log,
    std::shared_ptr<auth_probe> probe = nullptr, monotonic_clock clock = {});

// Accepts every request, with or without a token, as `development_subject` with every role, and
// logs a warning saying so when it is made. Never for a deployment.
[[nodiscard]] std::unique_ptr<authenticator> make_development_authenticator(
    const logging::logger& log);

}  // namespace wallet::auth
