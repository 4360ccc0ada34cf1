// What the HTTP server hands to the API and takes back: a request with where it came from, and a
// responder that must be called once. Beast's message types carry the HTTP itself.
#pragma once

// Boost 1.81's string_view (under Beast) uses std::ostream without including it.
#include <ostream>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace wallet::http {

using request_message = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

// NOLINTNEXTLINE(bugprone-exception-escape): the implicit moves of Beast's fields may allocate.
struct request {
  request_message message;
  std::string remote_address;  // the peer's IP address: the key of per-address rate limits
  std::chrono::steady_clock::time_point received;
};

// `r` as it goes on the wire (status line, the fields in their order, a blank line, the body),
// byte for byte what Beast's serializer writes, into `out` (replaced): one buffer, sent with one
// call, where the serializer hands the kernel a buffer per field. Set Content-Length
// (prepare_payload) and keep-alive first.
void render_response(const response& r, std::string& out);

// Runs a piece of work on the thread that owns a request's connection (its strand).
using connection_runner = std::function<void(std::function<void()>)>;

// Sends the response to one request. Call it once, from any thread; copies share one state and
// the first call wins. If every copy is dropped uncalled (a bug, or a callback lost on shutdown),
// the client is answered 500 rather than left waiting on an open connection.
class responder {
 public:
  responder() = default;
  explicit responder(std::function<void(response)> send, connection_runner run = {});

  void operator()(response r) const;

  // Runs `work` on the connection's own thread, where a response handed over is written at once
  // (no further hop): the API renders, logs and answers an engine's outcome there rather than on
  // the engine's threads. Without a runner (a handler called directly, as in tests) it runs
  // `work` at once. Once the server has stopped, `work` is dropped unrun.
  void run_on_connection(std::function<void()> work) const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

// The API as the server sees it: called on a server thread; must not block.
using handler = std::function<void(request, responder)>;

}  // namespace wallet::http
