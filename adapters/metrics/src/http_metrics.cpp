// The HTTP adapter's reports as Prometheus families, and the text exposition.
#include "wallet/metrics/http_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <charconv>

#include "wallet/engine/assert.hpp"

namespace wallet::metrics {
namespace {

constexpr std::string_view unmatched = "unmatched";
constexpr std::string_view other = "other";

// Every status the server and the API answer with; anything else is "other".
constexpr std::array<std::string_view, 17> statuses{"200", "201", "202", "400", "401", "403",
                                                    "404", "405", "409", "413", "415", "422",
                                                    "429", "431", "500", "503", "504"};
static_assert(http_metrics::status_labels == statuses.size() + 1, "every status, then other");

constexpr std::array<std::string_view, 4> failure_kinds{"accept", "tls_handshake", "handler",
                                                        "database"};

prometheus::Histogram::BucketBoundaries latency_buckets() {
  prometheus::Histogram::BucketBoundaries bounds{0.000'5, 0.001, 0.002'5, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,     0.25,  0.5,     1.0,   2.5,  5.0};
  WALLET_ASSERT(bounds.front() == http_seconds_bucket_min);
  WALLET_ASSERT(bounds.back() == http_seconds_bucket_max);
  return bounds;
}

}  // namespace

http_metrics::http_metrics(std::shared_ptr<registry> r, std::vector<std::string> routes)
    : registry_{std::move(r)}, routes_{std::move(routes)} {
  WALLET_ASSERT(registry_ != nullptr);
  routes_.emplace_back(unmatched);
  auto& reg = *registry_->prometheus_registry();
  requests_ = &prometheus::BuildCounter()
                   .Name("wallet_http_requests_total")
                   .Help("HTTP requests answered, by route pattern and status.")
                   .Register(reg);
  auto& latency = prometheus::BuildHistogram()
                      .Name("wallet_http_request_seconds")
                      .Help("Time from a whole request read to its answer handed over, by route.")
                      .Register(reg);
  for (const std::string& route : routes_) {
    latency_.push_back(&latency.Add({{"route", route}}, latency_buckets()));
  }
  series_ =
      std::vector<std::array<std::atomic<prometheus::Counter*>, status_labels>>(routes_.size());
  refused_ = &prometheus::BuildCounter()
                  .Name("wallet_http_connections_refused_total")
                  .Help("Connections answered 503 (TLS: closed) at http.connections_max.")
                  .Register(reg)
                  .Add({});
  auto& failures = prometheus::BuildCounter()
                       .Name("wallet_http_failures_total")
                       .Help(
                           "HTTP adapter failures no answer reports, by what (accept, "
                           "tls_handshake, handler, database, other).")
                       .Register(reg);
  for (const std::string_view kind : failure_kinds) {
    failures_.emplace(kind, &failures.Add({{"what", std::string(kind)}}));
  }
  failures_.emplace(other, &failures.Add({{"what", std::string(other)}}));
}

std::size_t http_metrics::route_index(std::string_view route) const {
  for (std::size_t i = 0; i + 1 < routes_.size(); ++i) {
    if (routes_[i] == route) return i;
  }
  return routes_.size() - 1;  // unmatched
}

void http_metrics::answered(const http::request_record& record) {
  const std::size_t route = route_index(record.route);
  std::size_t status = statuses.size();  // other
  std::array<char, 8> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), record.status).ptr;
  const std::string_view code{digits.data(), static_cast<std::size_t>(end - digits.data())};
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i] == code) status = i;
  }
  std::atomic<prometheus::Counter*>& slot = series_[route][status];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    const std::lock_guard lock{mutex_};
    counter = slot.load(std::memory_order_relaxed);
    if (counter == nullptr) {
      const std::string label{status < statuses.size() ? statuses[status] : other};
      counter = &requests_->Add({{"route", routes_[route]}, {"status", label}});
      slot.store(counter, std::memory_order_release);
    }
  }
  counter->Increment();
  latency_[route]->Observe(std::chrono::duration<double>(record.latency).count());
}

void http_metrics::connection_refused() { refused_->Increment(); }

void http_metrics::failed(std::string_view what, std::string_view /*detail*/) {
  auto it = failures_.find(what);
  if (it == failures_.end()) it = failures_.find(other);
  it->second->Increment();
}

std::string exposition(const registry& r) {
  return prometheus::TextSerializer{}.Serialize(r.prometheus_registry()->Collect());
}

}  // namespace wallet::metrics
