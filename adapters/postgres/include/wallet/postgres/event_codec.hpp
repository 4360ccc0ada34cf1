// An engine event as a wallet_events row (type, deltas, JSON data) and back, exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wallet/engine/event.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/time.hpp"

namespace wallet::postgres {

// The columns of wallet_events that depend on the event's body; seq and at are columns of their
// own. `data` is a JSON object with every field of the body, by its C++ name; amounts are JSON
// integers of minor units, the currency its ISO 4217 code, expires_at an ISO 8601 UTC time with
// microseconds ("2026-11-30T03:36:26.870931Z").
struct event_row {
  std::string type;             // engine::event_name
  std::int64_t delta = 0;       // engine::balance_delta
  std::int64_t held_delta = 0;  // the change to the wallet's held amount
  std::string data;
};

[[nodiscard]] event_row encode_event(const engine::event_body& body);

// The body a row describes. Fails (with the reason) on an unknown type, JSON that is not an object,
// or a missing or mistyped field; fields it does not know are ignored.
[[nodiscard]] engine::result<engine::event_body, std::string> decode_event(std::string_view type,
                                                                           std::string_view data);

// What the event does to wallets.held: + a placed hold, - a hold that was captured, released or
// expired, 0 otherwise.
[[nodiscard]] std::int64_t held_delta(const engine::event_body& body);

// ISO 8601 in UTC with exactly six decimals; years outside 0000..9999 in the expanded form
// (+012345-...). parse_iso_timestamp accepts exactly what format_iso_timestamp writes.
[[nodiscard]] std::string format_iso_timestamp(engine::timestamp t);
[[nodiscard]] engine::result<engine::timestamp, std::string> parse_iso_timestamp(
    std::string_view text);

}  // namespace wallet::postgres
