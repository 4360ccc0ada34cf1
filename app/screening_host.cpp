// The screening settings, the provider, and its metrics and log lines.
#include "screening_host.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

#include "wallet/screening/providers.hpp"

namespace wallet::app {
namespace {

// wallet_aml_screenings_total{provider, outcome}, wallet_aml_provider_failures_total{provider,
// kind}, wallet_aml_circuit_state; one log line per failed attempt and per move without verdict.
class screening_metrics final : public screening::screening_probe {
 public:
  screening_metrics(prometheus::Registry& r, logging::logger log)
      : log_(std::move(log)),
        screenings_(prometheus::BuildCounter()
                        .Name("wallet_aml_screenings_total")
                        .Help("AML screenings by provider and outcome: allow, deny, review, or "
                              "fail_open / fail_closed when the provider gave no verdict.")
                        .Register(r)),
        failures_(prometheus::BuildCounter()
                      .Name("wallet_aml_provider_failures_total")
                      .Help("Failed attempts at the screening provider, by kind: timeout, "
                            "transport, status, answer, circuit_open.")
                      .Register(r)),
        circuit_(prometheus::BuildGauge()
                     .Name("wallet_aml_circuit_state")
                     .Help("The HTTP screening provider's circuit: 0 closed, 1 half-open, 2 open.")
                     .Register(r)
                     .Add({})) {}

  void screened(std::string_view provider, std::string_view outcome) override {
    screenings_.Add({{"provider", std::string(provider)}, {"outcome", std::string(outcome)}})
        .Increment();
  }
  void unanswered(std::string_view provider, std::string_view outcome, std::string_view why,
                  std::string_view wallet_id) override {
    screenings_.Add({{"provider", std::string(provider)}, {"outcome", std::string(outcome)}})
        .Increment();
    log_.warn(
        "AML screening without a verdict",
        {{"provider", provider}, {"outcome", outcome}, {"why", why}, {"wallet_id", wallet_id}});
  }
  void attempt_failed(std::string_view provider, std::string_view kind,
                      std::string_view detail) override {
    failures_.Add({{"provider", std::string(provider)}, {"kind", std::string(kind)}}).Increment();
    log_.warn("AML provider attempt failed",
              {{"provider", provider}, {"kind", kind}, {"detail", detail}});
  }
  void circuit_changed(actors::circuit_state state) override {
    double value = 0;
    if (state == actors::circuit_state::half_open) value = 1;
    if (state == actors::circuit_state::open) value = 2;
    circuit_.Set(value);
    log_.warn("AML provider circuit changed", {{"state", actors::to_string(state)}});
  }

 private:
  logging::logger log_;
  prometheus::Family<prometheus::Counter>& screenings_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Gauge& circuit_;
};

}  // namespace

screening_host::screening_host(const config::config& cfg, logging::logger log,
                               std::shared_ptr<metrics::registry> metrics)
    : cfg_(cfg), log_(std::move(log)), metrics_(std::move(metrics)) {}

bool screening_host::load() {
  const auto amounts = [&](config::text_key key, std::string_view name,
                           engine::currency_amounts& out) {
    auto parsed = engine::parse_currency_amounts(cfg_.text(key));
    if (!parsed.ok()) {
      log_.error("invalid AML setting", {{"setting", name}, {"problem", parsed.error()}});
      return false;
    }
    out = std::move(parsed).value();
    return true;
  };
  auto setup = std::make_shared<actors::screening_setup>();
  engine::rules_verdicts verdicts;
  if (!amounts("aml.thresholds", "aml.thresholds", setup->rules.threshold) ||
      !amounts("aml.velocity_sum_max", "aml.velocity_sum_max", setup->rules.velocity_sum_max) ||
      !amounts("aml.rules_deny_from", "aml.rules_deny_from", verdicts.deny_from) ||
      !amounts("aml.rules_review_from", "aml.rules_review_from", verdicts.review_from)) {
    return false;
  }
  verdicts.review_on_velocity = cfg_.boolean("aml.rules_review_on_velocity");
  setup->rules.velocity_window = cfg_.duration("aml.velocity_window_s");
  setup->rules.velocity_count_max =
      static_cast<std::uint32_t>(cfg_.integer("aml.velocity_count_max"));
  setup->fail_open = cfg_.text("aml.on_provider_down") == "fail_open";
  setup->deadline =
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.duration("aml.deadline_ms"));
  setup->inflight_max = static_cast<std::size_t>(cfg_.integer("aml.inflight_max"));
  setup->review_hold =
      std::chrono::duration_cast<std::chrono::seconds>(cfg_.duration("aml.review_hold_s"));

  auto probe = std::make_shared<screening_metrics>(*metrics_->prometheus_registry(), log_);
  const std::string& provider = cfg_.text("aml.provider");
  if (provider == "http") {
    screening::http_provider_settings s;
    s.url = cfg_.text("aml.http_url");
    s.ca_file = cfg_.text("aml.http_ca_file");
    s.timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.duration("aml.http_timeout_ms"));
    s.retries = static_cast<std::uint32_t>(cfg_.integer("aml.http_retries"));
    s.backoff.initial = std::chrono::duration_cast<std::chrono::milliseconds>(
        cfg_.duration("aml.http_backoff_initial_ms"));
    s.backoff.max = std::chrono::duration_cast<std::chrono::milliseconds>(
        cfg_.duration("aml.http_backoff_max_ms"));
    s.circuit.failures_to_open = static_cast<std::uint32_t>(cfg_.integer("aml.circuit_failures"));
    s.circuit.cool_down = std::chrono::duration_cast<std::chrono::milliseconds>(
        cfg_.duration("aml.circuit_cool_down_ms"));
    if (s.url.empty()) {
      log_.error("invalid AML setting",
                 {{"setting", "aml.http_url"}, {"problem", "required with aml.provider=http"}});
      return false;
    }
    auto made = screening::http_provider::make(std::move(s), probe);
    if (!made.ok()) {
      log_.error("invalid AML setting", {{"setting", "aml.http_url"}, {"problem", made.error()}});
      return false;
    }
    setup->port = std::move(made).value();
  } else {
    setup->port = std::make_shared<screening::rules_provider>(std::move(verdicts), probe);
  }
  log_.info("AML screening configured (it screens while the aml_screening flag is on)",
            {{"provider", provider},
             {"on_provider_down", cfg_.text("aml.on_provider_down")},
             {"thresholds", cfg_.text("aml.thresholds")}});
  setup_ = std::move(setup);
  return true;
}

void screening_host::install(actors::compliance_controls& target) const {
  target.set_screening(setup_);
}

}  // namespace wallet::app
