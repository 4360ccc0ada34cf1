// Opening a connection for the HTTP adapter's pools (pg_reader, pg_admin): the connect and every
// statement bounded, session variables set, a failure reported without the password.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>

#include "wallet/http/pg_reader.hpp"
#include "wallet/postgres/conninfo.hpp"

namespace wallet::http {

// Connects to `conninfo` with read_connect_timeout_s and read_statement_timeout and sets
// `variables`. Null when it fails: `failed` hears "connecting to PostgreSQL<what>: why".
inline std::unique_ptr<pqxx::connection> open_connection(
    const std::string& conninfo, std::string_view what,
    std::initializer_list<std::pair<const char*, const char*>> variables,
    const std::function<void(std::string_view)>& failed) {
  try {
    // make_conninfo builds a URI: one more query parameter bounds the connect.
    const char separator = conninfo.find('?') == std::string::npos ? '?' : '&';
    auto c = std::make_unique<pqxx::connection>(
        conninfo + separator + "connect_timeout=" + std::to_string(read_connect_timeout_s));
    c->set_variable("statement_timeout", std::to_string(read_statement_timeout.count()));
    for (const auto& [name, value] : variables) c->set_variable(name, value);
    return c;
  } catch (const std::exception& e) {
    failed(postgres::scrub_secret(
        std::string{"connecting to PostgreSQL"}.append(what).append(": ").append(e.what()),
        postgres::conninfo_password(conninfo)));
    return nullptr;
  }
}

}  // namespace wallet::http
