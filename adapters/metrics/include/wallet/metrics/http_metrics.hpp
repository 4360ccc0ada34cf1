// HTTP metrics (DESIGN.md §9): requests by route and status, latency by route, connections refused
// past the bound, failures; and the registry as Prometheus text, for the API's own /metrics.
// Label values come from fixed sets: the API's route patterns (never a path) and known statuses.
#pragma once

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
  // `routes`: every route pattern of the API; a request outside them counts as "unmatched".
  http_metrics(std::shared_ptr<registry> r, std::vector<std::string> routes);

  void answered(const http::request_record& record) override;
  void connection_refused() override;
  void failed(std::string_view what, std::string_view detail) override;

 private:
  [[nodiscard]] std::string_view route_label(std::string_view route) const;

  std::shared_ptr<registry> registry_;
  std::vector<std::string> routes_;  // and "unmatched"
  prometheus::Family<prometheus::Counter>* requests_;
  std::map<std::string, prometheus::Histogram*, std::less<>> latency_;
  prometheus::Counter* refused_;
  std::map<std::string, prometheus::Counter*, std::less<>> failures_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> series_;  // route, status
};

// The registry's families in the Prometheus text exposition format 0.0.4.
[[nodiscard]] std::string exposition(const registry& r);

}  // namespace wallet::metrics
