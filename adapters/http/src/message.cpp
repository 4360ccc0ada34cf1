// The responder: one shared state per request, answered once; a responder dropped unanswered
// answers 500 itself so that no connection waits forever.
#include "wallet/http/message.hpp"

#include <atomic>
#include <boost/beast/http/field.hpp>

#include "wallet/http/problem.hpp"

namespace wallet::http {

struct responder::state {
  std::function<void(response)> send;
  connection_runner run;
  std::atomic<bool> answered{false};

  state(std::function<void(response)> s, connection_runner r)
      : send(std::move(s)), run(std::move(r)) {}
  state(const state&) = delete;
  state& operator=(const state&) = delete;
  state(state&&) = delete;
  state& operator=(state&&) = delete;

  ~state() {
    if (answered.exchange(true)) return;
    response r;
    r.result(boost::beast::http::status::internal_server_error);
    try {
      r.set(boost::beast::http::field::content_type, problem_content_type);
      r.body() =
          problem_body(make_problem("internal", "the request was dropped unanswered"), {}, {});
      send(std::move(r));
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; nothing to tell
    }
  }
};

responder::responder(std::function<void(response)> send, connection_runner run)
    : state_(std::make_shared<state>(std::move(send), std::move(run))) {}

void render_response(const response& r, std::string& out) {
  out.clear();
  // "HTTP/X.Y ### ", as Beast's fields writer lays it out.
  const unsigned version = r.version();
  const unsigned code = r.result_int();
  out += "HTTP/";
  out += static_cast<char>('0' + (version / 10));
  out += '.';
  out += static_cast<char>('0' + (version % 10));
  out += ' ';
  out += static_cast<char>('0' + (code / 100));
  out += static_cast<char>('0' + ((code / 10) % 10));
  out += static_cast<char>('0' + (code % 10));
  out += ' ';
  out += r.reason();
  out += "\r\n";
  for (const auto& f : r) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
  out += r.body();
}

void responder::operator()(response r) const {
  if (!state_ || state_->answered.exchange(true)) return;
  state_->send(std::move(r));
}

void responder::run_on_connection(std::function<void()> work) const {
  if (state_ && state_->run) {
    state_->run(std::move(work));
  } else {
    work();
  }
}

}  // namespace wallet::http
