// The one-shot client: one io_context per call, so a call owns its thread and its deadline.
#include "wallet/https_client/client.hpp"

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "wallet/engine/assert.hpp"

namespace wallet::https_client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

reply failed(std::string_view stage, const error_code& ec) {
  return reply{0, {}, std::string(stage).append(": ").append(ec.message())};
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

http::request<http::string_body> make_request(const target& t, const request& r) {
  http::request<http::string_body> out{r.verb == method::post ? http::verb::post : http::verb::get,
                                       t.path, 11};
  out.set(http::field::host, t.host_header);
  out.set(http::field::user_agent, "walletd");
  out.set(http::field::accept, r.accept);
  if (r.verb == method::post) {
    out.set(http::field::content_type, r.content_type);
    out.body() = r.body;
  }
  out.keep_alive(false);
  // Content-Length for a POST; none for a GET, which has no body.
  out.prepare_payload();
  return out;
}

// One call's state and its steps, each the completion handler of the one before: resolve,
// connect, TLS handshake (https), send, receive. Plain completion handlers rather than C++20
// coroutines: clang-analyzer reports a null dereference inside Boost.Asio's awaitable frame
// (impl/awaitable.hpp, Boost 1.81) for any co_await of a Beast operation.
class session {
 public:
  session(asio::io_context& io, const target& t, const request& r, ssl::context* tls,
          std::chrono::milliseconds timeout)
      : t_(t), tls_(tls), timeout_(timeout), resolver_(io), tcp_(io), out_(make_request(t, r)) {
    parser_.header_limit(reply_header_bytes_max);
    parser_.body_limit(r.reply_bytes_max);
  }

  void start() {
    resolver_.async_resolve(
        t_.host, t_.port,
        [this](const error_code& ec, const asio::ip::tcp::resolver::results_type& endpoints) {
          on_resolved(ec, endpoints);
        });
  }

  // The reply or why there is none; empty while the call is under way.
  [[nodiscard]] const std::optional<reply>& result() const { return result_; }

 private:
  void on_resolved(const error_code& ec, const asio::ip::tcp::resolver::results_type& endpoints) {
    if (ec) return finish(failed("resolve", ec));
    // One deadline for connecting, the handshake, the request and the reply together.
    tcp_.expires_after(timeout_);
    tcp_.async_connect(
        endpoints, [this](const error_code& connect_ec, const asio::ip::tcp::endpoint& /*peer*/) {
          on_connected(connect_ec);
        });
  }

  void on_connected(const error_code& ec) {
    if (ec) return finish(failed("connect", ec));
    if (!t_.tls) return send(tcp_);
    auto& stream = tls_stream_.emplace(std::move(tcp_), *tls_);
    error_code address_ec;
    static_cast<void>(asio::ip::make_address(t_.host, address_ec));
    // Server Name Indication for a name, never for an address (RFC 6066 §3).
    if (address_ec &&
        SSL_set_tlsext_host_name(stream.native_handle(), t_.host.c_str()) != 1) {  // NOLINT
      return finish(reply{0, {}, "TLS: cannot set the server name"});
    }
    stream.set_verify_callback(ssl::host_name_verification(t_.host));
    stream.async_handshake(ssl::stream_base::client, [this](const error_code& handshake_ec) {
      if (handshake_ec) return finish(failed("TLS handshake", handshake_ec));
      send(*tls_stream_);
    });
  }

  template <class Stream>
  void send(Stream& stream) {
    http::async_write(stream, out_, [this, &stream](const error_code& ec, std::size_t /*bytes*/) {
      if (ec) return finish(failed("send", ec));
      http::async_read(
          stream, buffer_, parser_,
          [this](const error_code& read_ec, std::size_t /*bytes*/) { on_received(read_ec); });
    });
  }

  void on_received(const error_code& ec) {
    if (ec) return finish(failed("receive", ec));
    auto in = parser_.release();
    finish(reply{in.result_int(), std::move(in.body()), {}});
  }

  void finish(reply r) { result_ = std::move(r); }

  const target& t_;
  ssl::context* tls_;
  std::chrono::milliseconds timeout_;
  asio::ip::tcp::resolver resolver_;
  beast::tcp_stream tcp_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  http::request<http::string_body> out_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  std::optional<reply> result_;
};

}  // namespace

engine::result<target, std::string> parse_target(const std::string& url, std::string_view setting) {
  const std::string name(setting);
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return name + " is not an absolute URL: " + parsed.error().message();
  const boost::urls::url_view& u = *parsed;
  if (u.scheme() != "https" && u.scheme() != "http") {
    return name + " must be https:// (http:// only for a loopback host)";
  }
  target t;
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
    const std::string& ca_file, std::string_view setting) {
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
  if (ec) return std::string(setting) + ": cannot load trust anchors: " + ec.message();
  if (SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION) != 1) {  // NOLINT
    return std::string("TLS: cannot require TLS 1.2 or later");
  }
  return context;
}

reply call(const target& t, const request& r, ssl::context* tls,
           std::chrono::milliseconds timeout) {
  WALLET_ASSERT(r.reply_bytes_max > 0);
  if (t.tls && tls == nullptr) return reply{0, {}, "https needs a TLS context"};
  asio::io_context io;
  session s(io, t, r, tls, timeout);
  try {
    s.start();
    // The resolver is outside the stream's deadline: the io_context bounds everything.
    io.run_for(timeout);
  } catch (const std::exception& e) {
    return reply{0, {}, std::string("the HTTP client failed: ") + e.what()};
  }
  if (s.result()) return *s.result();
  return reply{0, {}, "timed out after " + std::to_string(timeout.count()) + " ms"};
}

}  // namespace wallet::https_client
