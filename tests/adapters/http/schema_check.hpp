// Test support: checks a JSON value against the subset of JSON Schema that docs/openapi.json uses
// (type, properties, required, additionalProperties, items, enum, pattern, minimum, minLength,
// maxLength, $ref into #/components/...), and finds an operation's documented response schema.
#pragma once

#include <boost/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace wallet::http::testing {

class schema_check {
 public:
  explicit schema_check(const boost::json::value& document) : doc_(document) {}

  // Every way `value` breaks `schema`, as "path: problem"; empty when it conforms.
  [[nodiscard]] std::vector<std::string> check(const boost::json::value& value,
                                               const boost::json::value& schema) const {
    std::vector<std::string> out;
    walk(value, schema, "$", out);
    return out;
  }

  // The schema documented for `method` on `pattern` answering `status` with `content_type`;
  // null when the document does not list that answer.
  [[nodiscard]] const boost::json::value* response_schema(const std::string& pattern,
                                                          const std::string& method,
                                                          unsigned status,
                                                          const std::string& content_type) const {
    const auto* op = find(doc_, {"paths", pattern, method});
    if (op == nullptr) return nullptr;
    const auto* response = find(*op, {"responses", std::to_string(status)});
    if (response == nullptr) return nullptr;
    response = &resolve(*response);
    return find(*response, {"content", content_type, "schema"});
  }

  // A "#/a/b/c" reference resolved; anything else is returned as it is.
  [[nodiscard]] const boost::json::value& resolve(const boost::json::value& v) const {
    if (!v.is_object()) return v;
    const auto* ref = v.get_object().if_contains("$ref");
    if (ref == nullptr) return v;
    std::string path(ref->get_string());
    std::vector<std::string> parts;
    for (std::size_t start = 2; start <= path.size();) {
      const std::size_t end = std::min(path.find('/', start), path.size());
      parts.push_back(path.substr(start, end - start));
      start = end + 1;
    }
    const boost::json::value* at = &doc_;
    for (const auto& p : parts) at = &at->at(p);
    return resolve(*at);
  }

 private:
  static const boost::json::value* find(const boost::json::value& from,
                                        std::initializer_list<std::string> keys) {
    const boost::json::value* at = &from;
    for (const auto& k : keys) {
      if (!at->is_object()) return nullptr;
      at = at->get_object().if_contains(k);
      if (at == nullptr) return nullptr;
    }
    return at;
  }

  static bool has_type(const boost::json::value& v, std::string_view type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "integer") return v.is_int64() || v.is_uint64();
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_bool();
    if (type == "null") return v.is_null();
    return false;
  }

  void walk(const boost::json::value& v, const boost::json::value& raw, const std::string& at,
            std::vector<std::string>& out) const {
    const auto& schema = resolve(raw).get_object();
    if (const auto* t = schema.if_contains("type"); t && !has_type(v, t->get_string())) {
      out.push_back(at + ": not of type " + std::string(t->get_string()));
      return;
    }
    if (const auto* e = schema.if_contains("enum")) {
      bool found = false;
      for (const auto& option : e->get_array()) found = found || option == v;
      if (!found) out.push_back(at + ": " + boost::json::serialize(v) + " not in enum");
    }
    if (v.is_string()) {
      const std::string text(v.get_string());
      if (const auto* p = schema.if_contains("pattern");
          p && !std::regex_search(text, std::regex(std::string(p->get_string())))) {
        out.push_back(at + ": \"" + text + "\" does not match " + std::string(p->get_string()));
      }
      if (const auto* m = schema.if_contains("minLength");
          m && text.size() < m->to_number<std::size_t>()) {
        out.push_back(at + ": shorter than minLength");
      }
      if (const auto* m = schema.if_contains("maxLength");
          m && text.size() > m->to_number<std::size_t>()) {
        out.push_back(at + ": longer than maxLength");
      }
    }
    if (v.is_int64() || v.is_uint64()) {
      if (const auto* m = schema.if_contains("minimum");
          m && v.to_number<double>() < m->to_number<double>()) {
        out.push_back(at + ": below minimum");
      }
    }
    if (v.is_array()) {
      if (const auto* items = schema.if_contains("items")) {
        std::size_t i = 0;
        for (const auto& item : v.get_array())
          walk(item, *items, at + "[" + std::to_string(i++) + "]", out);
      }
    }
    if (v.is_object()) object(v.get_object(), schema, at, out);
  }

  void object(const boost::json::object& o, const boost::json::object& schema,
              const std::string& at, std::vector<std::string>& out) const {
    const boost::json::object empty;
    const auto* props = schema.if_contains("properties");
    const auto& properties = props ? props->get_object() : empty;
    if (const auto* req = schema.if_contains("required")) {
      for (const auto& name : req->get_array()) {
        if (!o.contains(name.get_string())) {
          out.push_back(at + ": missing " + std::string(name.get_string()));
        }
      }
    }
    const auto* extra = schema.if_contains("additionalProperties");
    for (const auto& [key, value] : o) {
      const std::string child = at + "." + std::string(key);
      if (const auto* p = properties.if_contains(key)) {
        walk(value, *p, child, out);
      } else if (extra && extra->is_bool() && !extra->get_bool()) {
        out.push_back(child + ": not allowed (additionalProperties: false)");
      } else if (extra && extra->is_object()) {
        walk(value, *extra, child, out);
      }
    }
  }

  const boost::json::value& doc_;
};

}  // namespace wallet::http::testing
