// The JSON wire contract of the NATS interface (docs/wire.md): commands in; outcomes, events and
// wallet states out. Pure functions: no NATS, no clock, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wallet/actors/outcome.hpp"
#include "wallet/engine/command.hpp"
#include "wallet/engine/currency.hpp"
#include "wallet/engine/event.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/time.hpp"
#include "wallet/engine/wallet.hpp"

namespace boost::json {
class object;
}  // namespace boost::json

namespace wallet::nats {

// Any string field longer than this is refused before it reaches the engine (which has tighter,
// per-field limits of its own and answers those with a rejection).
inline constexpr std::size_t wire_string_length_max = 1024;
// The client's own correlation id, echoed in the outcome.
inline constexpr std::size_t command_id_length_max = 128;

// Who sent a command. The engine's internal commands (transfer_credit, transfer_reversal,
// hold_expire) move money without a client's authority, so only origin::engine may send them.
enum class origin : std::uint8_t { client, engine };

// One thing wrong with one field of a command. `problem` is a stable snake_case code (docs/wire.md
// lists them); `field` is the JSON key, or "" for the message as a whole.
struct field_problem {
  std::string field;
  std::string problem;
  friend bool operator==(const field_problem&, const field_problem&) = default;
};

enum class decode_errc : std::uint8_t {
  malformed,  // not JSON at all
  invalid,    // JSON, but not a valid command: see `fields`
};

[[nodiscard]] std::string_view to_string(decode_errc e) noexcept;

struct decode_error {
  decode_errc kind = decode_errc::invalid;
  std::string message;  // the parser's message, or a summary of `fields`
  // Every problem found (invalid only): the common fields, then the type's, then unknown fields.
  std::vector<field_problem> fields;
  // The common fields as far as they could be read (strings of acceptable length), so that the
  // refusal can still be correlated by the client; empty when unknown.
  std::string wallet_id;
  std::string idempotency_key;
  std::string command_id;
};

struct decoded_command {
  engine::command command;
  std::string command_id;  // empty when the client sent none
};

// A command message. Checks the JSON's shape, types, amounts, currencies and timestamps; ids and
// business rules are left to engine::decide (an amount "0" passes here and is rejected there).
[[nodiscard]] engine::result<decoded_command, decode_error> decode_command(std::string_view json,
                                                                           origin from);

// The fields of one client command of type `type` (a name decode_command takes from a client:
// "deposit", "hold_capture", ...) without the envelope (wallet_id, idempotency_key, type,
// command_id): the HTTP API takes the wallet and the key from the request line and a header, and
// the type from the route. Checked exactly as decode_command checks them; every key the type does
// not read is an unknown_field. An unknown or internal type is refused as unknown_type.
[[nodiscard]] engine::result<engine::command_body, decode_error> decode_command_fields(
    std::string_view type, const boost::json::object& fields);

// Everything an outcome message says. `ccy` is the wallet's currency, needed to write amounts;
// when it is none (the wallet does not exist yet) the amounts are omitted, except that an accepted
// open_wallet takes it from its event.
struct outcome_view {
  std::string_view wallet_id;
  std::string_view idempotency_key;
  std::string_view command_id;  // omitted when empty
  engine::currency ccy;
  const actors::submit_outcome& outcome;
};

// Status "accepted", "rejected", "refused", or "pending_review" with "review_id" for a withdrawal
// held for an AML review (its event places the review's hold: ADR 0009).
[[nodiscard]] std::string encode_outcome(const outcome_view& view);
// The same, appended to `out` (e.g. an HTTP response's body): no intermediate string or tree.
void append_outcome(std::string& out, const outcome_view& view);

// The AML review an accepted outcome opened (its event places a review hold), or "".
[[nodiscard]] std::string_view review_of(const actors::submit_outcome& out) noexcept;

// One sentence on a business rejection, and on why the runtime refused a command, as the
// outcome's "message" says it (the HTTP API's problem details reuse them).
[[nodiscard]] std::string_view rejection_message(engine::rejection r) noexcept;
[[nodiscard]] std::string_view refusal_message(actors::submit_errc e) noexcept;

// The "refused" outcome for a command that could not be decoded (code "malformed" or "invalid").
[[nodiscard]] std::string encode_decode_error(const decode_error& error);

// The answer to a query for a wallet that was never opened: "refused" with code "not_found".
[[nodiscard]] std::string encode_not_found(std::string_view wallet_id);

// An event of the event stream. `ccy` is the wallet's currency (a wallet_opened event carries its
// own).
[[nodiscard]] std::string encode_event(const std::string& wallet_id, const engine::event& e,
                                       engine::currency ccy);

// The answer to a wallet query. The wallet must exist (version > 0; asserted).
[[nodiscard]] std::string encode_wallet(const engine::wallet_state& state);

// One of the engine's own commands (transfer_credit, transfer_reversal, hold_expire; asserted) as
// the command JSON that the instance owning its wallet decodes with origin::engine.
[[nodiscard]] std::string encode_internal_command(const engine::command& cmd);

// What the sender of an internal command needs of its outcome message: accepted, the business
// rejection, or the refusal. Anything it cannot read (or a code it does not know) is
// `unavailable`: the sender retries with the same key and learns the recorded outcome.
[[nodiscard]] actors::submit_outcome decode_internal_outcome(std::string_view json);

// Why a timestamp text was refused. Each has a stable code (to_string), used as a field problem.
enum class time_error : std::uint8_t {
  not_rfc3339,   // not YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+00:00)
  not_utc,       // an offset other than Z or +00:00
  invalid_date,  // a month or day that does not exist ("2026-02-30")
  invalid_time,  // an hour, minute or second out of range (leap seconds included)
  too_precise,   // more than six fractional digits: the engine keeps microseconds
};

[[nodiscard]] std::string_view to_string(time_error e) noexcept;

// RFC 3339 in UTC: "2026-11-30T07:00:00.123456Z", always six fractional digits. The year must be
// within 0000..9999 (asserted: every timestamp comes from a clock or from parse_rfc3339).
[[nodiscard]] std::string format_rfc3339(engine::timestamp t);

// Accepts 0 to 6 fractional digits and the offsets Z and +00:00 only; upper-case T and Z.
[[nodiscard]] engine::result<engine::timestamp, time_error> parse_rfc3339(std::string_view text);

}  // namespace wallet::nats
