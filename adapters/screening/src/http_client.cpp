// The POST client: one io_context per call, so a call owns its thread and its deadline.
#include "wallet/screening/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
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

namespace wallet::screening {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

constexpr std::uint32_t reply_header_bytes_max = 16'384;

http_reply failed(std::string_view stage, const error_code& ec) {
  return http_reply{0, {}, std::string(stage).append(": ").append(ec.message())};
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

template <class Stream>
asio::awaitable<http_reply> exchange(Stream& stream, const http_target& t,
                                     const std::string& body) {
  http::request<http::string_body> request{http::verb::post, t.path, 11};
  request.set(http::field::host, t.host_header);
  request.set(http::field::user_agent, "walletd");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::accept, "application/json");
  request.keep_alive(false);
  request.body() = body;
  request.prepare_payload();
  error_code ec;
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("send", ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(reply_header_bytes_max);
  parser.body_limit(reply_bytes_max);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("receive", ec);
  auto reply = parser.release();
  co_return http_reply{reply.result_int(), std::move(reply.body()), {}};
}

asio::awaitable<http_reply> post(const http_target& t, const std::string& body, ssl::context* tls,
                                 std::chrono::milliseconds timeout) {
  const auto executor = co_await asio::this_coro::executor;
  error_code ec;
  asio::ip::tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(
      t.host, t.port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("resolve", ec);
  beast::tcp_stream tcp(executor);
  tcp.expires_after(timeout);
  co_await tcp.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("connect", ec);
  if (!t.tls) {
    co_return co_await exchange(tcp, t, body);
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *tls);
  error_code address_ec;
  static_cast<void>(asio::ip::make_address(t.host, address_ec));
  // Server Name Indication for a name only (RFC 6066 §3).
  if (address_ec &&
      SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()) != 1) {  // NOLINT
    co_return http_reply{0, {}, "TLS: cannot set the server name"};
  }
  stream.set_verify_callback(ssl::host_name_verification(t.host));
  co_await stream.async_handshake(ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("TLS handshake", ec);
  co_return co_await exchange(stream, t, body);
}

}  // namespace

engine::result<http_target, std::string> parse_target(const std::string& url,
                                                      std::string_view setting) {
  const std::string name(setting);
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return name + " is not an absolute URL: " + parsed.error().message();
  const boost::urls::url_view& u = *parsed;
  if (u.scheme() != "https" && u.scheme() != "http") {
    return name + " must be https:// (http:// only for a loopback host)";
  }
  http_target t;
  t.tls = u.scheme() == "https";
  if (u.has_userinfo()) return name + " must not carry a user or password";
  t.host = u.host_address();
  if (t.host.empty()) return name + " has no host";
  if (!t.tls && !is_loopback(t.host)) {
    return name + ": plain http:// is allowed only for a loopback host";
  }
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.host_header = u.encoded_host_and_port();
  t.path = u.encoded_target().empty() ? "/" : std::string(u.encoded_target());
  return t;
}

engine::result<std::shared_ptr<ssl::context>, std::string> make_tls_context(
    const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  context->set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    if (ca_file.empty()) {
      context->set_default_verify_paths(ec);
    } else {
      context->load_verify_file(ca_file, ec);
    }
  }
  if (ec) return "TLS trust store: " + ec.message();
  return context;
}

http_reply post_json(const http_target& target, const std::string& body, ssl::context* tls,
                     std::chrono::milliseconds timeout) {
  if (target.tls && tls == nullptr) return http_reply{0, {}, "https needs a TLS context"};
  asio::io_context io;
  http_reply result{0, {}, "timed out after " + std::to_string(timeout.count()) + " ms"};
  asio::co_spawn(io, post(target, body, tls, timeout),
                 [&](const std::exception_ptr& e, http_reply r) {
                   result = e ? http_reply{0, {}, "the HTTP client failed"} : std::move(r);
                 });
  // The resolver is outside the stream's deadline: the io_context bounds everything.
  io.run_for(timeout);
  io.stop();
  return result;
}

}  // namespace wallet::screening
