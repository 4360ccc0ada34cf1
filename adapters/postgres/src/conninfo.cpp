// Connection strings: built from configuration, parsed by libpq, redacted for messages.
#include "wallet/postgres/conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <memory>

namespace wallet::postgres {
namespace {

constexpr std::string_view redacted = "***";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool is_uri(std::string_view conninfo) {
  return starts_with(conninfo, "postgresql://") || starts_with(conninfo, "postgres://");
}

engine::result<std::string, error> invalid(std::string detail) {
  return error{errc::invalid_argument, std::move(detail)};
}

std::string percent_encode(std::string_view value) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto byte = static_cast<unsigned char>(ch);
    if (std::isalnum(byte) != 0 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[byte >> 4U]);
      out.push_back(hex[byte & 0x0FU]);
    }
  }
  return out;
}

// The authority of a URI starting at `from` (after "://"): up to '/', '?', '#', white space or the
// end. Returns the position of the '@' ending its user info, or npos.
std::size_t userinfo_end(std::string_view text, std::size_t from) {
  std::size_t end = from;
  while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#' &&
         std::isspace(static_cast<unsigned char>(text[end])) == 0) {
    ++end;
  }
  const std::size_t at = text.substr(from, end - from).rfind('@');
  return at == std::string_view::npos ? at : from + at;
}

// Replaces "user:password@" by "user:***@" in every "scheme://" of `text`.
void redact_userinfo(std::string& text) {
  std::size_t scheme = text.find("://");
  while (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t at = userinfo_end(text, start);
    if (at != std::string::npos) {
      const std::size_t colon = text.find(':', start);
      if (colon != std::string::npos && colon < at) {
        text.replace(colon + 1, at - colon - 1, redacted);
      }
    }
    scheme = text.find("://", start);
  }
}

// The end of a key=value value starting at `from`: a quoted value ('...' with \' escapes) ends
// after its closing quote; a bare one at white space or '&'.
std::size_t value_end(std::string_view text, std::size_t from) {
  if (from < text.size() && text[from] == '\'') {
    std::size_t i = from + 1;
    while (i < text.size() && text[i] != '\'') {
      i += text[i] == '\\' ? std::size_t{2} : std::size_t{1};
    }
    return std::min(i + 1, text.size());
  }
  std::size_t i = from;
  while (i < text.size() && text[i] != '&' &&
         std::isspace(static_cast<unsigned char>(text[i])) == 0) {
    ++i;
  }
  return i;
}

// Replaces the value of every "password=" (any case, also sslpassword=, spaces around '=') by ***.
void redact_password_parameters(std::string& text) {
  static constexpr std::string_view marker = "password";
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto it = std::search(
        text.begin() + static_cast<std::ptrdiff_t>(pos), text.end(), marker.begin(), marker.end(),
        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    if (it == text.end()) {
      return;
    }
    std::size_t i = static_cast<std::size_t>(it - text.begin()) + marker.size();
    while (i < text.size() && text[i] == ' ') {
      ++i;
    }
    if (i < text.size() && text[i] == '=') {
      ++i;
      while (i < text.size() && text[i] == ' ') {
        ++i;
      }
      const std::size_t end = value_end(text, i);
      text.replace(i, end - i, redacted);
      i += redacted.size();
    }
    pos = i;
  }
}

// The query parameter names already in a URI ("sslmode" for "...?sslmode=require&...").
bool uri_has_parameter(std::string_view uri, std::string_view name) {
  const std::size_t query = uri.find('?');
  if (query == std::string_view::npos) {
    return false;
  }
  std::size_t pos = query + 1;
  while (pos < uri.size()) {
    const std::size_t end = std::min(uri.find('&', pos), uri.size());
    const std::string_view pair = uri.substr(pos, end - pos);
    if (pair.substr(0, pair.find('=')) == name) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

bool uri_has_password(std::string_view uri) {
  const std::size_t start = uri.find("://") + 3;
  const std::size_t at = userinfo_end(uri, start);
  return at != std::string_view::npos &&
         uri.substr(start, at - start).find(':') != std::string_view::npos;
}

engine::result<std::string, error> read_password_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return invalid("postgres password file '" + path + "' cannot be read");
  }
  std::string password;
  std::getline(file, password);
  if (!password.empty() && password.back() == '\r') {
    password.pop_back();
  }
  if (password.empty()) {
    return invalid("postgres password file '" + path +
                   "' is empty (the password is its first line)");
  }
  return password;
}

bool valid_sslmode(std::string_view mode) {
  static constexpr std::array<std::string_view, 6> modes = {"disable", "allow",     "prefer",
                                                            "require", "verify-ca", "verify-full"};
  return std::find(modes.begin(), modes.end(), mode) != modes.end();
}

}  // namespace

engine::result<std::string, error> make_conninfo(const connection_options& options) {
  const std::string& url = options.url;
  if (!is_uri(url)) {
    return invalid("postgres url must start with postgresql:// or postgres://, got '" +
                   redact_conninfo(url) + "'");
  }
  if (url.find('#') != std::string::npos) {
    return invalid("postgres url must not have a fragment ('#'): '" + redact_conninfo(url) + "'");
  }
  if (!options.sslmode.empty() && !valid_sslmode(options.sslmode)) {
    return invalid(
        "postgres sslmode must be disable, allow, prefer, require, verify-ca or "
        "verify-full, got '" +
        options.sslmode + "'");
  }
  std::string password;
  if (!options.password_file.empty()) {
    if (uri_has_password(url)) {
      return invalid(
          "postgres password given both in the url and in password_file; keep it in "
          "the file only");
    }
    auto read = read_password_file(options.password_file);
    if (!read) {
      return read.error();
    }
    password = std::move(read).value();
  }
  const std::array<std::pair<std::string_view, const std::string*>, 6> parameters = {{
      {"sslmode", &options.sslmode},
      {"sslrootcert", &options.sslrootcert},
      {"sslcert", &options.sslcert},
      {"sslkey", &options.sslkey},
      {"application_name", &options.application_name},
      {"password", &password},
  }};
  std::string conninfo = url;
  bool has_query = url.find('?') != std::string::npos;
  for (const auto& [name, value] : parameters) {
    if (value->empty()) {
      continue;
    }
    if (uri_has_parameter(url, name)) {
      return invalid("postgres url already sets '" + std::string(name) +
                     "'; set it in one place only");
    }
    if (!has_query) {
      conninfo.push_back('?');
      has_query = true;
    } else if (conninfo.back() != '?' && conninfo.back() != '&') {
      conninfo.push_back('&');
    }
    conninfo.append(name);
    conninfo.push_back('=');
    conninfo.append(percent_encode(*value));
  }
  return conninfo;
}

std::string redact_conninfo(std::string_view conninfo) {
  std::string out(conninfo);
  redact_userinfo(out);
  redact_password_parameters(out);
  return out;
}

std::string conninfo_password(std::string_view conninfo) {
  char* message = nullptr;
  const std::string text(conninfo);
  const std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
      PQconninfoParse(text.c_str(), &message), PQconninfoFree);
  if (message != nullptr) {
    PQfreemem(message);
  }
  if (!options) {
    return {};
  }
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val != nullptr) {
      return option->val;
    }
  }
  return {};
}

std::string scrub_secret(std::string_view text, std::string_view secret) {
  std::string out(text);
  if (!secret.empty()) {
    for (std::size_t pos = out.find(secret); pos != std::string::npos;
         pos = out.find(secret, pos + redacted.size())) {
      out.replace(pos, secret.size(), redacted);
    }
  }
  return redact_conninfo(out);
}

}  // namespace wallet::postgres
