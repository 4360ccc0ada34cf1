// The load generator: runs jobs over a transport in a closed loop (N jobs outstanding) or an open
// loop (jobs started on a fixed schedule, latency from the intended send time), bounded by a
// duration or a count, with a warm-up that is run but not measured. Records latency (HDR-style),
// answers and errors by kind, a per-second timeline and the run's expectations (ledger.hpp).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../log_histogram.hpp"
#include "ledger.hpp"
#include "transport.hpp"
#include "workload.hpp"

namespace wallet::loadtest {

struct load_settings {
  enum class model : std::uint8_t { closed, open };
  model how = model::closed;
  std::size_t concurrency = 256;          // closed: jobs outstanding
  double rate = 1'000;                    // open: jobs started per second
  std::size_t outstanding_max = 100'000;  // open: jobs in flight at most (then the sender waits;
                                          // latency still counts from the intended time)
  double duration_s = 0;                  // 0: bounded by `jobs`
  std::uint64_t jobs = 0;                 // 0: bounded by `duration_s`
  double warmup_s = 0;                    // run first, not measured
  double answer_timeout_s = 60;           // a command without an answer this long has failed
  bool progress = false;                  // a live line on stderr (a terminal)
};

// One second of the run.
struct timeline_point {
  double at_s = 0;  // since the phase began
  bool warmup = false;
  double answered_per_s = 0;
  double credited_per_s = 0;  // transfers whose credit event arrived
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  std::uint64_t errors = 0;  // answers other than accepted, in that second
  std::uint64_t outstanding = 0;
  std::int64_t service_rss_kb = -1;  // -1: not sampled
};

struct phase_stats {
  std::string name;
  load_settings load;
  std::uint64_t jobs_started = 0;
  std::uint64_t commands_sent = 0;
  std::uint64_t measured_answers = 0;  // decided (accepted or rejected) in the measured window
  double measured_s = 0;
  double seconds = 0;  // the whole phase, warm-up and drain included
  double send_lag_max_ms = 0;
  std::map<std::string, std::uint64_t> answers;  // accepted, accepted (replay), rejected, ...
  std::map<std::string, std::uint64_t> errors;   // "<status>:<code>" of every non-accepted answer
  std::vector<timeline_point> timeline;
  std::uint64_t transfers_accepted = 0;
  std::uint64_t transfers_credited = 0;
  double credited_per_s = 0;  // transfers credited per second over the measured window

  [[nodiscard]] double throughput() const {
    return measured_s > 0 ? static_cast<double>(measured_answers) / measured_s : 0;
  }
};

// What a phase records latency into (nanoseconds): every measured command, per operation, and
// transfers from send to their credit event.
struct latency_set {
  log_histogram all;
  std::array<log_histogram, op_count> by_op;
  log_histogram transfer_complete;
};

// The shared state of a run, which verify reads afterwards.
struct run_ledger {
  explicit run_ledger(std::uint32_t wallets) : expected(wallets), events(wallets) {}
  expectations expected;
  event_fold events;
  duplicate_tracker duplicates;
  invalid_tracker invalid;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> valid_refused{0};
  std::mutex examples_mutex;
  std::vector<std::string> failed_examples;
  std::vector<std::string> valid_refused_examples;
};

class driver final : public answer_sink {
 public:
  using job_source = std::function<job(std::uint64_t index)>;
  // `credits_tracked`: the transport's transfers complete later, on their credit event (NATS,
  // HTTP); otherwise a transfer is complete with its answer (the naive baseline).
  driver(transport& t, const naming& names, run_ledger& ledger, bool credits_tracked);
  ~driver() override;
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;
  driver(driver&&) = delete;
  driver& operator=(driver&&) = delete;

  // Runs one phase to its end (all started jobs answered or timed out). `rss_kb`, when set, is
  // sampled once a second into the timeline.
  phase_stats run(const std::string& name, const load_settings& load, const job_source& jobs,
                  latency_set& latency, const std::function<std::int64_t()>& rss_kb = {});

  // The credit event of transfer command `id` arrived (event thread).
  void credited(std::uint64_t id);
  // Waits until every accepted transfer's credit arrived, or `timeout_s`; returns the missing.
  std::uint64_t wait_for_credits(double timeout_s);

  void answered(std::uint64_t token, const answer& a) override;

  struct slot;
  struct phase_state;

 private:
  static bool may_start(phase_state& p, std::uint64_t next, std::int64_t at_ns);
  void sender_closed(phase_state& p);
  void sender_open(phase_state& p);
  void serve_until(std::int64_t until_ns, bool want_slot);
  bool send_ready(std::unique_lock<std::mutex>& lock);
  std::size_t take_slot();
  void start_job(phase_state& p, std::size_t slot_index, const job& j, std::int64_t intended_ns);
  void send_step(std::size_t slot_index);
  void finish_step(std::size_t slot_index, bool go_on);
  void record(phase_state& p, const slot& s, const command& c, const answer& a, std::int64_t now);
  void record_ledger(phase_state& p, const slot& s, const command& c, const answer& a);
  void tick(phase_state& p, std::int64_t now, const std::function<std::int64_t()>& rss_kb);
  void sweep_timeouts(std::int64_t now, double timeout_s);

  transport& transport_;
  const naming& names_;
  run_ledger& ledger_;
  bool credits_tracked_;
  std::vector<std::unique_ptr<slot>> slots_;
  std::atomic<phase_state*> phase_{nullptr};
  const job_source* job_source_ = nullptr;  // the running phase's (sender thread only)
  double send_lag_max_ms_ = 0;

  std::mutex ready_mutex_;
  std::condition_variable ready_cv_;
  std::deque<std::size_t> ready_;  // slots whose next step is to be sent
  std::vector<std::size_t> free_;  // idle slots
  std::uint64_t outstanding_ = 0;  // busy slots (under ready_mutex_)

  std::mutex credit_mutex_;
  std::unordered_map<std::uint64_t, std::int64_t> awaiting_credit_;  // id -> sent (< 0: warm-up)
  std::unordered_map<std::uint64_t, bool> early_credits_;
  std::atomic<std::uint64_t> credits_expected_{0};
  std::atomic<std::uint64_t> credits_seen_{0};
};

}  // namespace wallet::loadtest
