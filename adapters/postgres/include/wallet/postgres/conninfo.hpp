// Building libpq connection strings from configuration, and keeping their passwords out of
// messages.
#pragma once

#include <string>
#include <string_view>

#include "wallet/engine/result.hpp"
#include "wallet/postgres/error.hpp"

namespace wallet::postgres {

// What configuration says about the connection (config keys postgres.*). Empty strings are unset.
struct connection_options {
  std::string url;               // postgresql://user@host:port/db[?param=value...], no password
  std::string password_file;     // a file whose first line is the password (a mounted secret)
  std::string sslmode;           // disable | allow | prefer | require | verify-ca | verify-full
  std::string sslrootcert;       // CA certificate file, for verify-ca / verify-full
  std::string sslcert;           // client certificate file
  std::string sslkey;            // client key file
  std::string application_name;  // shown in pg_stat_activity
};

// The libpq connection URI for `options`: the URL with the TLS options, the application name and
// the password (read from password_file) appended as percent-encoded query parameters.
// The result holds the password: pass it to pg_store_settings, never to a log (redact_conninfo).
// Fails with invalid_argument on a URL that is not postgres(ql)://, a bad sslmode, a password given
// both in the URL and in a file, or an unreadable or empty password file.
[[nodiscard]] engine::result<std::string, error> make_conninfo(const connection_options& options);

// `conninfo` (URI or key=value form) with every password replaced by "***": the URI's
// user:password@ part and any password= / sslpassword= parameter.
[[nodiscard]] std::string redact_conninfo(std::string_view conninfo);

// The password `conninfo` carries, as libpq would use it (empty when none). Used to scrub messages.
[[nodiscard]] std::string conninfo_password(std::string_view conninfo);

// `text` with every occurrence of `secret` replaced by "***" (nothing when `secret` is empty), and
// any connection string in it redacted.
[[nodiscard]] std::string scrub_secret(std::string_view text, std::string_view secret);

}  // namespace wallet::postgres
