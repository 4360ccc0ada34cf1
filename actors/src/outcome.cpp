// Submit outcomes and the answer-once completion.
#include "wallet/actors/outcome.hpp"

#include <atomic>

namespace wallet::actors {

std::string_view to_string(submit_errc e) noexcept {
  switch (e) {
    case submit_errc::overloaded:
      return "overloaded";
    case submit_errc::unavailable:
      return "unavailable";
    case submit_errc::shutting_down:
      return "shutting_down";
    case submit_errc::invalid_wallet:
      return "invalid_wallet";
    case submit_errc::reserved_key:
      return "reserved_key";
    case submit_errc::write_refused:
      return "write_refused";
    case submit_errc::not_owner:
      return "not_owner";
  }
  return "unknown";
}

std::optional<submit_errc> submit_errc_from(std::string_view text) noexcept {
  // not_owner is the last enumerator; to_string's switch fails the build when one is added
  // without a name, and this bound must then move with it.
  for (auto e = std::uint8_t{0}; e <= static_cast<std::uint8_t>(submit_errc::not_owner); ++e) {
    if (to_string(static_cast<submit_errc>(e)) == text) {
      return static_cast<submit_errc>(e);
    }
  }
  return std::nullopt;
}

submit_outcome refused(submit_errc e) {
  submit_outcome o;
  o.error = e;
  return o;
}

struct completion::state {
  explicit state(std::function<void(submit_outcome)> f) : fn(std::move(f)) {}
  state(const state&) = delete;
  state& operator=(const state&) = delete;
  state(state&&) = delete;
  state& operator=(state&&) = delete;
  ~state() {
    if (!fired.exchange(true)) {
      try {
        fn(refused(submit_errc::unavailable));
      } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
      }
    }
  }
  std::function<void(submit_outcome)> fn;
  std::atomic<bool> fired{false};
};

completion::completion(std::function<void(submit_outcome)> fn)
    : state_(std::make_shared<state>(std::move(fn))) {}

void completion::operator()(submit_outcome outcome) const {
  if (state_ && !state_->fired.exchange(true)) {
    state_->fn(std::move(outcome));
  }
}

}  // namespace wallet::actors
