// Where the key set comes from (a file, or the issuer's JWKS URL over HTTPS) and the cache that
// keeps the last good set, refreshes it on an interval and when a token names an unknown key.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "wallet/auth/auth.hpp"
#include "wallet/auth/jwks.hpp"
#include "wallet/auth/probe.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/logging/log.hpp"

namespace wallet::auth {

// Why a fetch failed: one line for the log.
struct fetch_error {
  std::string message;
};

// Fetches the JWK Set document: its text, or why not. Blocking; called by one thread at a time
// (the cache serialises fetches).
using jwks_fetch = std::function<engine::result<std::string, fetch_error>()>;

// Reads the file at `path` (at most jwks_bytes_max bytes).
[[nodiscard]] jwks_fetch file_fetch(std::string path);

// GETs `url`: https:// with the server's certificate verified against `ca_file` (PEM; empty: the
// system's trust store) and its host name checked; http:// only when the host is a loopback
// address or "localhost" (tests). Redirects are not followed; only 200 is a success. An error
// when the URL is not usable, or `ca_file` cannot be loaded.
[[nodiscard]] engine::result<jwks_fetch, std::string> url_fetch(const std::string& url,
                                                                const std::string& ca_file,
                                                                std::chrono::milliseconds timeout);

// The monotonic time of the cache's schedule (steady_clock::now in walletd; tests pass their own).
using monotonic_clock = std::function<std::chrono::steady_clock::time_point()>;

class jwks_cache {
 public:
  // Monotonic: a step of the wall clock (NTP, an operator) must neither postpone refreshes nor
  // lift the throttle on fetches for unknown kids. Token times are checked on the wall clock
  // elsewhere (check_times).
  using time_point = std::chrono::steady_clock::time_point;

  // `source` names the fetch in log lines (a path or URL). Nothing is fetched yet.
  jwks_cache(jwks_fetch fetch, std::string source, std::chrono::seconds refresh,
             std::chrono::seconds refresh_min, logging::logger log,
             std::shared_ptr<auth_probe> probe);

  // Fetches and installs a new set, waiting for a fetch in progress; on failure the current set
  // stays. True when a new set was installed.
  bool refresh(time_point now);
  // refresh() when due: `refresh` after the last attempt that succeeded, `refresh_min` after one
  // that failed (or when no attempt was made yet: at once).
  bool refresh_if_due(time_point now);
  // When refresh_if_due() will next fetch.
  [[nodiscard]] time_point next_due() const;

  // The key called `kid` (an empty kid: the only key of `type`). When the current set lacks it,
  // fetches once more first — unless another fetch is running or the last attempt was less than
  // `refresh_min` ago, so that tokens with made-up kids cannot make this host hammer the issuer.
  // Errors: unknown_key; keys_unavailable while no set was ever loaded.
  [[nodiscard]] engine::result<std::shared_ptr<const public_key>, auth_errc> find(
      std::string_view kid, key_type type, time_point now);

  // The installed set (null before the first successful fetch).
  [[nodiscard]] std::shared_ptr<const key_set> current() const;
  // Counts the sets installed: it changes exactly when the keys may have. A fetch that returns
  // the document already in use installs nothing.
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_.load(); }

 private:
  bool fetch_locked(time_point now);  // fetch_mutex_ held
  [[nodiscard]] engine::result<std::shared_ptr<const public_key>, auth_errc> lookup(
      std::string_view kid, key_type type) const;

  jwks_fetch fetch_;
  std::string source_;
  std::chrono::seconds refresh_;
  std::chrono::seconds refresh_min_;
  logging::logger log_;
  std::shared_ptr<auth_probe> probe_;

  mutable std::mutex set_mutex_;
  std::shared_ptr<const key_set> set_;  // replaced whole, never changed in place
  std::atomic<std::uint64_t> generation_{0};

  mutable std::mutex fetch_mutex_;  // one fetch at a time; guards the fields below
  std::optional<time_point> last_attempt_;
  bool last_failed_ = false;
  std::string document_;  // the text set_ was parsed from
};

}  // namespace wallet::auth
