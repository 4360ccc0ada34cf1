// The effective configuration and its validation against the schema's bounds and relations.
#include "wallet/config/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "wallet/config/text.hpp"

namespace wallet::config {
namespace {

// Misuse of the config API is a programmer error: report it and stop.
[[noreturn]] void misuse(const char* what) {
  std::fprintf(stderr, "wallet::config misuse: %s\n", what);
  std::abort();
}

value default_of(const setting& s) {
  switch (s.type) {
    case kind::integer:
      return s.default_integer;
    case kind::boolean:
      return s.default_integer != 0;
    case kind::text:
    case kind::choice:
    case kind::url:
      return std::string(s.default_text);
  }
  misuse("unknown setting kind");
}

bool has_type(const setting& s, const value& v) {
  switch (s.type) {
    case kind::integer:
      return std::holds_alternative<std::int64_t>(v);
    case kind::boolean:
      return std::holds_alternative<bool>(v);
    case kind::text:
    case kind::choice:
    case kind::url:
      return std::holds_alternative<std::string>(v);
  }
  return false;
}

const char* symbol(comparison op) {
  switch (op) {
    case comparison::less:
      return "<";
    case comparison::less_equal:
      return "<=";
    case comparison::not_equal:
      return "!=";
  }
  return "?";
}

bool holds(comparison op, std::int64_t l, std::int64_t r) {
  switch (op) {
    case comparison::less:
      return l < r;
    case comparison::less_equal:
      return l <= r;
    case comparison::not_equal:
      return l != r;
  }
  return false;
}

// "shutdown.grace_period_ms (25000, default) * 1000"
std::string operand(const config& cfg, std::size_t index, std::int64_t scale) {
  std::string out(settings[index].name);
  out += " (" + std::to_string(std::get<std::int64_t>(cfg.at(index))) + ", " +
         describe(cfg.origin_at(index)) + ")";
  if (scale != 1) out += " * " + std::to_string(scale);
  return out;
}

std::optional<std::string> check(const config& cfg, const relation& r) {
  // The schema's static checks guarantee both names exist, are integers and scale without
  // overflow.
  const std::size_t li = *find_setting(r.left);
  const std::size_t ri = *find_setting(r.right);
  const std::int64_t l = std::get<std::int64_t>(cfg.at(li)) * r.left_scale;
  const std::int64_t rv = std::get<std::int64_t>(cfg.at(ri)) * r.right_scale;
  if (holds(r.op, l, rv)) return std::nullopt;
  return operand(cfg, li, r.left_scale) + " must be " + symbol(r.op) + " " +
         operand(cfg, ri, r.right_scale) + ": " + std::string(r.why);
}

}  // namespace

std::string describe(const origin& o) {
  switch (o.from) {
    case source::default_value:
      return "default";
    case source::file:
      return "file " + o.where;
    case source::environment:
      return "environment " + o.where;
    case source::flag:
      return "flag " + o.where;
  }
  return "unknown source";
}

config::config() {
  values_.reserve(settings.size());
  for (const setting& s : settings) values_.push_back(default_of(s));
  origins_.resize(settings.size());
}

std::int64_t config::integer(integer_key k) const {
  return std::get<std::int64_t>(values_[k.index]);
}

bool config::boolean(boolean_key k) const { return std::get<bool>(values_[k.index]); }

const std::string& config::text(text_key k) const {
  return std::get<std::string>(values_[k.index]);
}

std::chrono::microseconds config::duration(duration_key k) const {
  // Cannot overflow: schema.cpp checks every duration's bounds in microseconds.
  return std::chrono::microseconds(std::get<std::int64_t>(values_[k.index]) *
                                   k.microseconds_per_unit);
}

void config::set(std::size_t index, value v, origin from) {
  if (index >= settings.size()) misuse("set: index out of range");
  if (!has_type(settings[index], v)) misuse("set: value of the wrong type");
  values_[index] = std::move(v);
  origins_[index] = std::move(from);
}

std::vector<std::string> validate(const config& cfg) {
  std::vector<std::string> errors;
  for (std::size_t i = 0; i < settings.size(); ++i) {
    std::string problem = check_bounds(settings[i], cfg.at(i));
    if (!problem.empty()) {
      errors.push_back(std::string(settings[i].name) + ": " + problem + " (from " +
                       describe(cfg.origin_at(i)) + ")");
    }
  }
  if (!errors.empty()) return errors;  // relations over out-of-bounds values would mislead
  for (const relation& r : relations) {
    if (auto problem = check(cfg, r)) errors.push_back(std::move(*problem));
  }
  return errors;
}

}  // namespace wallet::config
