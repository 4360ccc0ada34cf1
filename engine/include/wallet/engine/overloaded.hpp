// A visitor from lambdas, for std::visit over commands and events.
#pragma once

namespace wallet::engine {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
// C++20 deduces this by itself; clang 14 (which clang-tidy uses) needs the guide.
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace wallet::engine
