// An asynchronous HTTP/1.1 server (Boost.Beast over Asio): keep-alive, bounded header and body,
// read and write timeouts, a bounded number of connections (past it: 503 with Retry-After at
// once, nothing queued), and TLS 1.3 only when a certificate and key are configured.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "wallet/engine/result.hpp"
#include "wallet/http/message.hpp"
#include "wallet/http/probe.hpp"

namespace wallet::http {

struct server_settings {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  std::uint16_t port = 8'080;         // 0: any free port (tests)
  std::size_t threads = 2;
  std::size_t connections_max = 10'000;
  std::uint32_t header_bytes_max = 8'192;
  std::uint64_t body_bytes_max = 65'536;
  std::chrono::milliseconds idle_timeout{30'000};  // waiting for, and reading, a request header
  std::chrono::milliseconds read_timeout{10'000};  // reading a body once its header is in
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::seconds retry_after{1};  // of the 503 past connections_max
  std::string tls_cert_file;            // both set: TLS 1.3 only
  std::string tls_key_file;
};

struct server_error {
  std::string message;  // what failed: binding the address, loading the certificate, ...
};

class server {
 public:
  // Listens and starts the threads. `serve` gets each complete request on a server thread.
  [[nodiscard]] static engine::result<std::unique_ptr<server>, server_error> start(
      server_settings settings, handler serve, std::shared_ptr<probe> events);

  ~server();  // stop(0)
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  server(server&&) = delete;
  server& operator=(server&&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] bool tls() const noexcept;
  [[nodiscard]] std::size_t connections() const noexcept;

  // Closes the listener; requests still arriving on open connections are answered and then
  // those connections close (no keep-alive).
  void stop_accepting();
  // stop_accepting, waits up to `grace` for the requests being handled to be answered, then
  // closes every connection and joins the threads. A responder called afterwards does nothing.
  void stop(std::chrono::milliseconds grace);

  struct core;  // shared with the connections; outlives the server while they need it

 private:
  explicit server(std::shared_ptr<core> c);
  std::shared_ptr<core> core_;
};

}  // namespace wallet::http
