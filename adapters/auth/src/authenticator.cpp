// The JWT authenticator (verify_token over a jwks_cache, with a background refresher), the
// development authenticator, and the factory that picks one from the settings.
#include "wallet/auth/authenticator.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "openssl.hpp"
#include "sharded_lru.hpp"
#include "wallet/auth/jwt.hpp"

namespace wallet::auth {

std::string_view to_string(auth_errc e) noexcept {
  switch (e) {
    case auth_errc::missing:
      return "missing";
    case auth_errc::malformed:
      return "malformed";
    case auth_errc::unsupported_algorithm:
      return "unsupported_algorithm";
    case auth_errc::unknown_key:
      return "unknown_key";
    case auth_errc::bad_signature:
      return "bad_signature";
    case auth_errc::expired:
      return "expired";
    case auth_errc::not_yet_valid:
      return "not_yet_valid";
    case auth_errc::wrong_issuer:
      return "wrong_issuer";
    case auth_errc::wrong_audience:
      return "wrong_audience";
    case auth_errc::keys_unavailable:
      return "keys_unavailable";
  }
  return "unknown";
}

namespace {

// What the verified-token cache remembers of a token: the principal, its times (checked again at
// every use) and the key-set generation it was verified under.
struct cached_token {
  principal who;
  token_times times;
  std::uint64_t generation = 0;
};

// Shards of the verified-token cache (as the rate limiter's).
constexpr std::size_t token_cache_shards = 16;

// SHA-256, fetched from the provider once: a fetch per request (as EVP_Q_digest does) takes
// OpenSSL's name-map locks on every authenticated request. Never freed: it lives as the process.
const EVP_MD* sha256() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// The cache key: a token's SHA-256, so that the cache holds 32 bytes per token whatever its size.
// Empty when OpenSSL fails: the token is then verified without the cache.
std::string digest_of(std::string_view token) {
  const EVP_MD* md = sha256();
  if (md == nullptr) {
    ERR_clear_error();
    return {};
  }
  std::string digest(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
  unsigned int size = 0;
  if (EVP_Digest(token.data(), token.size(), ossl::bytes(digest), &size, md, nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  digest.resize(size);
  return digest;
}

}  // namespace

struct jwt_authenticator::token_cache {
  detail::sharded_lru<cached_token> lru;
};

jwt_authenticator::jwt_authenticator(jwt_settings settings, jwks_fetch fetch, std::string source,
                                     logging::logger log, std::shared_ptr<auth_probe> probe,
                                     monotonic_clock clock)
    : settings_(std::move(settings)),
      log_(std::move(log)),
      probe_(probe ? std::move(probe) : std::make_shared<auth_probe>()),
      clock_(clock ? std::move(clock) : monotonic_clock(&std::chrono::steady_clock::now)),
      keys_(std::move(fetch), std::move(source), settings_.jwks_refresh, settings_.jwks_refresh_min,
            log_, probe_) {
  if (settings_.token_cache_max > 0) {
    tokens_ =
        std::make_unique<token_cache>(token_cache{{settings_.token_cache_max, token_cache_shards}});
  }
  keys_.refresh(clock_());
}

jwt_authenticator::~jwt_authenticator() {
  // Joins here, before keys_ is destroyed: the thread uses it.
  refresher_.request_stop();
  if (refresher_.joinable()) refresher_.join();
}

engine::result<principal, auth_errc> jwt_authenticator::refuse(const rejection& r) {
  probe_->rejected(r.code);
  // Debug only: the HTTP adapter's request line already says 401 and why (to_string); this
  // detail is for diagnosing an issuer's tokens, and never holds the token or its subject.
  log_.debug("token refused", {{"code", to_string(r.code)}, {"detail", r.detail}});
  return r.code;
}

engine::result<principal, auth_errc> jwt_authenticator::authenticate(
    std::string_view authorization, std::chrono::system_clock::time_point now) {
  const auto token = bearer_token(authorization);
  if (!token) return refuse(token.error());
  // Read before verifying: a set installed meanwhile makes the entry stale, never the reverse.
  const std::uint64_t generation = keys_.generation();
  const std::string digest = tokens_ ? digest_of(token.value()) : std::string();
  if (!digest.empty()) {
    auto hit = tokens_->lru.find(digest, [&](const cached_token* c) {
      return c != nullptr && c->generation == generation ? std::optional<cached_token>(*c)
                                                         : std::nullopt;
    });
    if (hit) {
      if (auto refused = check_times(hit->times, settings_.leeway, now)) return refuse(*refused);
      probe_->accepted();
      return std::move(hit->who);
    }
  }
  const key_lookup lookup = [&](std::string_view kid, key_type type) {
    return keys_.find(kid, type, clock_());
  };
  auto verified = verify_jws(token.value(), settings_, lookup, now);
  if (!verified) return refuse(verified.error());
  if (!digest.empty()) {
    cached_token entry{verified.value().who, verified.value().times, generation};
    tokens_->lru.with(
        digest, [&] { return entry; }, [&](cached_token& c) { c = entry; });
  }
  probe_->accepted();
  return std::move(verified).value().who;
}

std::size_t jwt_authenticator::cached_tokens() const { return tokens_ ? tokens_->lru.size() : 0; }

void jwt_authenticator::start_refresher() {
  if (refresher_.joinable()) return;
  refresher_ = std::jthread([this](const std::stop_token& stop) {
    std::mutex m;
    std::condition_variable_any wake;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
      // Wake at the next due time, but at least every refresh_min (so that a test's clock, or a
      // due time moved by a fetch on another thread, is looked at again soon).
      const auto now = clock_();
      constexpr std::chrono::seconds tick_min{1};
      const auto wait =
          std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(keys_.next_due() - now),
                     std::chrono::milliseconds{tick_min},
                     std::chrono::milliseconds{std::max(tick_min, settings_.jwks_refresh_min)});
      wake.wait_for(lock, stop, wait, [] { return false; });
      if (stop.stop_requested()) break;
      keys_.refresh_if_due(clock_());
    }
  });
}

namespace {

class development_authenticator final : public authenticator {
 public:
  engine::result<principal, auth_errc> authenticate(
      std::string_view /*authorization*/, std::chrono::system_clock::time_point /*now*/) override {
    return principal{development_subject,
                     static_cast<std::uint8_t>(static_cast<unsigned>(role::read) |
                                               static_cast<unsigned>(role::write) |
                                               static_cast<unsigned>(role::admin) |
                                               static_cast<unsigned>(role::service))};
  }
};

std::optional<std::string> check(const jwt_settings& s) {
  if (s.issuer.empty()) return "auth.issuer must be set when auth.mode is jwt";
  if (s.audience.empty()) return "auth.audience must be set when auth.mode is jwt";
  if (s.jwks_file.empty() == s.jwks_url.empty()) {
    return "exactly one of auth.jwks_file and auth.jwks_url must be set when auth.mode is jwt";
  }
  if (s.roles_claim.empty()) return "auth.roles_claim must not be empty";
  if (s.jwks_refresh_min > s.jwks_refresh) {
    return "auth.jwks_refresh_min_s must not exceed auth.jwks_refresh_s";
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<authenticator> make_development_authenticator(const logging::logger& log) {
  log.warn(
      "AUTHENTICATION IS OFF (auth.mode = off): every request acts as the development principal "
      "with every role, on every owner's wallets. For development only: never expose this "
      "instance to anyone.",
      {{"subject", development_subject}});
  return std::make_unique<development_authenticator>();
}

engine::result<std::unique_ptr<authenticator>, std::string> make_authenticator(
    const jwt_settings& settings, const logging::logger& log, std::shared_ptr<auth_probe> probe,
    monotonic_clock clock) {
  if (settings.mode == auth_mode::off) return make_development_authenticator(log);
  if (auto problem = check(settings)) return std::move(*problem);
  jwks_fetch fetch;
  std::string source;
  if (!settings.jwks_file.empty()) {
    fetch = file_fetch(settings.jwks_file);
    source = settings.jwks_file;
  } else {
    auto from_url =
        url_fetch(settings.jwks_url, settings.jwks_ca_file, settings.jwks_fetch_timeout);
    if (!from_url) return from_url.error();
    fetch = std::move(from_url).value();
    source = settings.jwks_url;
  }
  auto jwt = std::make_unique<jwt_authenticator>(settings, std::move(fetch), source, log,
                                                 std::move(probe), std::move(clock));
  // A key file is under the operator's control: failing to load it is a configuration error.
  // An issuer's URL may be briefly unreachable: keep trying, answering keys_unavailable.
  if (!settings.jwks_file.empty() && !jwt->keys().current()) {
    return "auth.jwks_file " + settings.jwks_file + " holds no usable key set (see the log)";
  }
  jwt->start_refresher();
  log.info("authentication: JWT bearer tokens",
           {{"issuer", settings.issuer}, {"audience", settings.audience}, {"jwks", source}});
  return std::unique_ptr<authenticator>(std::move(jwt));
}

}  // namespace wallet::auth
