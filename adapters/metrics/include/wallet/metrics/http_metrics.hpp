// HTTP metrics (DESIGN.md §9): requests by route and status, latency by route, connections refused
// past the bound, failures; and the registry as Prometheus text, for the API's own /metrics.
// Label values come from fixed sets: the API's route patterns (never a path) and known statuses.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wallet/http/probe.hpp"
#include "wallet/metrics/metrics.hpp"

namespace prometheus {
class Counter;
class Histogram;
template <class T>
class Family;
}  // namespace prometheus

namespace wallet::metrics {

// Latency buckets of HTTP requests, in seconds: a cached read to a slow commit.
inline constexpr double http_seconds_bucket_min = 0.000'5;
inline constexpr double http_seconds_bucket_max = 5.0;

class http_metrics final : public http::probe {
 public:
  // Every status the server and the API answer with, and "other" last.
  static constexpr std::size_t status_labels = 18;

  // `routes`: every route pattern of the API; a request outside them counts as "unmatched".
  http_metrics(std::shared_ptr<registry> r, std::vector<std::string> routes);

  void answered(const http::request_record& record) override;
  void connection_refused() override;
  void failed(std::string_view what, std::string_view detail) override;

 private:
  // The index of `route` in routes_ (the last: "unmatched").
  [[nodiscard]] std::size_t route_index(std::string_view route) const;

  std::shared_ptr<registry> registry_;
  std::vector<std::string> routes_;  // and "unmatched"
  prometheus::Family<prometheus::Counter>* requests_;
  std::vector<prometheus::Histogram*> latency_;  // by route index
  prometheus::Counter* refused_;
  std::map<std::string, prometheus::Counter*, std::less<>> failures_;
  std::mutex mutex_;  // adds a series
  // By route index and status index: a series is added on its first request (so /metrics lists
  // only the pairs seen), then found without a lock or an allocation.
  std::vector<std::array<std::atomic<prometheus::Counter*>, status_labels>> series_;
};

// The registry's families in the Prometheus text exposition format 0.0.4.
[[nodiscard]] std::string exposition(const registry& r);

}  // namespace wallet::metrics
