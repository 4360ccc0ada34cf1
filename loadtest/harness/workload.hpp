// What wallet-loadtest sends: jobs of one or two commands (a hold is placed, then captured or
// released), drawn from a mix of operations over the wallet picker, with a share of deliberate
// duplicates (same idempotency key) and of invalid commands, each with the answer it must get.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sampler.hpp"

namespace wallet::loadtest {

enum class op : std::uint8_t {
  open_wallet,
  deposit,
  withdraw,
  transfer,
  hold_place,
  hold_capture,
  hold_release,
};
inline constexpr std::size_t op_count = 7;
[[nodiscard]] std::string_view to_string(op o) noexcept;

// A deliberate fault in a command. Each has one right answer (expected_answer).
enum class defect : std::uint8_t {
  none,
  malformed,           // not JSON at all
  too_precise,         // "1.001" EUR
  unknown_currency,    // "ABC"
  zero_amount,         // "0": well formed, the engine rejects it
  currency_mismatch,   // USD into an EUR wallet
  unknown_wallet,      // a wallet that was never opened
  insufficient_funds,  // a withdrawal of the largest amount there is
  transfer_to_self,    // source = destination
};
inline constexpr std::size_t defect_count = 9;
[[nodiscard]] std::string_view to_string(defect d) noexcept;

// The answer every transport reports, in the terms of docs/wire.md.
enum class answer_status : std::uint8_t { accepted, rejected, refused, failed };
[[nodiscard]] std::string_view to_string(answer_status s) noexcept;

struct expected_answer {
  answer_status status = answer_status::accepted;
  std::string_view code;     // rejection or refusal code
  std::string_view problem;  // `invalid` refusals: the field problem
};
[[nodiscard]] expected_answer expected_for(defect d) noexcept;

struct command {
  op what = op::deposit;
  defect flaw = defect::none;
  bool with_duplicate = false;  // send a copy (same key, same content) right after this one
  bool duplicate = false;       // this is that copy
  bool setup = false;           // a set-up command: a fixed key, so that a second set-up replays
  std::uint32_t wallet = 0;     // 1..N; 0 with unknown_wallet
  std::uint32_t destination = 0;
  std::int64_t amount = 0;       // minor units of EUR; hold_capture: 0 = the whole hold
  std::int64_t hold_amount = 0;  // hold_capture, hold_release: what the hold reserves
  std::uint64_t id = 0;    // unique in the run: the idempotency key and transfer id derive from it
  std::uint64_t hold = 0;  // hold_*: which hold
};

// Names of wallets, keys and ids: run-tagged so that runs against one deployment do not collide.
struct naming {
  std::string wallet_prefix = "lt-";  // wallet n is "<wallet_prefix><n>"
  std::string run_tag;                // keys are "<run_tag>-<id>"

  [[nodiscard]] std::string wallet(std::uint32_t n) const;
  [[nodiscard]] std::string wallet_of(const command& c) const;  // unknown_wallet: a fresh id
  [[nodiscard]] std::string key(const command& c) const;
  [[nodiscard]] std::string hold_id(const command& c) const;
  // The wallet number of an id this run named, or 0.
  [[nodiscard]] std::uint32_t wallet_number(std::string_view id) const noexcept;
  // The command id of a key this run made, or nullopt.
  [[nodiscard]] std::optional<std::uint64_t> command_id(std::string_view key) const noexcept;
};

// Relative weights of the operations of a run's jobs.
struct mix {
  double deposit = 0;
  double withdraw = 0;
  double transfer = 1;
  double hold = 0;  // a hold job: place, then capture (whole or part) or release
};
// "transfer", "deposit=40,withdraw=20,transfer=30,hold=10", ...; nullopt when malformed.
[[nodiscard]] std::optional<mix> parse_mix(std::string_view text);
[[nodiscard]] std::string to_string(const mix& m);

struct workload_settings {
  std::uint32_t wallets = 10'000;
  pick_settings pick;
  mix weights;
  double duplicate_share = 0;         // of jobs whose first command is also sent a second time
  double invalid_share = 0;           // of jobs that are one invalid command
  std::int64_t amount_max = 100;      // minor units; amounts are 1..amount_max
  std::int64_t funding = 10'000'000;  // minor units deposited into each wallet at set-up
  std::uint64_t seed = 20'261'130;
};

// Money the engine can never hold for one wallet here: funding plus every deposit stays far below.
inline constexpr std::int64_t amount_beyond_any_balance = 1'000'000'000'000'000;  // 10^15
inline constexpr std::size_t job_steps_max = 2;  // command id = job * job_steps_max + step

struct job {
  std::uint64_t index = 0;
  std::array<command, job_steps_max> steps{};
  std::size_t step_count = 0;
};

class workload {
 public:
  explicit workload(const workload_settings& settings);

  // Job `index` of the run: the same for the same settings, whichever thread asks.
  [[nodiscard]] job make(std::uint64_t index) const;
  // The set-up of wallet n: open it, then fund it.
  [[nodiscard]] job setup(std::uint32_t n) const;
  [[nodiscard]] const workload_settings& settings() const noexcept { return settings_; }
  [[nodiscard]] const wallet_picker& picker() const noexcept { return picker_; }

 private:
  [[nodiscard]] job invalid_job(std::uint64_t index, rng& r) const;

  workload_settings settings_;
  wallet_picker picker_;
  std::array<double, 4> cumulative_{};  // deposit, withdraw, transfer, hold
};

}  // namespace wallet::loadtest
