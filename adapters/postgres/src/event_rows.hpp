// Events read back from rows of (seq, at as epoch microseconds, type, data): shared by the history
// read and the hold lookup. Internal to the adapter.
#pragma once

#include <string>
#include <vector>

#include "wallet/engine/event.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/postgres/error.hpp"

namespace pqxx {
class result;
}  // namespace pqxx

namespace wallet::postgres::detail {

// Each row as an event; a row the codec cannot read is `rejected`, naming `doing` and its seq.
[[nodiscard]] engine::result<std::vector<engine::event>, error> events_from_rows(
    const std::string& doing, const pqxx::result& rows);

}  // namespace wallet::postgres::detail
