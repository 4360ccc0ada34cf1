// Fetching the key set: from a file, or with one HTTP GET (Boost.Beast over Asio, TLS through
// OpenSSL with the peer verified) on a private io_context bounded by the fetch timeout.
#include <cerrno>
#include <fstream>
#include <memory>
#include <system_error>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "wallet/auth/jwks_cache.hpp"

namespace wallet::auth {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

// Largest response header block accepted from the issuer.
constexpr std::uint32_t response_header_bytes_max = 16'384;

struct target {
  bool tls = true;
  std::string host;         // name or address, IPv6 without brackets
  std::string port;         // service for the resolver
  std::string host_header;  // host[:port] as written in the URL
  std::string path;         // path and query
};

// The fetched document, or an error line (`error` not empty).
struct fetched {
  std::string body;
  std::string error;
};

fetched failed(std::string_view stage, const error_code& ec) {
  return fetched{{}, std::string(stage).append(": ").append(ec.message())};
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

engine::result<target, std::string> parse_target(const std::string& url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "auth.jwks_url is not an absolute URL: " + parsed.error().message();
  const boost::urls::url_view& u = *parsed;
  target t;
  if (u.scheme() != "https" && u.scheme() != "http") {
    return std::string("auth.jwks_url must be https:// (http:// only for a loopback host)");
  }
  t.tls = u.scheme() == "https";
  // Credentials in the URL would be a secret in the configuration, and in every log line.
  if (u.has_userinfo()) return std::string("auth.jwks_url must not carry a user or password");
  t.host = u.host_address();
  if (t.host.empty()) return std::string("auth.jwks_url has no host");
  if (!t.tls && !is_loopback(t.host)) {
    return std::string("auth.jwks_url: plain http:// is allowed only for a loopback host");
  }
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.host_header = u.encoded_host_and_port();
  t.path = u.encoded_target().empty() ? "/" : std::string(u.encoded_target());
  return t;
}

template <class Stream>
asio::awaitable<fetched> exchange(Stream& stream, const target& t) {
  http::request<http::empty_body> request{http::verb::get, t.path, 11};
  request.set(http::field::host, t.host_header);
  request.set(http::field::user_agent, "walletd");
  request.set(http::field::accept, "application/jwk-set+json, application/json");
  request.keep_alive(false);
  error_code ec;
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("send", ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(response_header_bytes_max);
  parser.body_limit(jwks_bytes_max);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("receive", ec);
  auto response = parser.release();
  if (response.result() != http::status::ok) {
    co_return fetched{{}, "HTTP status " + std::to_string(response.result_int())};
  }
  co_return fetched{std::move(response.body()), {}};
}

asio::awaitable<fetched> get(const target& t, ssl::context* tls,
                             std::chrono::milliseconds timeout) {
  const auto executor = co_await asio::this_coro::executor;
  error_code ec;
  asio::ip::tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(
      t.host, t.port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("resolve", ec);
  beast::tcp_stream tcp(executor);
  // One deadline for connecting, the handshake, the request and the response together.
  tcp.expires_after(timeout);
  co_await tcp.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("connect", ec);
  if (tls == nullptr) {
    co_return co_await exchange(tcp, t);
  }

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *tls);
  error_code address_ec;
  static_cast<void>(asio::ip::make_address(t.host, address_ec));
  // Server Name Indication for a name, never for an address (RFC 6066 §3).
  if (address_ec &&
      SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()) != 1) {  // NOLINT
    co_return fetched{{}, "TLS: cannot set the server name"};
  }
  stream.set_verify_callback(ssl::host_name_verification(t.host));
  co_await stream.async_handshake(ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("TLS handshake", ec);
  co_return co_await exchange(stream, t);
}

fetched run_get(const target& t, ssl::context* tls, std::chrono::milliseconds timeout) {
  asio::io_context io;
  fetched result{{}, "timed out after " + std::to_string(timeout.count()) + " ms"};
  bool done = false;
  asio::co_spawn(io, get(t, tls, timeout), [&](const std::exception_ptr& e, fetched f) {
    done = true;
    result = e ? fetched{{}, "the HTTP client failed"} : std::move(f);
  });
  // The resolver is outside the stream's deadline: the io_context bounds everything.
  io.run_for(timeout);
  if (!done) io.stop();
  return result;
}

engine::result<std::shared_ptr<ssl::context>, std::string> client_context(
    const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    if (ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(ca_file, ec);
    }
  }
  if (ec) return "auth.jwks_ca_file: cannot load trust anchors: " + ec.message();
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {  // NOLINT
    return std::string("TLS: cannot require TLS 1.2 or later");
  }
  return ctx;
}

}  // namespace

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
  auto t = parse_target(url);
  if (!t) return t.error();
  std::shared_ptr<ssl::context> tls;
  if (t.value().tls) {
    auto ctx = client_context(ca_file);
    if (!ctx) return ctx.error();
    tls = std::move(ctx).value();
  }
  return jwks_fetch(
      [t = std::move(t).value(), tls, timeout]() -> engine::result<std::string, fetch_error> {
        fetched f = run_get(t, tls.get(), timeout);
        if (!f.error.empty()) return fetch_error{std::move(f.error)};
        return std::move(f.body);
      });
}

}  // namespace wallet::auth
