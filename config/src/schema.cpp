// Compile-time checks of the settings table: a malformed entry fails the build, not a deployment.
#include "wallet/config/schema.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>

namespace wallet::config {
namespace {

constexpr bool is_segment_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Segments of [a-z][a-z0-9_]* joined by '.', at least two, none starting or ending in '_' and
// none holding "__": so that '.' ↔ "__" maps names to environment variables and back one to one.
constexpr bool is_well_formed_name(std::string_view name) {
  std::size_t segments = 0;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('.', start), name.size());
    const std::string_view segment = name.substr(start, end - start);
    if (segment.empty() || segment.front() < 'a' || segment.front() > 'z') return false;
    if (segment.back() == '_' || segment.find("__") != std::string_view::npos) return false;
    for (const char c : segment) {
      if (!is_segment_char(c)) return false;
    }
    ++segments;
    start = end + 1;
  }
  return segments >= 2;
}

// Word `w` is one of the '|'-separated `words`, none of which is empty or repeated.
constexpr bool is_word_of(std::string_view w, std::string_view words) {
  std::size_t start = 0;
  while (start <= words.size()) {
    const std::size_t end = std::min(words.find('|', start), words.size());
    if (words.substr(start, end - start) == w) return true;
    start = end + 1;
  }
  return false;
}

constexpr bool has_valid_words(std::string_view words) {
  if (words.empty()) return false;
  std::size_t start = 0;
  while (start <= words.size()) {
    const std::size_t end = std::min(words.find('|', start), words.size());
    const std::string_view w = words.substr(start, end - start);
    if (w.empty() || is_word_of(w, words.substr(end == words.size() ? end : end + 1))) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

constexpr bool has_no_control_chars(std::string_view text) {
  return std::ranges::all_of(
      text, [](const char c) { return static_cast<unsigned char>(c) >= 0x20U && c != '\x7f'; });
}

constexpr bool starts_with_scheme(std::string_view url, std::string_view schemes) {
  const std::size_t colon = url.find("://");
  return colon != std::string_view::npos && is_word_of(url.substr(0, colon), schemes);
}

constexpr bool is_valid(const setting& s) {
  if (!is_well_formed_name(s.name) || s.doc.empty() || !has_no_control_chars(s.doc)) return false;
  const auto length = static_cast<std::int64_t>(s.default_text.size());
  switch (s.type) {
    case kind::integer:
      return s.min <= s.max && s.min <= s.default_integer && s.default_integer <= s.max &&
             s.default_text.empty() && s.allowed.empty() && !s.secret;
    case kind::boolean:
      return (s.default_integer == 0 || s.default_integer == 1) && s.default_text.empty();
    case kind::text:
      return 0 <= s.min && s.min <= s.max && s.min <= length && length <= s.max &&
             has_no_control_chars(s.default_text) && (!s.secret || s.default_text.empty());
    case kind::choice:
      return has_valid_words(s.allowed) && is_word_of(s.default_text, s.allowed) && !s.secret;
    case kind::url:
      // min 0 makes the URL optional: its default is then empty (off).
      return has_valid_words(s.allowed) &&
             (s.min == 0 ? s.default_text.empty()
                         : starts_with_scheme(s.default_text, s.allowed)) &&
             0 <= s.min && s.min <= length && length <= s.max &&
             has_no_control_chars(s.default_text) && !s.secret;
  }
  return false;
}

constexpr bool every_setting_is_valid() { return std::ranges::all_of(settings, is_valid); }

// No two settings share a name, and no name is a section of another ("a.b" and "a.b.c"), so
// that a configuration file's nesting is unambiguous.
constexpr bool names_are_distinct() {
  for (const setting& a : settings) {
    for (const setting& b : settings) {
      if (&a == &b) continue;
      if (a.name == b.name) return false;
      if (b.name.starts_with(a.name) && b.name[a.name.size()] == '.') return false;
    }
  }
  return true;
}

constexpr bool is_integer_setting(std::string_view name) {
  const auto i = find_setting(name);
  return i && settings[*i].type == kind::integer;
}

constexpr bool scaled_fits(std::string_view name, std::int64_t scale) {
  const setting& s = settings[*find_setting(name)];
  constexpr std::int64_t top = std::numeric_limits<std::int64_t>::max();
  return scale > 0 && s.max <= top / scale && s.min >= -(top / scale);
}

constexpr bool every_relation_is_valid() {
  return std::ranges::all_of(relations, [](const relation& r) {
    return is_integer_setting(r.left) && is_integer_setting(r.right) && !r.why.empty() &&
           scaled_fits(r.left, r.left_scale) && scaled_fits(r.right, r.right_scale);
  });
}

constexpr bool defaults_satisfy_relations() {
  return std::ranges::all_of(relations, [](const relation& r) {
    const std::int64_t l = settings[*find_setting(r.left)].default_integer * r.left_scale;
    const std::int64_t rr = settings[*find_setting(r.right)].default_integer * r.right_scale;
    const bool holds = r.op == comparison::less         ? l < rr
                       : r.op == comparison::less_equal ? l <= rr
                                                        : l != rr;
    return holds;
  });
}

// config::duration() converts to microseconds: every duration's largest value must fit.
constexpr bool durations_fit_in_microseconds() {
  return std::ranges::all_of(settings, [](const setting& s) {
    if (s.type != kind::integer) return true;
    constexpr std::int64_t top = std::numeric_limits<std::int64_t>::max();
    const std::int64_t unit = s.name.ends_with("_us")   ? 1
                              : s.name.ends_with("_ms") ? 1'000
                              : s.name.ends_with("_s")  ? 1'000'000
                                                        : 1;
    return s.max <= top / unit && s.min >= -(top / unit);
  });
}

static_assert(every_setting_is_valid(),
              "a setting is malformed: name, doc, bounds or default (see is_valid)");
static_assert(names_are_distinct(), "two settings share a name or one is a section of another");
static_assert(every_relation_is_valid(),
              "a relation names an unknown or non-integer setting, or its scale overflows");
static_assert(defaults_satisfy_relations(), "the defaults break a relation");
static_assert(durations_fit_in_microseconds(),
              "a duration setting's maximum overflows microseconds");

}  // namespace
}  // namespace wallet::config
