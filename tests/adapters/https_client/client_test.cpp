// The one-shot client: which URLs it accepts, the TLS floor of its contexts, and what a GET and a
// POST put on the wire and bring back, against a loopback server this test runs.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <openssl/ssl.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "wallet/https_client/client.hpp"

namespace wallet::https_client {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

// Answers every connection with `status` and `body` and keeps the last request it read.
class loopback_server {
 public:
  loopback_server(unsigned status, std::string body) : status_(status), body_(std::move(body)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~loopback_server() {
    io_.stop();
    thread_.join();
  }
  loopback_server(const loopback_server&) = delete;
  loopback_server& operator=(const loopback_server&) = delete;
  loopback_server(loopback_server&&) = delete;
  loopback_server& operator=(loopback_server&&) = delete;

  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  [[nodiscard]] std::optional<http::request<http::string_body>> received() const {
    const std::lock_guard lock{mutex_};
    return received_;
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      {
        const std::lock_guard lock{mutex_};
        received_ = request;
      }
      http::response<http::string_body> response{static_cast<http::status>(status_), 11};
      response.body() = body_;
      response.keep_alive(false);
      response.prepare_payload();
      http::write(socket, response, ec);
      accept();
    });
  }

  unsigned status_;
  std::string body_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  mutable std::mutex mutex_;
  std::optional<http::request<http::string_body>> received_;
  std::thread thread_;
};

request json_post(std::string body) {
  request r;
  r.verb = method::post;
  r.accept = "application/json";
  r.content_type = "application/json";
  r.body = std::move(body);
  r.reply_bytes_max = 1'024;
  return r;
}

TEST(parse_target, https_anywhere_http_only_on_loopback) {
  EXPECT_TRUE(parse_target("https://aml.example.com/v1/screen", "aml.http_url").ok());
  EXPECT_EQ(parse_target("https://aml.example.com", "aml.http_url").value().port, "443");
  EXPECT_EQ(parse_target("https://aml.example.com", "aml.http_url").value().path, "/");
  EXPECT_TRUE(parse_target("http://127.0.0.1:8080/x", "aml.http_url").ok());
  EXPECT_TRUE(parse_target("http://[::1]:8080/x", "aml.http_url").ok());
  EXPECT_FALSE(parse_target("http://aml.example.com/x", "aml.http_url").ok());
  EXPECT_FALSE(parse_target("https://u:p@aml.example.com/x", "aml.http_url").ok());
  EXPECT_FALSE(parse_target("ftp://aml.example.com/x", "aml.http_url").ok());
  EXPECT_NE(parse_target("nonsense", "aml.http_url").error().find("aml.http_url"),
            std::string::npos);
}

TEST(make_tls_context, requires_tls_1_2_or_later) {
  const auto made = make_tls_context("", "aml.http_ca_file");
  ASSERT_TRUE(made.ok()) << made.error();
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-cstyle-cast): OpenSSL's macro.
  EXPECT_EQ(SSL_CTX_get_min_proto_version(made.value()->native_handle()), TLS1_2_VERSION);
}

TEST(make_tls_context, an_unreadable_ca_file_is_named_by_its_setting) {
  const auto made = make_tls_context("/nonexistent/ca.pem", "aml.http_ca_file");
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("aml.http_ca_file"), std::string::npos) << made.error();
}

TEST(call, posts_the_body_and_brings_back_the_reply) {
  loopback_server server(201, R"({"verdict":"allow"})");
  const auto t = parse_target(server.url("/screen?v=1"), "aml.http_url").value();
  const reply r = call(t, json_post(R"({"a":1})"), nullptr, 2s);
  EXPECT_EQ(r.status, 201U) << r.error;
  EXPECT_EQ(r.body, R"({"verdict":"allow"})");
  EXPECT_EQ(r.error, "");
  const auto got = server.received();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->method(), http::verb::post);
  EXPECT_EQ(got->target(), "/screen?v=1");
  EXPECT_EQ(got->body(), R"({"a":1})");
  EXPECT_EQ((*got)[http::field::content_length], "7");
  EXPECT_EQ((*got)[http::field::content_type], "application/json");
  EXPECT_EQ((*got)[http::field::accept], "application/json");
  EXPECT_EQ((*got)[http::field::host], t.host_header);
}

TEST(call, a_get_sends_no_body_and_any_status_is_a_reply) {
  loopback_server server(404, "not here");
  request get;
  get.accept = "application/jwk-set+json";
  get.reply_bytes_max = 1'024;
  const reply r = call(parse_target(server.url("/jwks"), "x").value(), get, nullptr, 2s);
  EXPECT_EQ(r.status, 404U) << r.error;
  EXPECT_EQ(r.body, "not here");
  const auto got = server.received();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->method(), http::verb::get);
  EXPECT_EQ(got->count(http::field::content_length), 0U);
  EXPECT_EQ(got->count(http::field::transfer_encoding), 0U);
  EXPECT_EQ(got->body(), "");
}

TEST(call, a_reply_past_its_bound_fails_at_receive) {
  loopback_server server(200, std::string(2'000, 'x'));
  const reply r = call(parse_target(server.url("/big"), "x").value(), json_post("{}"), nullptr, 2s);
  EXPECT_EQ(r.status, 0U);
  EXPECT_NE(r.error.find("receive"), std::string::npos) << r.error;
}

TEST(call, https_needs_a_tls_context) {
  const reply r =
      call(parse_target("https://127.0.0.1:1/x", "x").value(), json_post("{}"), nullptr, 2s);
  EXPECT_EQ(r.status, 0U);
  EXPECT_EQ(r.error, "https needs a TLS context");
}

}  // namespace
}  // namespace wallet::https_client
