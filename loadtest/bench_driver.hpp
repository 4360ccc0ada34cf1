// Load generators over runtime::submit: a closed loop (a fixed number of jobs outstanding; a job is
// a short chain of commands run in order) and an open loop (commands sent on a fixed schedule,
// latency measured from the intended send time, so a stall is not hidden by sending less).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench_probe.hpp"
#include "log_histogram.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/engine/command.hpp"
#include "wallet/engine/rejection.hpp"

namespace wallet::loadtest {

// How the commands of one run were answered.
struct answer_counts {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;     // business rejections (durable)
  std::uint64_t overloaded = 0;   // refused before deciding; the closed loop retries these
  std::uint64_t unavailable = 0;  // the closed loop retries these too (same key: safe)
  std::uint64_t other_errors = 0;
  std::map<std::string, std::uint64_t> rejections;  // by code
};

struct run_result {
  answer_counts answers;
  std::int64_t started_ns = 0;  // first submission (now_ns)
  double seconds = 0;           // first submission -> last answer
  double send_lag_max_ms = 0;   // open loop: how far the sender fell behind its schedule
};

// Thread-safe tallies, filled from actor threads.
class answer_tally {
 public:
  // Returns whether the command was decided (accepted or rejected).
  bool count(const actors::submit_outcome& o);
  [[nodiscard]] answer_counts snapshot() const;

 private:
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> overloaded_{0};
  std::atomic<std::uint64_t> unavailable_{0};
  std::atomic<std::uint64_t> other_errors_{0};
  std::array<std::atomic<std::uint64_t>, 64> rejected_{};
};

// Makes job `index`: the commands to run one after the other.
using job_maker = std::function<std::vector<engine::command>(std::size_t index)>;

class closed_loop {
 public:
  // `latency` records submit -> answer of every decided command (ns); `clock`, when set, gets the
  // first submission time of each job (the transfer clock of the probe).
  closed_loop(actors::runtime& rt, job_maker make, std::size_t jobs, log_histogram& latency,
              std::shared_ptr<transfer_clock> clock);
  // Blocks until every job is answered; retries overloaded and unavailable answers after ~1 ms.
  run_result run(std::size_t concurrency);

 private:
  struct job {
    std::size_t index = 0;
    std::vector<engine::command> commands;
    std::size_t step = 0;
  };
  void start_next();
  void submit(std::shared_ptr<job> j);
  void on_answer(const std::shared_ptr<job>& j, std::int64_t sent_ns,
                 const actors::submit_outcome& o);

  actors::runtime& rt_;
  job_maker make_;
  std::size_t jobs_;
  log_histogram& latency_;
  std::shared_ptr<transfer_clock> clock_;
  answer_tally tally_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> done_{0};
  std::atomic<std::int64_t> last_answer_ns_{0};
  std::mutex retry_mutex_;
  std::vector<std::shared_ptr<job>> retry_;
};

// Sends `commands` (built by make(i)) at `rate` per second, single-threaded on the caller, and
// waits up to `drain_timeout` for the answers. Latency (ns, decided commands only) is measured
// from each command's intended send time.
run_result open_loop(actors::runtime& rt, const std::function<engine::command(std::size_t)>& make,
                     std::size_t commands, double rate, log_histogram& latency,
                     const std::shared_ptr<transfer_clock>& clock,
                     std::chrono::seconds drain_timeout);

}  // namespace wallet::loadtest
