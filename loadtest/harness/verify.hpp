// The verify phase's judgement: pure functions from what the run recorded (ledger.hpp) and what
// the database holds afterwards to a list of checks, each passed, failed (with examples) or
// skipped (with the reason). A run with any failed check exits non-zero, whatever its speed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger.hpp"

namespace wallet::loadtest {

struct check_result {
  enum class state : std::uint8_t { passed, failed, skipped };
  std::string name;
  state outcome = state::passed;
  std::uint64_t checked = 0;   // items looked at
  std::uint64_t failures = 0;  // items that failed
  std::vector<std::string> examples;
  std::string note;  // skipped: why; otherwise a one-line summary

  void fail(std::string example);
};
[[nodiscard]] std::string_view to_string(check_result::state s) noexcept;

struct verify_report {
  std::vector<check_result> checks;
  [[nodiscard]] bool ok() const noexcept;
};

// Everything the checks look at. `before` and `after` are the run's wallets (1..N) as stored before
// the set-up and after the run; a wallet absent from `before` started empty at version 0.
struct verify_input {
  std::uint32_t wallets = 0;
  std::vector<wallet_row> before;
  std::vector<wallet_row> after;
  const expectations* expected = nullptr;
  const event_fold* events = nullptr;  // null: the transport has no event stream
  std::string events_skipped_why;
  std::uint64_t sent = 0;
  std::uint64_t failed = 0;                  // no answer: timeouts, transport errors
  std::vector<std::string> failed_examples;  // with what went wrong
  std::uint64_t valid_refused = 0;           // valid commands refused as invalid or malformed
  std::vector<std::string> valid_refused_examples;
  std::optional<std::unordered_map<std::uint64_t, duplicate_tracker::pair_state>> duplicates;
  bool duplicate_events_known = true;  // false: the event stream does not carry keys
  const invalid_tracker* invalid = nullptr;
  std::int64_t pending_transfers = 0;  // money still in flight after the wait
  std::int64_t pending_amount = 0;
  std::optional<int> reconcile_exit;  // nullopt: not run
  std::string reconcile_skipped_why;
  std::string reconcile_output;  // its last lines, for a failure
};

[[nodiscard]] check_result check_answers(const verify_input& in);
[[nodiscard]] check_result check_balances(const verify_input& in);
[[nodiscard]] check_result check_limits(const verify_input& in);
[[nodiscard]] check_result check_conservation(const verify_input& in);
[[nodiscard]] check_result check_events(const verify_input& in);
[[nodiscard]] check_result check_duplicates(const verify_input& in);
[[nodiscard]] check_result check_invalid(const verify_input& in);
[[nodiscard]] check_result check_reconcile(const verify_input& in);

// All of the above, in that order.
[[nodiscard]] verify_report verify(const verify_input& in);

}  // namespace wallet::loadtest
