// Test support: a small HTTP/1.1 client over one connection (plain or TLS), with a timeout on
// every step so that a broken server fails the test instead of hanging it.
#pragma once

#include <ostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <variant>

namespace wallet::http::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using client_response = bhttp::response<bhttp::string_body>;
using client_request = bhttp::request<bhttp::string_body>;

class test_client {
 public:
  // Connects to 127.0.0.1:port; with `tls`, handshakes with it. error() says why if not.
  explicit test_client(std::uint16_t port, net::ssl::context* tls = nullptr,
                       std::chrono::milliseconds timeout = std::chrono::seconds{10})
      : timeout_(timeout) {
    beast::tcp_stream tcp{ioc_};
    tcp.expires_after(timeout_);
    tcp.async_connect(net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), port},
                      [this](const beast::error_code& ec) { ec_ = ec; });
    run();
    if (ec_) return;
    if (tls == nullptr) {
      stream_.emplace<beast::tcp_stream>(std::move(tcp));
      return;
    }
    auto& s = stream_.emplace<beast::ssl_stream<beast::tcp_stream>>(std::move(tcp), *tls);
    beast::get_lowest_layer(s).expires_after(timeout_);
    s.async_handshake(net::ssl::stream_base::client,
                      [this](const beast::error_code& ec) { ec_ = ec; });
    run();
  }

  [[nodiscard]] const beast::error_code& error() const { return ec_; }

  // Writes `req` and reads the answer; nothing when the connection failed or closed.
  std::optional<client_response> send(client_request req) {
    req.prepare_payload();
    bool written = false;
    visit([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(timeout_);
      bhttp::async_write(s, req, [&](const beast::error_code& ec, std::size_t) {
        ec_ = ec;
        written = !ec;
      });
    });
    run();
    if (!written) return std::nullopt;
    return read();
  }

  // Writes bytes as they are (for malformed requests).
  bool write_raw(const std::string& bytes) {
    visit([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(timeout_);
      net::async_write(s, net::buffer(bytes),
                       [&](const beast::error_code& ec, std::size_t) { ec_ = ec; });
    });
    run();
    return !ec_;
  }

  // Reads one response; nothing on end of stream, a reset or the timeout (error() tells which).
  std::optional<client_response> read() {
    client_response r;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64U << 20U);
    bool ok = false;
    visit([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(timeout_);
      bhttp::async_read(s, buffer_, parser, [&](const beast::error_code& ec, std::size_t) {
        ec_ = ec;
        ok = !ec;
      });
    });
    run();
    if (!ok) return std::nullopt;
    return parser.release();
  }

  static client_request request(bhttp::verb method, const std::string& target,
                                const std::string& body = {}) {
    client_request req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    return req;
  }

 private:
  template <class F>
  void visit(F&& f) {
    if (auto* plain = std::get_if<beast::tcp_stream>(&stream_)) f(*plain);
    if (auto* tls = std::get_if<beast::ssl_stream<beast::tcp_stream>>(&stream_)) f(*tls);
  }
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  net::io_context ioc_;
  std::variant<std::monostate, beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  beast::error_code ec_;
  std::chrono::milliseconds timeout_;
};

}  // namespace wallet::http::testing
