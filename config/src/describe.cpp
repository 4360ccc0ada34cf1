// Renders the schema for people (--help, the Markdown reference) and a configuration as JSON.
#include "wallet/config/describe.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "wallet/config/text.hpp"

namespace wallet::config {
namespace {

namespace json = boost::json;

std::string replace_all(std::string_view text, char from, std::string_view to) {
  std::string out;
  for (const char c : text) {
    if (c == from) {
      out += to;
    } else {
      out += c;
    }
  }
  return out;
}

const char* type_name(kind k) {
  switch (k) {
    case kind::integer:
      return "integer";
    case kind::boolean:
      return "boolean";
    case kind::text:
      return "string";
    case kind::choice:
      return "choice";
    case kind::url:
      return "URL";
  }
  return "?";
}

// What a value may be: "1..65536", "trace|debug|...", "postgresql://|postgres://", "0..4096 bytes".
std::string allowed_text(const setting& s) {
  switch (s.type) {
    case kind::integer:
      return std::to_string(s.min) + ".." + std::to_string(s.max);
    case kind::boolean:
      return "true|false";
    case kind::text:
      return std::to_string(s.min) + ".." + std::to_string(s.max) + " bytes";
    case kind::choice:
      return std::string(s.allowed);
    case kind::url:
      return replace_all(s.allowed, '|', "://|") + "://";
  }
  return {};
}

// The VALUE of --name=VALUE in --help.
std::string value_shape(const setting& s) {
  switch (s.type) {
    case kind::text:
      return "TEXT";
    case kind::url:
      return "URL";
    case kind::integer:
    case kind::boolean:
    case kind::choice:
      return allowed_text(s);
  }
  return {};
}

std::string default_text(const setting& s) {
  const config defaults;
  const std::string shown = render(s, defaults.at(*find_setting(s.name)));
  return shown.empty() ? "\"\"" : shown;
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

// "`a` * 1000 < `b`: why"; appends only (GCC 12 -O3 misreads "literal" + std::string chains as
// overlapping copies, -Wrestrict).
void append_operand(std::string& out, std::string_view name, std::int64_t scale,
                    std::string_view quote) {
  out.append(quote).append(name).append(quote);
  if (scale != 1) out.append(" * ").append(std::to_string(scale));
}

std::string relation_text(const relation& r, std::string_view quote) {
  std::string out;
  append_operand(out, r.left, r.left_scale, quote);
  out.append(" ").append(symbol(r.op)).append(" ");
  append_operand(out, r.right, r.right_scale, quote);
  out.append(": ").append(r.why);
  return out;
}

json::value json_value(const setting& s, const value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return json::string(render(s, v));
}

void append_pretty(const json::value& v, std::size_t indent, std::string& out) {
  if (!v.is_object() || v.get_object().empty()) {
    out += json::serialize(v);
    return;
  }
  out += "{\n";
  const json::object& object = v.get_object();
  std::size_t remaining = object.size();
  for (const auto& member : object) {
    out.append(indent + 2, ' ');
    out += json::serialize(json::string(member.key())) + ": ";
    append_pretty(member.value(), indent + 2, out);
    out += --remaining == 0 ? "\n" : ",\n";
  }
  out.append(indent, ' ');
  out += "}";
}

}  // namespace

std::string help_text() {
  std::string out =
      "Usage: walletd [--config=FILE] [--SECTION.NAME=VALUE ...] [--print-config | --version | "
      "--help]\n"
      "\n"
      "walletd, the wallet engine daemon.\n"
      "\n"
      "  --config=FILE   read settings from a JSON file (also: environment WALLETD_CONFIG)\n"
      "  --print-config  print the effective configuration as JSON, secrets redacted, and exit\n"
      "  --version       print the version and exit\n"
      "  --help, -h      print this help and exit\n"
      "\n"
      "Each setting is taken from, in increasing precedence: its default, the configuration\n"
      "file ({\"section\": {\"name\": value}}), the environment variable WALLETD_SECTION__NAME\n"
      "and the flag --section.name=VALUE. Unknown names and invalid values are errors: walletd\n"
      "then prints every problem and exits with status 2.\n"
      "\nSettings:\n";
  for (const setting& s : settings) {
    out.append("  --").append(s.name).append("=").append(value_shape(s));
    out.append("  (").append(type_name(s.type));
    if (s.type == kind::text || s.type == kind::url) out.append(", ").append(allowed_text(s));
    out.append("; default ").append(default_text(s)).append(")\n");
    out += "      " + std::string(s.doc) + "\n";
    out += "      environment " + environment_name(s.name) + "\n";
  }
  out += "\nRelations, checked once every value is valid:\n";
  for (const relation& r : relations) out += "  " + relation_text(r, "") + "\n";
  return out;
}

std::string markdown_reference() {
  std::string out =
      "| Setting | Type | Default | Allowed | Environment variable | Description |\n"
      "|---|---|---|---|---|---|\n";
  for (const setting& s : settings) {
    out += "| `" + std::string(s.name) + "` | " + type_name(s.type) + " | `" + default_text(s) +
           "` | " + replace_all(allowed_text(s), '|', "\\|") + " | `" + environment_name(s.name) +
           "` | " + replace_all(s.doc, '|', "\\|") + " |\n";
  }
  out += "\nRelations, checked once every value is valid:\n\n";
  for (const relation& r : relations) out += "- " + relation_text(r, "`") + ".\n";
  return out;
}

std::string to_json(const config& cfg, bool pretty) {
  json::value root = json::object();
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const std::string_view name = settings[i].name;
    json::object* section = &root.get_object();
    std::size_t start = 0;
    for (std::size_t dot = name.find('.'); dot != std::string_view::npos;
         dot = name.find('.', start)) {
      json::value& child = (*section)[name.substr(start, dot - start)];
      if (!child.is_object()) child = json::object();
      section = &child.get_object();
      start = dot + 1;
    }
    (*section)[name.substr(start)] = json_value(settings[i], cfg.at(i));
  }
  if (!pretty) return json::serialize(root);
  std::string out;
  append_pretty(root, 0, out);
  return out + "\n";
}

}  // namespace wallet::config
