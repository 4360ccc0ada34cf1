// The audit record of an administrative action (docs/adr/0006-audit-trail.md): who, what, on
// what, why and from which trace. Wallet commands carry theirs into the store's commit, so the
// record and the command's effect are written in one transaction. Free of CAF and of any database.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wallet/engine/command.hpp"

namespace wallet::actors {

// Bounds of the audit_log columns (migration 0007); the reason's is engine::reason_length_max.
inline constexpr std::size_t audit_principal_length_max = 256;
inline constexpr std::size_t audit_target_length_max = 256;
// The principal recorded for an administrative command whose submitter named none (an
// in-process caller, or a transport that does not identify its sender).
inline constexpr std::string_view unattributed_principal = "unattributed";
// The reason recorded for an administrative command that carries none (close_wallet's wire form
// has no reason field; the HTTP API requires one and passes it in the audit context).
inline constexpr std::string_view reason_not_given = "not given";

struct audit_entry {
  std::string principal;  // the token's subject, or "system:..." for walletd itself
  std::string action;     // "freeze", "set_kyc_level", "flags_reloaded", "profile_erased", ...
  std::string target;     // a wallet id, a file kind, an owner id
  std::string reason;     // required: 1 to engine::reason_length_max bytes, no control characters
  std::string trace_id;   // 32 lower-case hex digits, or empty
  // Written as one JSON object of strings. Never personal data.
  std::vector<std::pair<std::string, std::string>> details;
};

// What an inbound adapter knows about an administrative command besides the command itself.
struct audit_context {
  std::string principal;
  std::string reason;  // empty: the command's own reason, if it has one
};

// Whether a command is administrative (freeze, unfreeze, close_wallet, set_kyc_level): each one
// that is decided gets an audit record, whichever path it came by.
[[nodiscard]] bool is_administrative(const engine::command_body& body) noexcept;

// Whether a command is an AML review's decision (ADR 0009): a capture (approve a withdrawal), a
// transfer_debit from the hold (approve a transfer) or a release (reject) of a review hold under
// the review's decision key. Audited like the commands above, as `aml_review_approved` (with the
// transfer's id and destination) or `aml_review_rejected`.
[[nodiscard]] bool is_review_decision(const engine::command& cmd) noexcept;

// The trace id of a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"), or "" when it is not one.
[[nodiscard]] std::string trace_id_of(std::string_view traceparent);

// Whether `text` is well-formed UTF-8 (PostgreSQL refuses anything else in a text column).
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

// Whether `reason` may be recorded: 1 to engine::reason_length_max bytes of UTF-8, no ASCII
// control character.
[[nodiscard]] bool is_valid_reason(std::string_view reason) noexcept;

// A principal as recorded: printable ASCII (any other byte becomes '?'), at most
// audit_principal_length_max bytes; unattributed_principal when empty. A principal comes from a
// token's subject and must always fit the column's checks, since a refused audit row fails the
// whole commit it is part of.
[[nodiscard]] std::string recorded_principal(std::string_view subject);

// The audit record of an administrative command or a review decision (asserted): the context's
// principal (or unattributed_principal), the context's reason, else the command's own, else
// reason_not_given; the command's name as the action, its wallet as the target, the trace id of
// `traceparent`, and the idempotency key (and the level, for set_kyc_level) in the details. The
// store adds the outcome when it commits.
[[nodiscard]] audit_entry audit_of(const engine::command& cmd, const audit_context* context,
                                   std::string_view traceparent);

}  // namespace wallet::actors
