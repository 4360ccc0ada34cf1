// The responder: one shared state per request, answered once; a responder dropped unanswered
// answers 500 itself so that no connection waits forever.
#include "wallet/http/message.hpp"

#include <atomic>
#include <boost/beast/http/field.hpp>

#include "wallet/http/problem.hpp"

namespace wallet::http {

struct responder::state {
  std::function<void(response)> send;
  std::atomic<bool> answered{false};

  explicit state(std::function<void(response)> s) : send(std::move(s)) {}
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

responder::responder(std::function<void(response)> send)
    : state_(std::make_shared<state>(std::move(send))) {}

void responder::operator()(response r) const {
  if (!state_ || state_->answered.exchange(true)) return;
  state_->send(std::move(r));
}

}  // namespace wallet::http
