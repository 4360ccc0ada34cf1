// Exception classification for the adapter's boundary.
#include "failure.hpp"

#include <new>
#include <pqxx/except>
#include <stdexcept>

#include "wallet/postgres/conninfo.hpp"

namespace wallet::postgres::detail {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The message without the trailing newline libpq leaves on it.
std::string trimmed(std::string_view message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  return std::string(message);
}

failure make(errc code, bool lost, std::string_view doing, std::string_view message,
             std::string_view secret) {
  std::string detail(doing);
  detail.append(": ");
  detail.append(trimmed(message));
  return failure{code, lost, scrub_secret(detail, secret)};
}

failure classify_sql_error(const pqxx::sql_error& e, std::string_view doing,
                           std::string_view secret) {
  const std::string& state = e.sqlstate();
  const errc code = classify_sqlstate(state);
  // Class 08 and an administrator's termination (57P01..57P03) end the session.
  const bool lost = starts_with(state, "08") || starts_with(state, "57P");
  std::string message = state.empty() ? std::string{} : "[" + state + "] ";
  message.append(e.what());
  return make(code, lost, doing, message, secret);
}

failure classify(std::string_view doing, std::string_view secret) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return make(errc::unavailable, true, doing, e.what(), secret);
  } catch (const pqxx::in_doubt_error& e) {
    // The commit may or may not have happened: the caller reloads, and the fence and the
    // idempotency keys make the retry safe.
    return make(errc::unavailable, true, doing, std::string("commit outcome unknown: ") + e.what(),
                secret);
  } catch (const pqxx::transaction_rollback& e) {
    return make(errc::unavailable, false, doing, e.what(), secret);
  } catch (const pqxx::sql_error& e) {
    return classify_sql_error(e, doing, secret);
  } catch (const pqxx::failure& e) {
    return make(errc::unavailable, true, doing, e.what(), secret);
  } catch (const std::bad_alloc&) {
    return make(errc::unavailable, false, doing, "out of memory", secret);
  } catch (const std::exception& e) {
    return make(errc::rejected, false, doing, e.what(), secret);
  } catch (...) {
    return make(errc::rejected, false, doing, "unknown exception", secret);
  }
}

}  // namespace

errc classify_sqlstate(std::string_view sqlstate) noexcept {
  for (const std::string_view transient_class : {"08", "53", "57", "40"}) {
    if (starts_with(sqlstate, transient_class)) {
      return errc::unavailable;
    }
  }
  if (sqlstate == "55P03" || sqlstate == "25P03") {  // lock / idle-in-transaction timeout
    return errc::unavailable;
  }
  return errc::rejected;
}

std::string primary_message(std::string_view error_text) {
  // libpq writes "<SEVERITY>:  <message>\n" (two spaces; the severity may be translated).
  constexpr std::string_view separator = ":  ";
  const auto first_line = error_text.substr(0, error_text.find('\n'));
  const auto at = first_line.find(separator);
  return trimmed(at == std::string_view::npos ? first_line
                                              : first_line.substr(at + separator.size()));
}

failure classify_current_exception(std::string_view doing, std::string_view secret) noexcept {
  try {
    return classify(doing, secret);
  } catch (...) {
    // Building the message itself failed (memory): report without one.
    return failure{errc::unavailable, false, {}};
  }
}

}  // namespace wallet::postgres::detail
