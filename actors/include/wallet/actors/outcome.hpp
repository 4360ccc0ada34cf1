// What a submitter gets back for one command. Free of CAF, so inbound adapters need no CAF headers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "wallet/actors/audit.hpp"
#include "wallet/engine/idempotency.hpp"

namespace wallet::actors {

// Why the runtime did not decide a command. The command's effect is then unknown to the caller
// only for `unavailable` (a commit may have failed after reaching the database): retrying with
// the same idempotency key is always safe and returns the real outcome.
enum class submit_errc : std::uint8_t {
  overloaded,      // a bound was reached (wallet in-flight, shard in-flight): retry later
  unavailable,     // the database is failing or the circuit is open: retry later
  shutting_down,   // the runtime is stopping and takes no new work
  invalid_wallet,  // the wallet id is not a valid identifier
  reserved_key,    // the idempotency key uses the prefix reserved for the engine's own commands
  write_refused,   // the database refused the command's write (a constraint, e.g. a transfer id
                   // this wallet used before): not applied, and a retry cannot succeed
  not_owner,       // the wallet's shard is served by another instance (runtime_settings::
                   // owned_shards): not applied; the right instance would take it
};

[[nodiscard]] std::string_view to_string(submit_errc e) noexcept;
// The inverse of to_string; nothing for a text that names no submit_errc.
[[nodiscard]] std::optional<submit_errc> submit_errc_from(std::string_view text) noexcept;

struct submit_outcome {
  std::optional<submit_errc> error;    // set: the command was not decided
  engine::outcome result;              // otherwise: accepted, or a business rejection
  std::optional<engine::event> event;  // the committed event, when accepted by this submission
  bool replayed = false;               // a repeat: `result` is the original outcome
  engine::currency ccy;                // the wallet's, for `result`'s amounts (none: no wallet)

  [[nodiscard]] bool accepted() const noexcept { return !error && !result.rejected; }
};

// The answer channel of one command: called exactly once, after the outcome is durable, on an
// actor thread (so it must be quick and must not block). Copies share one state; the first call
// wins. If every copy is dropped unanswered (an actor died with the command in flight), it answers
// `unavailable` itself: no submitter is ever left waiting.
class completion {
 public:
  completion() = default;
  explicit completion(std::function<void(submit_outcome)> fn);

  void operator()(submit_outcome outcome) const;
  [[nodiscard]] explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  struct state;
  std::shared_ptr<state> state_;
};

// An outcome that says only why the command was not decided.
[[nodiscard]] submit_outcome refused(submit_errc e);

// What a client said about a command besides the command itself, carried to its events: its own
// command id and its W3C trace context. Bounded by the inbound adapter. `audit` names who asks
// for an administrative command and why (audit.hpp); without it the command is still audited,
// as unattributed.
struct command_context {
  std::string command_id;
  std::string trace_parent;
  std::optional<audit_context> audit{};
};

// Idempotency keys the engine uses for its own commands (transfer legs, hold expiry).
inline constexpr std::string_view system_key_prefix = "sys:";

}  // namespace wallet::actors
