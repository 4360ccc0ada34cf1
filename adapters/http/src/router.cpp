// The router: patterns split once into segments; a lookup scores every route (there are a few
// dozen) and keeps the most literal match.
#include "wallet/http/router.hpp"

#include <boost/beast/http/verb.hpp>

#include "wallet/engine/assert.hpp"

namespace wallet::http {

void path_params::add(std::string name, std::string value) {
  values_.emplace_back(std::move(name), std::move(value));
}

const std::string& path_params::at(std::string_view name) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  WALLET_ASSERT(false && "the route has no such parameter");
  static const std::string none;
  return none;
}

std::size_t router::add(verb method, std::string_view pattern) {
  WALLET_ASSERT(pattern.starts_with('/'));
  compiled c;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    const std::size_t end = std::min(pattern.find('/', start), pattern.size());
    const std::string_view segment = pattern.substr(start, end - start);
    WALLET_ASSERT(!segment.empty());
    const bool param = segment.starts_with('{') && segment.ends_with('}');
    c.segments.emplace_back(param ? segment.substr(1, segment.size() - 2) : segment);
    c.is_param.push_back(param);
    start = end + 1;
  }
  for (const route& r : routes_) {
    WALLET_ASSERT(!(r.method == method && r.pattern == pattern));
  }
  routes_.push_back(route{method, std::string(pattern)});
  compiled_.push_back(std::move(c));
  return routes_.size() - 1;
}

std::ptrdiff_t router::score(const compiled& c, const std::vector<std::string>& segments) {
  if (c.segments.size() != segments.size()) return -1;
  std::ptrdiff_t literal = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (c.is_param[i]) {
      if (segments[i].empty()) return -1;
    } else if (c.segments[i] != segments[i]) {
      return -1;
    } else {
      ++literal;
    }
  }
  return literal;
}

route_match router::find(verb method, const std::vector<std::string>& segments) const {
  // The best-scoring path decides; then its method must match, else the path's methods are
  // listed for a 405.
  std::ptrdiff_t best = -1;
  for (const compiled& c : compiled_) best = std::max(best, score(c, segments));
  route_match m;
  if (best < 0) return m;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (score(compiled_[i], segments) != best) continue;
    if (routes_[i].method == method) {
      m.what = route_match::kind::found;
      m.route = i;
      for (std::size_t s = 0; s < segments.size(); ++s) {
        if (compiled_[i].is_param[s]) m.params.add(compiled_[i].segments[s], segments[s]);
      }
      return m;
    }
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += std::string(boost::beast::http::to_string(routes_[i].method));
  }
  m.what = route_match::kind::no_method;
  return m;
}

}  // namespace wallet::http
