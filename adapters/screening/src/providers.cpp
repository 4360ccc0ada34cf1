// The rules provider and the HTTP provider with its breaker, retries and backoff.
#include "wallet/screening/providers.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/json.hpp>
#include <thread>

#include "wallet/engine/assert.hpp"

namespace wallet::screening {
namespace {

namespace json = boost::json;

constexpr std::string_view rules_name = "rules";
constexpr std::string_view http_name = "http";

void report_unanswered(screening_probe& probe, std::string_view provider,
                       const actors::screening_request& request, std::string_view why,
                       bool allowed) {
  probe.unanswered(provider, allowed ? "fail_open" : "fail_closed", why, request.wallet_id);
}

}  // namespace

rules_provider::rules_provider(engine::rules_verdicts rules, std::shared_ptr<screening_probe> probe)
    : rules_(std::move(rules)), probe_(std::move(probe)) {
  WALLET_ASSERT(probe_ != nullptr);
}

actors::screening_answer rules_provider::screen(const actors::screening_request& request) {
  const auto verdict = engine::rules_verdict(rules_, request.amount, request.reasons);
  probe_->screened(rules_name, engine::to_string(verdict));
  return actors::screening_answer{verdict, {}};
}

void rules_provider::unanswered(const actors::screening_request& request, std::string_view why,
                                bool allowed) {
  report_unanswered(*probe_, rules_name, request, why, allowed);
}

std::string request_body(const actors::screening_request& request) {
  json::object o;
  o["wallet_id"] = request.wallet_id;
  o["owner_id"] = request.owner;
  o["command"] = request.command;
  o["idempotency_key"] = request.idempotency_key;
  if (!request.destination.empty()) o["destination"] = request.destination;
  // Minor units as a string: exact in every JSON reader, like the wire format's amounts.
  o["amount_minor"] = std::to_string(request.amount.minor);
  o["currency"] = request.amount.ccy.code();
  json::array reasons;
  for (const auto r : {engine::screening_reason::amount, engine::screening_reason::velocity_count,
                       engine::screening_reason::velocity_sum}) {
    if ((request.reasons & static_cast<engine::screening_reasons>(r)) != 0) {
      reasons.emplace_back(engine::to_string(r));
    }
  }
  o["reasons"] = std::move(reasons);
  o["velocity_count"] = request.velocity_count;
  o["velocity_sum_minor"] = std::to_string(request.velocity_sum);
  return json::serialize(o);
}

engine::result<engine::screening_verdict, std::string> parse_verdict(std::string_view body) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec) return std::string("the answer is not JSON: ") + ec.message();
  const auto* o = v.if_object();
  const auto* field = o != nullptr ? o->if_contains("verdict") : nullptr;
  if (field == nullptr || !field->is_string()) {
    return std::string("the answer has no \"verdict\" string");
  }
  const auto verdict = engine::verdict_from(field->get_string());
  if (!verdict) return std::string("the verdict is not allow, deny or review");
  return *verdict;
}

bool retryable(const https_client::reply& reply) noexcept {
  return reply.status == 0 || reply.status >= 500 || reply.status == 408 || reply.status == 429;
}

engine::result<std::shared_ptr<http_provider>, std::string> http_provider::make(
    http_provider_settings settings, std::shared_ptr<screening_probe> probe, sleeper sleep,
    clock now) {
  auto target = https_client::parse_target(settings.url, "aml.http_url");
  if (!target.ok()) return target.error();
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (target.value().tls) {
    auto made = https_client::make_tls_context(settings.ca_file, "aml.http_ca_file");
    if (!made.ok()) return made.error();
    tls = std::move(made).value();
  }
  if (!sleep) sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!now) now = [] { return std::chrono::steady_clock::now(); };
  return std::make_shared<http_provider>(std::move(settings), std::move(target).value(),
                                         std::move(tls), std::move(probe), std::move(sleep),
                                         std::move(now));
}

http_provider::http_provider(http_provider_settings settings, https_client::target target,
                             std::shared_ptr<boost::asio::ssl::context> tls,
                             std::shared_ptr<screening_probe> probe, sleeper sleep, clock now)
    : settings_(std::move(settings)),
      target_(std::move(target)),
      tls_(std::move(tls)),
      probe_(std::move(probe)),
      sleep_(std::move(sleep)),
      now_(std::move(now)),
      breaker_(settings_.circuit) {
  WALLET_ASSERT(probe_ != nullptr);
}

bool http_provider::allow_attempt() {
  const std::lock_guard lock{mutex_};
  const auto before = breaker_.state();
  const bool allowed = breaker_.allow(now_());
  if (breaker_.state() != before) probe_->circuit_changed(breaker_.state());
  return allowed;
}

void http_provider::record(bool success) {
  const std::lock_guard lock{mutex_};
  const auto before = breaker_.state();
  if (success) {
    breaker_.on_success();
  } else {
    breaker_.on_failure(now_());
  }
  if (breaker_.state() != before) probe_->circuit_changed(breaker_.state());
}

actors::circuit_state http_provider::circuit() const {
  const std::lock_guard lock{mutex_};
  return breaker_.state();
}

actors::screening_answer http_provider::screen(const actors::screening_request& request) {
  https_client::request post;
  post.verb = https_client::method::post;
  post.accept = "application/json";
  post.content_type = "application/json";
  post.body = request_body(request);
  post.reply_bytes_max = reply_bytes_max;
  std::string last_error;
  for (std::uint32_t attempt = 0; attempt <= settings_.retries; ++attempt) {
    if (attempt > 0) {
      // Exponential backoff with jitter, so that many wallets retrying do not arrive together.
      sleep_(actors::backoff_delay(settings_.backoff, attempt - 1, actors::jitter_random()));
    }
    if (!allow_attempt()) {
      // The circuit is open: fail fast, no attempt and no further retries until its cool-down.
      probe_->attempt_failed(http_name, "circuit_open", "the provider's circuit is open");
      return actors::screening_answer{
          std::nullopt, "the provider's circuit is open" +
                            (last_error.empty() ? std::string{} : " (" + last_error + ")")};
    }
    const https_client::reply reply =
        https_client::call(target_, post, tls_.get(), settings_.timeout);
    if (reply.status == 200) {
      auto verdict = parse_verdict(reply.body);
      if (verdict.ok()) {
        record(true);
        probe_->screened(http_name, engine::to_string(verdict.value()));
        return actors::screening_answer{verdict.value(), {}};
      }
      // A provider answering nonsense is failing: count it, and do not retry (it would again).
      record(false);
      probe_->attempt_failed(http_name, "answer", verdict.error());
      return actors::screening_answer{std::nullopt, verdict.error()};
    }
    record(false);
    last_error = reply.status == 0 ? reply.error : "HTTP status " + std::to_string(reply.status);
    const bool timed_out = reply.status == 0 && reply.error.find("timed out") != std::string::npos;
    probe_->attempt_failed(http_name,
                           timed_out ? "timeout" : (reply.status == 0 ? "transport" : "status"),
                           last_error);
    if (!retryable(reply)) break;
  }
  return actors::screening_answer{std::nullopt, last_error};
}

void http_provider::unanswered(const actors::screening_request& request, std::string_view why,
                               bool allowed) {
  report_unanswered(*probe_, http_name, request, why, allowed);
}

}  // namespace wallet::screening
