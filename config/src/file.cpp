// The JSON configuration file: sections nest settings ({"store": {"batch_size_max": 512}}),
// comments are allowed, and anything unknown, duplicated or of the wrong type is an error.
#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "wallet/config/load.hpp"
#include "wallet/config/text.hpp"

namespace wallet::config {
namespace {

namespace json = boost::json;

json::parse_options file_options() {
  json::parse_options o;
  o.allow_comments = true;
  o.max_depth = 16;
  return o;
}

// Finds the first key repeated within one object, which Boost.JSON would silently let win.
struct duplicate_finder {
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  std::vector<std::vector<std::string>> objects;  // keys seen, per open object; arrays hold none
  std::string key;
  std::optional<std::string> duplicate;

  static bool on_document_begin(json::error_code& /*ec*/) { return true; }
  static bool on_document_end(json::error_code& /*ec*/) { return true; }
  bool on_array_begin(json::error_code& /*ec*/) {
    objects.emplace_back();
    return true;
  }
  bool on_array_end(std::size_t /*n*/, json::error_code& /*ec*/) {
    objects.pop_back();
    return true;
  }
  bool on_object_begin(json::error_code& /*ec*/) {
    objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t /*n*/, json::error_code& /*ec*/) {
    objects.pop_back();
    return true;
  }
  static bool on_string_part(json::string_view /*s*/, std::size_t /*n*/, json::error_code& /*ec*/) {
    return true;
  }
  static bool on_string(json::string_view /*s*/, std::size_t /*n*/, json::error_code& /*ec*/) {
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t /*n*/, json::error_code& /*ec*/) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t /*n*/, json::error_code& ec) {
    key.append(s.data(), s.size());
    std::vector<std::string>& seen = objects.back();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      duplicate = key;
      ec = json::make_error_code(json::error::syntax);
      return false;
    }
    seen.push_back(std::move(key));
    key.clear();
    return true;
  }
  static bool on_number_part(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }
  static bool on_int64(std::int64_t /*i*/, json::string_view /*s*/, json::error_code& /*ec*/) {
    return true;
  }
  static bool on_uint64(std::uint64_t /*u*/, json::string_view /*s*/, json::error_code& /*ec*/) {
    return true;
  }
  static bool on_double(double /*d*/, json::string_view /*s*/, json::error_code& /*ec*/) {
    return true;
  }
  static bool on_bool(bool /*b*/, json::error_code& /*ec*/) { return true; }
  static bool on_null(json::error_code& /*ec*/) { return true; }
  static bool on_comment_part(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }
  static bool on_comment(json::string_view /*s*/, json::error_code& /*ec*/) { return true; }
};

// "path:3:14" for the byte at `offset`.
std::string position(const std::string& path, std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return path + ":" + std::to_string(line) + ":" + std::to_string(offset - line_start + 1);
}

// Syntax errors and duplicate keys, with their position. Empty if the text is well-formed.
std::string check_syntax(std::string_view text, const std::string& path) {
  json::basic_parser<duplicate_finder> parser(file_options());
  json::error_code ec;
  const std::size_t parsed = parser.write_some(false, text.data(), text.size(), ec);
  if (parser.handler().duplicate) {
    return position(path, text, parsed) + ": key \"" + *parser.handler().duplicate +
           "\" appears twice in the same object";
  }
  if (ec) return position(path, text, parsed) + ": invalid JSON: " + ec.message();
  if (parsed != text.size()) return position(path, text, parsed) + ": text after the JSON value";
  return {};
}

std::string describe_json(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
    case json::kind::uint64:
      return "the number " + json::serialize(v);
    case json::kind::double_: {
      std::array<char, 32> buffer{};
      const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v.get_double());
      return "the number " + std::string(buffer.data(), end.ptr);
    }
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "an unknown JSON value";
}

// Boost.JSON reads a fraction, an exponent or an integer beyond 64 bits as a double.
std::string not_an_integer(double d) {
  const std::string shown = describe_json(json::value(d));
  if (std::trunc(d) != d) return "expected an integer, got " + shown;
  if (std::fabs(d) >= 9.2e18) return shown + " does not fit in a 64-bit integer";
  return "expected an integer without fraction or exponent, got " + shown;
}

// The JSON value as a value of `s`, or why it is not one.
parsed from_json(const setting& s, const json::value& v) {
  switch (s.type) {
    case kind::integer:
      if (v.is_int64()) return {value{v.get_int64()}, {}};
      if (v.is_uint64()) {
        return {std::nullopt, describe_json(v) + " does not fit in a 64-bit integer"};
      }
      if (v.is_double()) return {std::nullopt, not_an_integer(v.get_double())};
      return {std::nullopt, "expected an integer, got " + describe_json(v)};
    case kind::boolean:
      if (v.is_bool()) return {value{v.get_bool()}, {}};
      return {std::nullopt, "expected true or false, got " + describe_json(v)};
    case kind::text:
    case kind::choice:
    case kind::url:
      if (v.is_string()) return {value{std::string(v.get_string())}, {}};
      return {std::nullopt, "expected a string, got " + describe_json(v)};
  }
  return {std::nullopt, "unknown kind of setting"};
}

bool is_section(std::string_view name) {
  return std::ranges::any_of(settings, [name](const setting& s) {
    return s.name.size() > name.size() && s.name.starts_with(name) && s.name[name.size()] == '.';
  });
}

std::vector<std::string> setting_names() {
  std::vector<std::string> out;
  out.reserve(settings.size());
  for (const setting& s : settings) out.emplace_back(s.name);
  return out;
}

struct walker {
  const std::string& path;
  config& cfg;
  std::vector<std::string>& errors;

  void fail(std::string_view name, const std::string& problem) {
    errors.push_back(std::string(name) + ": " + problem + " (from file " + path + ")");
  }

  void apply(std::size_t index, const json::value& v) {
    const setting& s = settings[index];
    parsed p = from_json(s, v);
    if (p.ok) {
      p.error = check_bounds(s, *p.ok);
      if (!p.error.empty()) p.ok.reset();
    }
    if (!p.ok) return fail(s.name, p.error);
    cfg.set(index, std::move(*p.ok), origin{source::file, path});
  }

  void walk(const json::object& object, const std::string& prefix) {
    for (const auto& member : object) {
      const std::string_view key = member.key();
      const std::string name = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
      if (key.find('.') != std::string_view::npos) {
        fail(name,
             "a key may not contain '.'; nest sections instead, as in {\"store\": "
             "{\"batch_size_max\": 512}}");
      } else if (const auto index = find_setting(name)) {
        apply(*index, member.value());
      } else if (is_section(name)) {
        if (member.value().is_object()) {
          walk(member.value().get_object(), name);
        } else {
          fail(name,
               "expected an object (a section of settings), got " + describe_json(member.value()));
        }
      } else {
        const auto hint = nearest(name, setting_names());
        fail(name, "unknown setting" + (hint ? "; did you mean " + *hint + "?" : std::string{}));
      }
    }
  }
};

}  // namespace

void apply_file(std::string_view text, const std::string& path, config& cfg,
                std::vector<std::string>& errors) {
  if (std::string problem = check_syntax(text, path); !problem.empty()) {
    errors.push_back(std::move(problem));
    return;
  }
  json::error_code ec;
  const json::value root = json::parse(text, ec, json::storage_ptr(), file_options());
  if (ec) {  // check_syntax accepted it, so only memory can fail here
    errors.push_back(path + ": invalid JSON: " + ec.message());
    return;
  }
  if (!root.is_object()) {
    errors.push_back(path + ": the file must hold a JSON object, not " + describe_json(root));
    return;
  }
  walker{path, cfg, errors}.walk(root.get_object(), "");
}

file_text read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {std::nullopt, std::generic_category().message(errno)};
  std::string text;
  std::array<char, 8192> buffer{};
  while (text.size() <= file_size_max) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), f);
    text.append(buffer.data(), n);
    if (n < buffer.size()) break;
  }
  const int read_errno = std::ferror(f) != 0 ? errno : 0;
  std::fclose(f);
  if (read_errno != 0) return {std::nullopt, std::generic_category().message(read_errno)};
  if (text.size() > file_size_max) {
    return {std::nullopt, "larger than " + std::to_string(file_size_max) + " bytes"};
  }
  return {std::move(text), {}};
}

}  // namespace wallet::config
