// What runtime_bench learns from inside the runtime: batch sizes and commit latencies of the
// store actors, saga legs (credits answered, reversals, retries), and the end-to-end time of each
// transfer (debit submitted -> credit committed). Thread-safe: actor threads call it.
#pragma once

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "log_histogram.hpp"
#include "steady_ns.hpp"
#include "wallet/actors/probe.hpp"
#include "wallet/engine/event.hpp"

namespace wallet::loadtest {

// The transfers of one phase, by index: when each debit was (first) submitted, or was meant to
// be (open loop). Transfer ids are "<tag>-<index>".
struct transfer_clock {
  transfer_clock(std::string tag_, std::size_t count) : tag(std::move(tag_)), sent_ns(count) {}
  std::string tag;
  std::vector<std::atomic<std::int64_t>> sent_ns;
  log_histogram latency_ns;  // debit submitted -> credit committed and answered
};

class bench_probe final : public actors::runtime_probe {
 public:
  void batch_committed(std::uint32_t /*shard*/, std::size_t writes,
                       std::chrono::microseconds latency) override {
    batch_writes.record(writes);
    commit_us.record(static_cast<std::uint64_t>(latency.count()));
  }
  void batch_failed(std::uint32_t /*shard*/, std::size_t /*writes*/,
                    const actors::store_error& error) override {
    failed_batches.fetch_add(1, std::memory_order_relaxed);
    note("batch failed: " + error.detail);
  }
  void command_answered(std::string_view command, const actors::submit_outcome& outcome) override {
    // The runtime reports answers under the command's name (engine::command_name).
    if (command == "transfer_credit" && outcome.event) {
      credits.fetch_add(1, std::memory_order_relaxed);
      last_credit_ns.store(now_ns(), std::memory_order_relaxed);
      time_transfer(*outcome.event);
    } else if (command == "transfer_reversal" && outcome.event) {
      reversals.fetch_add(1, std::memory_order_relaxed);
      last_credit_ns.store(now_ns(), std::memory_order_relaxed);
    }
  }
  void wallet_load_failed(std::uint32_t /*shard*/, const actors::store_error& error) override {
    note("load failed: " + error.detail);
  }
  void saga_leg_failed(std::string_view /*transfer_id*/, std::string_view why) override {
    saga_retries.fetch_add(1, std::memory_order_relaxed);
    note("saga leg retried: " + std::string(why));
  }
  void scan_failed(std::uint32_t /*shard*/, const actors::store_error& error) override {
    note("scan failed: " + error.detail);
  }

  // Between phases only (no traffic).
  void reset() {
    batch_writes.reset();
    commit_us.reset();
    failed_batches = 0;
    credits = 0;
    reversals = 0;
    saga_retries = 0;
    const std::lock_guard lock(mutex_);
    notes_.clear();
  }
  void track(std::shared_ptr<transfer_clock> clock) {
    const std::lock_guard lock(mutex_);
    clock_ = std::move(clock);
  }

  // Distinct problems seen, with how often.
  [[nodiscard]] std::map<std::string, std::uint64_t> notes() const {
    const std::lock_guard lock(mutex_);
    return notes_;
  }

  log_histogram batch_writes;
  log_histogram commit_us;
  std::atomic<std::uint64_t> failed_batches{0};
  std::atomic<std::uint64_t> credits{0};
  std::atomic<std::uint64_t> reversals{0};
  std::atomic<std::uint64_t> saga_retries{0};
  std::atomic<std::int64_t> last_credit_ns{0};

 private:
  void time_transfer(const engine::event& e) {
    const auto* credited = std::get_if<engine::transfer_credited>(&e.body);
    if (credited == nullptr) return;
    std::shared_ptr<transfer_clock> clock;
    {
      const std::lock_guard lock(mutex_);
      clock = clock_;
    }
    if (!clock) return;
    const std::string_view id = credited->transfer_id;
    if (id.size() <= clock->tag.size() + 1 || !id.starts_with(clock->tag) ||
        id[clock->tag.size()] != '-') {
      return;
    }
    std::size_t index = 0;
    const char* first = id.data() + clock->tag.size() + 1;
    const auto [end, ec] = std::from_chars(first, id.data() + id.size(), index);
    if (ec != std::errc{} || end != id.data() + id.size() || index >= clock->sent_ns.size()) return;
    const std::int64_t sent = clock->sent_ns[index].load(std::memory_order_relaxed);
    if (sent > 0) clock->latency_ns.record(static_cast<std::uint64_t>(now_ns() - sent));
  }

  void note(std::string what) {
    if (what.size() > 160) what.resize(160);
    const std::lock_guard lock(mutex_);
    ++notes_[std::move(what)];
  }

  std::shared_ptr<transfer_clock> clock_;
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> notes_;
};

}  // namespace wallet::loadtest
