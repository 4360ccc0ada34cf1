// Fetching the key set: from a file, or with one HTTP GET through the shared one-shot client
// (wallet_https_client: TLS 1.2 or later, the peer verified), bounded by the fetch timeout.
#include <cerrno>
#include <fstream>
#include <memory>
#include <system_error>
#include <utility>

#include "wallet/auth/jwks_cache.hpp"
#include "wallet/https_client/client.hpp"

namespace wallet::auth {

jwks_fetch file_fetch(std::string path) {
  return [path = std::move(path)]() -> engine::result<std::string, fetch_error> {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return fetch_error{path + ": cannot be read: " + std::generic_category().message(errno)};
    }
    std::string text(jwks_bytes_max + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return fetch_error{path + ": cannot be read"};
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > jwks_bytes_max) {
      return fetch_error{path + ": larger than " + std::to_string(jwks_bytes_max) + " bytes"};
    }
    return text;
  };
}

engine::result<jwks_fetch, std::string> url_fetch(const std::string& url,
                                                  const std::string& ca_file,
                                                  std::chrono::milliseconds timeout) {
  auto t = https_client::parse_target(url, "auth.jwks_url");
  if (!t) return t.error();
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (t.value().tls) {
    auto ctx = https_client::make_tls_context(ca_file, "auth.jwks_ca_file");
    if (!ctx) return ctx.error();
    tls = std::move(ctx).value();
  }
  https_client::request get;
  get.accept = "application/jwk-set+json, application/json";
  get.reply_bytes_max = jwks_bytes_max;
  return jwks_fetch([t = std::move(t).value(), get = std::move(get), tls,
                     timeout]() -> engine::result<std::string, fetch_error> {
    https_client::reply r = https_client::call(t, get, tls.get(), timeout);
    if (r.status == 0) return fetch_error{std::move(r.error)};
    if (r.status != 200) return fetch_error{"HTTP status " + std::to_string(r.status)};
    return std::move(r.body);
  });
}

}  // namespace wallet::auth
