// The PostgreSQL adapter's error codes for set-up and maintenance calls (the store port has its
// own).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wallet::postgres {

enum class errc : std::uint8_t {
  unavailable,         // no connection, connection lost, server shutting down or overloaded
  rejected,            // the database refused the statement or returned data that cannot be mapped
  migration_mismatch,  // an applied migration differs from, or is unknown to, this binary
  shard_count_mismatch,  // the database was set up for another shard count
  invalid_argument,      // a caller's value is out of range (a bad month count, an unreadable file)
};

[[nodiscard]] std::string_view to_string(errc e) noexcept;

struct error {
  errc code = errc::unavailable;
  std::string detail;  // for logs and operators; never contains a password
};

}  // namespace wallet::postgres
