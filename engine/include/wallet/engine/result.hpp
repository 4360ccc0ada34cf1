// A value or an error, for C++20 (std::expected is C++23). Business rejections travel as values.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "wallet/engine/assert.hpp"

namespace wallet::engine {

template <class T, class E>
class result {
  static_assert(!std::is_same_v<T, E>, "a result needs distinct value and error types");

 public:
  // NOLINTNEXTLINE(google-explicit-constructor): a value converts to a successful result.
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor): an error converts to a failed result.
  result(E error) : v_(std::in_place_index<1>, std::move(error)) {}

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] const T& value() const& {
    WALLET_ASSERT(ok());
    return *std::get_if<0>(&v_);
  }
  [[nodiscard]] T&& value() && {
    WALLET_ASSERT(ok());
    return std::move(*std::get_if<0>(&v_));
  }
  [[nodiscard]] const E& error() const {
    WALLET_ASSERT(!ok());
    return *std::get_if<1>(&v_);
  }

 private:
  std::variant<T, E> v_;
};

}  // namespace wallet::engine
