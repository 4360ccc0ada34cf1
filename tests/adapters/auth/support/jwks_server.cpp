// The test JWKS endpoint: Boost.Beast, one I/O thread, each connection answered synchronously.
#include "wallet/auth/jwks_server.hpp"

#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace wallet::auth::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct jwks_server::impl {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::optional<asio::ssl::context> tls;
  std::mutex mutex;
  unsigned status = 200;
  std::string body;
  bool hang = false;
  std::vector<tcp::socket> hung;  // kept open, never answered
  std::atomic<std::size_t> requests{0};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      serve(std::move(socket));
      accept();
    });
  }

  template <class Stream>
  void answer(Stream& stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    boost::system::error_code ec;
    http::read(stream, buffer, request, ec);
    if (ec) return;
    http::response<http::string_body> response;
    {
      const std::lock_guard lock(mutex);
      response.result(status);
      response.body() = body;
    }
    response.set(http::field::content_type, "application/json");
    response.keep_alive(false);
    response.prepare_payload();
    http::write(stream, response, ec);
  }

  void serve(tcp::socket socket) {
    bool hanging = false;
    {
      const std::lock_guard lock(mutex);
      hanging = hang;
    }
    ++requests;
    if (hanging) {
      hung.push_back(std::move(socket));
      return;
    }
    boost::system::error_code ec;
    if (!tls) {
      answer(socket);
      socket.shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;  // e.g. the client refused our certificate
    answer(stream);
    stream.shutdown(ec);
  }
};

jwks_server::jwks_server(std::optional<tls_identity> tls) : impl_(std::make_unique<impl>()) {
  if (tls) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain(asio::buffer(tls->certificate_pem));
    impl_->tls->use_private_key(asio::buffer(tls->private_key_pem), asio::ssl::context::pem);
  }
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

jwks_server::~jwks_server() {
  impl_->io.stop();
  impl_->thread.join();
}

void jwks_server::respond(unsigned status, std::string body) {
  const std::lock_guard lock(impl_->mutex);
  impl_->status = status;
  impl_->body = std::move(body);
  impl_->hang = false;
}

void jwks_server::hang() {
  const std::lock_guard lock(impl_->mutex);
  impl_->hang = true;
}

std::uint16_t jwks_server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string jwks_server::url(const std::string& host) const {
  return std::string(impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(port()) +
         "/jwks.json";
}

std::size_t jwks_server::requests() const { return impl_->requests.load(); }

}  // namespace wallet::auth::testing
