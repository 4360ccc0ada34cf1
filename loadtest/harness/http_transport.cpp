// The HTTP transport: worker threads, each owning one keep-alive TCP connection (Boost.Beast,
// synchronous: a worker blocks on its own socket only), take commands from a shared queue.
#include "http_transport.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "../steady_ns.hpp"
#include "nats_transport.hpp"
#include "wire_text.hpp"
#include "work_queue.hpp"

namespace wallet::loadtest {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto io_timeout = std::chrono::seconds{30};
constexpr double retry_after_default_s = 0.1;  // when a 503 or 429 names no Retry-After
constexpr double retry_after_max_s = 5;
constexpr std::uint64_t response_bytes_max = 1 << 20;  // an outcome or a problem is far smaller

struct work_item {
  command c;
  const naming* names = nullptr;
  std::uint64_t token = 0;
};

struct endpoint {
  std::string host;
  std::string port;
};

endpoint parse_url(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) {
    throw harness_error("--http-url must start with http:// (got " + url + ")");
  }
  std::string rest = url.substr(scheme.size());
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const auto colon = rest.rfind(':');
  endpoint e{rest.substr(0, colon), colon == std::string::npos ? "80" : rest.substr(colon + 1)};
  if (e.host.empty() || e.port.empty()) throw harness_error("--http-url has no host: " + url);
  return e;
}

double retry_after_s(const bhttp::response<bhttp::string_body>& res) {
  const auto it = res.find(bhttp::field::retry_after);
  if (it == res.end()) return retry_after_default_s;
  const double s = std::strtod(std::string(it->value()).c_str(), nullptr);
  return s > 0 ? std::min(s, retry_after_max_s) : retry_after_default_s;
}

}  // namespace

struct http_transport::impl {
  http_target target;
  answer_sink& sink;
  endpoint where;
  asio::io_context io;
  tcp::resolver::results_type addresses;
  work_queue<work_item> queue;
  std::vector<std::thread> workers;
  std::atomic<std::uint64_t> retries{0};

  impl(http_target t, answer_sink& s)
      : target(std::move(t)), sink(s), where(parse_url(target.url)) {}

  // One worker: its own connection, reopened after any failure.
  void work() {
    std::optional<beast::tcp_stream> stream;
    while (auto item = queue.pop()) sink.answered(item->token, exchange(stream, *item));
  }

  answer exchange(std::optional<beast::tcp_stream>& stream, const work_item& item);
  answer once(std::optional<beast::tcp_stream>& stream, const http_request& r,
              const std::string& key, double& retry_after);
};

answer http_transport::impl::once(std::optional<beast::tcp_stream>& stream, const http_request& r,
                                  const std::string& key, double& retry_after) {
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, r.target, 11};
  req.set(bhttp::field::host, where.host);
  req.set(bhttp::field::user_agent, "wallet-loadtest");
  req.set(bhttp::field::content_type, "application/json");
  req.set("Idempotency-Key", key);
  if (!target.token.empty()) req.set(bhttp::field::authorization, "Bearer " + target.token);
  req.keep_alive(true);
  req.body() = r.body;
  req.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {  // a kept-alive socket may have been closed
    try {
      if (!stream) {
        stream.emplace(io);
        stream->expires_after(io_timeout);
        stream->connect(addresses);
      }
      stream->expires_after(io_timeout);
      bhttp::write(*stream, req);
      beast::flat_buffer buffer;
      // Read through a parser and keep the message in it: nothing is moved out and back.
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(response_bytes_max);
      bhttp::read(*stream, buffer, parser);
      const auto& res = parser.get();
      if (!res.keep_alive()) stream.reset();
      retry_after = retry_after_s(res);
      return parse_http_answer(res.result_int(), res.body(),
                               res.find("Idempotent-Replayed") != res.end());
    } catch (const std::exception& e) {
      stream.reset();
      if (attempt == 1) return answer{answer_status::failed, "connection", e.what(), false};
    }
  }
  return answer{answer_status::failed, "connection", "unreachable", false};
}

answer http_transport::impl::exchange(std::optional<beast::tcp_stream>& stream,
                                      const work_item& item) {
  const http_request r = render_http(item.c, *item.names);
  const std::string key = item.names->key(item.c);
  const std::int64_t give_up = now_ns() + static_cast<std::int64_t>(target.retry_for_s * 1e9);
  for (;;) {
    double retry_after = 0;
    answer a = once(stream, r, key, retry_after);
    if (!is_retryable(a) || now_ns() > give_up) return a;
    retries.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(std::chrono::duration<double>(retry_after));
  }
}

http_transport::http_transport(http_target target, answer_sink& sink)
    : impl_(std::make_unique<impl>(std::move(target), sink)) {
  try {
    tcp::resolver resolver(impl_->io);
    impl_->addresses = resolver.resolve(impl_->where.host, impl_->where.port);
  } catch (const std::exception& e) {
    throw harness_error("resolving " + impl_->target.url + ": " + e.what());
  }
  for (std::size_t i = 0; i < impl_->target.connections; ++i) {
    impl_->workers.emplace_back([i = impl_.get()] { i->work(); });
  }
}

http_transport::~http_transport() {
  impl_->queue.close();
  for (auto& w : impl_->workers) w.join();
}

void http_transport::send(const command& c, const naming& names, std::uint64_t token) {
  impl_->queue.push(work_item{c, &names, token});
}

std::string http_transport::describe() const {
  return std::string("HTTP/1.1 keep-alive (Boost.Beast ") + BOOST_BEAST_VERSION_STRING + "), " +
         std::to_string(impl_->target.connections) + " connections to " + impl_->target.url +
         (impl_->target.token.empty() ? ", no token" : ", bearer token");
}

expected_answer http_transport::expected(defect d) const {
  if (d == defect::zero_amount) return {answer_status::refused, "invalid", "not_positive"};
  return expected_for(d);
}

std::uint64_t http_transport::retries() const noexcept { return impl_->retries.load(); }

}  // namespace wallet::loadtest
