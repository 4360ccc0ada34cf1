// Turns whatever libpqxx (or the standard library) threw into an error code: the one place where
// the adapter's exceptions stop. Internal to the adapter.
#pragma once

#include <string>
#include <string_view>

#include "wallet/postgres/error.hpp"

namespace wallet::postgres::detail {

struct failure {
  errc code = errc::unavailable;  // unavailable or rejected
  bool connection_lost = false;   // the connection is unusable: drop it and reconnect later
  std::string detail;             // "<doing>: <message>", scrubbed of `secret`
};

// Classifies the exception being handled; call only inside a catch block. `doing` names the
// operation for the detail ("commit", "load_wallet w-1").
//  unavailable: a broken connection, SQLSTATE class 08 (connection), 53 (resources), 57 (operator
//    intervention: shutdown, statement timeout), 40 (rollback: deadlock, serialization), 55P03
//    (lock timeout), an unknown commit outcome, memory exhaustion;
//  rejected: everything else (constraints 23xxx, a trigger's RAISE P0001, bad data 22xxx, ...).
[[nodiscard]] failure classify_current_exception(std::string_view doing,
                                                 std::string_view secret) noexcept;

// The primary message of a server error in libpq's text ("ERROR:  <message>" and, on further
// lines, DETAIL, CONTEXT, ...): the words of a RAISE, without the severity or the context. The
// whole text when it has no severity prefix.
[[nodiscard]] std::string primary_message(std::string_view error_text);

// The SQLSTATE classification alone, for tests.
[[nodiscard]] errc classify_sqlstate(std::string_view sqlstate) noexcept;

}  // namespace wallet::postgres::detail
