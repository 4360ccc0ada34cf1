// A thread-safe log-linear histogram in the manner of HdrHistogram: exact below 256, then 128
// sub-buckets per power of two (relative error under 0.8 %). Recording is one relaxed atomic
// increment, so actor threads can record concurrently; reading is for after the run.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace wallet::loadtest {

class log_histogram {
 public:
  static constexpr unsigned sub_bits = 8;
  static constexpr std::uint64_t linear_max = std::uint64_t{1} << sub_bits;  // exact below this
  static constexpr std::uint64_t half = linear_max / 2;
  static constexpr std::size_t bucket_count = linear_max + (64 - sub_bits) * half;

  log_histogram() = default;
  log_histogram(const log_histogram&) = delete;
  log_histogram& operator=(const log_histogram&) = delete;
  log_histogram(log_histogram&&) = delete;
  log_histogram& operator=(log_histogram&&) = delete;
  ~log_histogram() = default;

  void record(std::uint64_t value) noexcept {
    counts_[index_of(value)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
    std::uint64_t seen = max_.load(std::memory_order_relaxed);
    while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }

  // Not concurrent with record().
  void reset() noexcept {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
    count_.store(0, std::memory_order_relaxed);
    sum_.store(0, std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_.load(); }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_.load(); }
  [[nodiscard]] double mean() const noexcept {
    const auto n = count();
    return n == 0 ? 0.0 : static_cast<double>(sum_.load()) / static_cast<double>(n);
  }

  // The smallest recorded value v (to the bucket's precision: its highest equivalent value,
  // capped by the maximum) such that at least q of all values are <= v. 0 when empty.
  [[nodiscard]] std::uint64_t percentile(double q) const noexcept {
    const std::uint64_t n = count();
    if (n == 0) return 0;
    const double wanted = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(n));
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return std::min(highest_of(i), max());
    }
    return max();
  }

  // Calls f(lowest, highest, count) for each non-empty bucket, in value order.
  template <class F>
  void for_each_bucket(F&& f) const {
    for (std::size_t i = 0; i < bucket_count; ++i) {
      const auto c = counts_[i].load(std::memory_order_relaxed);
      if (c != 0) f(lowest_of(i), highest_of(i), c);
    }
  }

  [[nodiscard]] static constexpr std::size_t index_of(std::uint64_t value) noexcept {
    if (value < linear_max) return static_cast<std::size_t>(value);
    const auto width = static_cast<unsigned>(std::bit_width(value));  // sub_bits + 1 .. 64
    const unsigned shift = width - sub_bits;
    const std::uint64_t top = value >> shift;  // in [half, linear_max)
    return static_cast<std::size_t>(linear_max + (width - sub_bits - 1) * half + (top - half));
  }

  [[nodiscard]] static constexpr std::uint64_t lowest_of(std::size_t index) noexcept {
    if (index < linear_max) return index;
    const std::size_t group = (index - linear_max) / half;  // 0: width sub_bits + 1
    const std::uint64_t top = half + (index - linear_max) % half;
    return top << (group + 1);
  }

  [[nodiscard]] static constexpr std::uint64_t highest_of(std::size_t index) noexcept {
    if (index < linear_max) return index;
    const std::size_t group = (index - linear_max) / half;
    return lowest_of(index) + ((std::uint64_t{1} << (group + 1)) - 1);
  }

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> counts_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

// The figures reports print, in the histogram's unit times `scale` (1e-6: ns -> ms).
struct latency_summary {
  std::uint64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

[[nodiscard]] inline latency_summary summarise(const log_histogram& h, double scale) {
  latency_summary s;
  s.count = h.count();
  const auto at = [&](double q) { return static_cast<double>(h.percentile(q)) * scale; };
  s.mean = h.mean() * scale;
  s.p50 = at(0.5);
  s.p90 = at(0.9);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = static_cast<double>(h.max()) * scale;
  return s;
}

static_assert(log_histogram::index_of(255) == 255);
static_assert(log_histogram::index_of(256) == 256);
static_assert(log_histogram::lowest_of(log_histogram::index_of(1'000'000)) <= 1'000'000);
static_assert(log_histogram::highest_of(log_histogram::index_of(1'000'000)) >= 1'000'000);
static_assert(log_histogram::index_of(~std::uint64_t{0}) == log_histogram::bucket_count - 1);

}  // namespace wallet::loadtest
