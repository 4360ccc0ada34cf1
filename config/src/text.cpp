// Strict parsing of setting values from text, bounds checks, and redacted rendering.
#include "wallet/config/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace wallet::config {
namespace {

// A user's text inside an error message: quoted, control characters escaped, long text cut.
std::string quote(std::string_view text) {
  constexpr std::size_t shown_max = 80;
  std::string out = "\"";
  for (const char c : text.substr(0, shown_max)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20U || u == 0x7fU) {
      constexpr std::string_view hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4U];
      out += hex[u & 0xfU];
    } else {
      out += c;
    }
  }
  out += text.size() > shown_max ? "...\"" : "\"";
  return out;
}

std::vector<std::string_view> split_words(std::string_view words) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= words.size()) {
    const std::size_t end = std::min(words.find('|', start), words.size());
    out.push_back(words.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string_view>& parts, std::string_view prefix_each,
                 std::string_view suffix_each, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += separator;
    out += prefix_each;
    out += parts[i];
    out += suffix_each;
  }
  return out;
}

std::string check_integer(const setting& s, std::int64_t v) {
  if (v < s.min) return std::to_string(v) + " is below the minimum " + std::to_string(s.min);
  if (v > s.max) return std::to_string(v) + " is above the maximum " + std::to_string(s.max);
  return {};
}

std::string check_text(const setting& s, const std::string& v) {
  const auto length = static_cast<std::int64_t>(v.size());
  const std::string shown = quote(render(s, v));
  if (length < s.min) {
    return v.empty()
               ? "the value is empty; it must be at least " + std::to_string(s.min) +
                     " byte(s) long"
               : shown + " is shorter than the minimum of " + std::to_string(s.min) + " bytes";
  }
  if (length > s.max) {
    return "the value is " + std::to_string(length) + " bytes long, more than the maximum of " +
           std::to_string(s.max);
  }
  const auto control = std::find_if(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20U || c == '\x7f';
  });
  if (control != v.end()) {
    return "the value holds a control character at byte " + std::to_string(control - v.begin());
  }
  return {};
}

std::string check_choice(const setting& s, const std::string& v) {
  const auto words = split_words(s.allowed);
  if (std::find(words.begin(), words.end(), v) != words.end()) return {};
  return quote(v) + " is not one of " + join(words, "", "", ", ");
}

std::string check_url(const setting& s, const std::string& v) {
  std::string problem = check_text(s, v);
  if (!problem.empty()) return problem;
  if (v.empty()) return {};  // only an optional URL (min 0) passes check_text empty
  const auto schemes = split_words(s.allowed);
  const std::size_t colon = v.find("://");
  const std::string_view scheme =
      colon == std::string::npos ? std::string_view{} : std::string_view(v).substr(0, colon);
  if (colon != std::string::npos &&
      std::find(schemes.begin(), schemes.end(), scheme) != schemes.end()) {
    return {};
  }
  return quote(redact_url(v)) + " does not start with " + join(schemes, "", "://", " or ");
}

// Replaces the value of every "password=" (any case) by "***", up to '&', ' ' or the end.
void redact_password_parameters(std::string& out) {
  constexpr std::string_view marker = "password=";
  std::string lower(out.size(), ' ');
  std::transform(out.begin(), out.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  std::size_t shift = 0;  // out grows or shrinks as values are replaced; lower does not
  for (std::size_t at = lower.find(marker); at != std::string::npos;
       at = lower.find(marker, at + marker.size())) {
    const std::size_t start = at + marker.size();
    const std::size_t end = std::min(lower.find_first_of("& \t", start), lower.size());
    out.replace(start + shift, end - start, "***");
    shift = shift + 3 - (end - start);
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

parsed parse_integer(std::string_view text) {
  const bool negative = text.starts_with('-');
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return {std::nullopt, quote(text) + " is not a decimal integer"};
  }
  if (digits.size() > 1 && digits.front() == '0') {
    return {std::nullopt, quote(text) + " has a leading zero (decimal integers only)"};
  }
  // Accumulate negatively: the negative range is one larger, so INT64_MIN parses too.
  constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  std::int64_t v = 0;
  for (const char c : digits) {
    const std::int64_t d = c - '0';
    if (v < (lowest + d) / 10) {
      return {std::nullopt, quote(text) + " does not fit in a 64-bit integer"};
    }
    v = v * 10 - d;
  }
  if (!negative) {
    if (v == lowest) return {std::nullopt, quote(text) + " does not fit in a 64-bit integer"};
    v = -v;
  }
  return {value{v}, {}};
}

parsed parse_boolean(std::string_view text) {
  if (text == "true") return {value{true}, {}};
  if (text == "false") return {value{false}, {}};
  return {std::nullopt, quote(text) + " is not a boolean (true or false)"};
}

parsed parse_value(const setting& s, std::string_view text) {
  parsed p;
  switch (s.type) {
    case kind::integer:
      p = parse_integer(text);
      break;
    case kind::boolean:
      p = parse_boolean(text);
      break;
    case kind::text:
    case kind::choice:
    case kind::url:
      p = {value{std::string(text)}, {}};
      break;
  }
  if (p.ok) {
    p.error = check_bounds(s, *p.ok);
    if (!p.error.empty()) p.ok.reset();
  }
  return p;
}

std::string check_bounds(const setting& s, const value& v) {
  switch (s.type) {
    case kind::integer:
      return check_integer(s, std::get<std::int64_t>(v));
    case kind::boolean:
      return {};
    case kind::text:
      return check_text(s, std::get<std::string>(v));
    case kind::choice:
      return check_choice(s, std::get<std::string>(v));
    case kind::url:
      return check_url(s, std::get<std::string>(v));
  }
  return "unknown kind of setting";
}

std::string render(const setting& s, const value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  const auto& text = std::get<std::string>(v);
  if (s.secret) return text.empty() ? std::string{} : std::string("***");
  if (s.type == kind::url) return redact_url(text);
  return text;
}

std::string redact_url(std::string_view text) {
  std::string out(text);
  // Each "scheme://" opens an authority that may hold "user:password@". The password may itself
  // hold '/', '?' or '@' when it was not percent-encoded, so the userinfo is taken to end at the
  // last '@' before the next URL of a list: this may hide more than the password, never less.
  for (std::size_t at = out.find("://"); at != std::string::npos; at = out.find("://", at + 3)) {
    const std::size_t start = at + 3;
    const std::size_t next = std::min(out.find("://", start), out.size());
    const std::size_t sign = out.rfind('@', next == 0 ? 0 : next - 1);
    if (sign == std::string::npos || sign < start) continue;
    const std::size_t colon = out.find(':', start);
    if (colon == std::string::npos || colon > sign) continue;
    out.replace(colon + 1, sign - colon - 1, "***");
  }
  redact_password_parameters(out);
  return out;
}

std::string environment_name(std::string_view setting_name) {
  std::string out(environment_prefix);
  for (const char c : setting_name) {
    if (c == '.') {
      out += "__";
    } else {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  const std::size_t allowed = std::max<std::size_t>(2, word.size() / 4);
  std::optional<std::string> best;
  std::size_t best_distance = allowed + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace wallet::config
