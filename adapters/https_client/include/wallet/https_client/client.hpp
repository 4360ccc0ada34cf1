// A one-shot HTTP/1.1 client (Boost.Beast over Asio, TLS 1.2 or later through OpenSSL with the peer
// verified) bounded by one deadline: the transport of the JWKS fetch and the screening provider.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wallet/engine/result.hpp"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace wallet::https_client {

// Where to send: parsed once from the configured URL.
struct target {
  bool tls = true;
  std::string host;         // name or address, IPv6 without brackets
  std::string port;         // service for the resolver
  std::string host_header;  // host[:port] as written in the URL
  std::string path;         // path and query
};

// https:// anywhere, http:// only for a loopback host (keys and verdicts must not travel in
// clear text), no user or password in the URL (it would be a secret in the configuration and in
// every log line). The error names `setting`.
[[nodiscard]] engine::result<target, std::string> parse_target(const std::string& url,
                                                               std::string_view setting);

// TLS settings for https targets: the peer's certificate verified against the system's trust
// store, or `ca_file` (PEM) when not empty; TLS 1.2 or later. The error names `setting` (the CA
// file's).
[[nodiscard]] engine::result<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_tls_context(const std::string& ca_file, std::string_view setting);

// Largest reply header block accepted.
inline constexpr std::uint32_t reply_header_bytes_max = 16'384;

enum class method { get, post };

struct request {
  method verb = method::get;
  std::string accept;                 // the Accept header
  std::string content_type;           // the body's (post)
  std::string body;                   // post only
  std::uint64_t reply_bytes_max = 0;  // required: a larger reply body fails the call
};

struct reply {
  unsigned status = 0;  // 0: no reply (`error` says why)
  std::string body;
  std::string error;  // one line: the stage that failed and why
};

// Sends `r` to `t` and reads the reply, all within `timeout` (resolve, connect, TLS handshake,
// request, response) on an io_context of its own: the call blocks its thread, no longer than
// that. Redirects are not followed. `tls` is required for an https target.
[[nodiscard]] reply call(const target& t, const request& r, boost::asio::ssl::context* tls,
                         std::chrono::milliseconds timeout);

}  // namespace wallet::https_client
