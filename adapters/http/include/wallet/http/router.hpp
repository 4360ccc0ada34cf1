// A small router: routes are a method and a path pattern of literal segments and {name}
// parameters; a request's decoded path segments find the route and the parameters' values.
#pragma once

// Boost 1.81's string_view (under Beast) uses std::ostream without including it.
#include <ostream>

#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wallet::http {

using verb = boost::beast::http::verb;

struct route {
  verb method = verb::get;
  std::string pattern;  // "/v1/wallets/{wallet_id}/holds/{hold_id}"
};

// The values a match captured, by parameter name.
class path_params {
 public:
  void add(std::string name, std::string value);
  // The value of `name`; the route's pattern must have the parameter (asserted).
  [[nodiscard]] const std::string& at(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

struct route_match {
  enum class kind : std::uint8_t { found, no_path, no_method };
  kind what = kind::no_path;
  std::size_t route = 0;  // found: the index add() returned
  path_params params;
  std::string allow;  // no_method: the path's methods, for the Allow header ("GET, POST")
};

class router {
 public:
  // Adds a route and returns its index. A pattern starts with '/', has no empty segment, and
  // each method/pattern pair is added once (asserted: routes are fixed at build time).
  std::size_t add(verb method, std::string_view pattern);

  // The route for `method` and the request's decoded path segments ("/v1/wallets/a" is
  // {"v1", "wallets", "a"}). A literal segment beats a parameter, so "/v1/openapi.json" is never
  // taken for a wallet id. Parameters match any non-empty segment.
  [[nodiscard]] route_match find(verb method, const std::vector<std::string>& segments) const;

  [[nodiscard]] const std::vector<route>& routes() const noexcept { return routes_; }

 private:
  struct compiled {
    std::vector<std::string> segments;  // literal text, or the name in braces
    std::vector<bool> is_param;
  };
  // How well a pattern matches: literal segments count, so the most literal route wins.
  [[nodiscard]] static std::ptrdiff_t score(const compiled& c,
                                            const std::vector<std::string>& segments);

  std::vector<route> routes_;
  std::vector<compiled> compiled_;
};

}  // namespace wallet::http
