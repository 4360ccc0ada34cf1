// A one-shot HTTP/1.1 POST of a JSON body (Boost.Beast over Asio, TLS through OpenSSL with the
// peer verified), bounded by one deadline: the screening provider's transport.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "wallet/engine/result.hpp"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace wallet::screening {

// Where to send: parsed once from the configured URL.
struct http_target {
  bool tls = true;
  std::string host;         // name or address, IPv6 without brackets
  std::string port;         // service for the resolver
  std::string host_header;  // host[:port] as written in the URL
  std::string path;         // path and query
};

// https:// anywhere, http:// only for a loopback host (a verdict must not travel in clear
// text), no user or password in the URL. The error names `setting`.
[[nodiscard]] engine::result<http_target, std::string> parse_target(const std::string& url,
                                                                    std::string_view setting);

struct http_reply {
  unsigned status = 0;  // 0: no reply (`error` says why)
  std::string body;
  std::string error;  // one line: the stage that failed and why
};

// Largest response body accepted from a provider.
inline constexpr std::uint64_t reply_bytes_max = 65'536;

// TLS settings for https targets: the system's trust store, or `ca_file` when not empty.
[[nodiscard]] engine::result<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_tls_context(const std::string& ca_file);

// POSTs `body` (application/json) to `target` and reads the reply, all within `timeout`
// (resolve, connect, TLS handshake, request, response). `tls` is required for an https target.
[[nodiscard]] http_reply post_json(const http_target& target, const std::string& body,
                                   boost::asio::ssl::context* tls,
                                   std::chrono::milliseconds timeout);

}  // namespace wallet::screening
