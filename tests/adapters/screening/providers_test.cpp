// The screening providers without a server: request body, verdict parsing, which failures are
// retried, the rules provider, and the HTTP provider's retries with backoff and its circuit
// breaker (opening, failing fast, half-open probe) against a closed local port, on a fake clock.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "wallet/screening/providers.hpp"

namespace wallet::screening {
namespace {

using namespace std::chrono_literals;

const engine::currency eur = *engine::currency::from_code("EUR");

struct recording_probe final : screening_probe {
  void screened(std::string_view provider, std::string_view outcome) override {
    verdicts.emplace_back(std::string(provider) + ":" + std::string(outcome));
  }
  void unanswered(std::string_view provider, std::string_view outcome, std::string_view /*why*/,
                  std::string_view wallet_id) override {
    downs.emplace_back(std::string(provider) + ":" + std::string(outcome) + ":" +
                       std::string(wallet_id));
  }
  void attempt_failed(std::string_view /*provider*/, std::string_view kind,
                      std::string_view /*detail*/) override {
    failures.emplace_back(kind);
  }
  void circuit_changed(actors::circuit_state state) override { circuits.push_back(state); }
  std::vector<std::string> verdicts, downs, failures;
  std::vector<actors::circuit_state> circuits;
};

actors::screening_request sample() {
  actors::screening_request r;
  r.wallet_id = "w-1";
  r.owner = "o-1";
  r.command = "transfer_debit";
  r.idempotency_key = "k-1";
  r.destination = "w-2";
  r.amount = engine::money{123'456, eur};
  r.reasons = static_cast<engine::screening_reasons>(engine::screening_reason::amount) |
              static_cast<engine::screening_reasons>(engine::screening_reason::velocity_sum);
  r.velocity_count = 4;
  r.velocity_sum = 99;
  return r;
}

// A loopback port with nothing listening: every attempt fails at once (connection refused).
std::string closed_url() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return "http://127.0.0.1:" + std::to_string(port) + "/screen";
}

TEST(request_body, carries_ids_amounts_as_strings_and_reasons) {
  const auto o = boost::json::parse(request_body(sample())).as_object();
  EXPECT_EQ(o.at("wallet_id").as_string(), "w-1");
  EXPECT_EQ(o.at("owner_id").as_string(), "o-1");
  EXPECT_EQ(o.at("command").as_string(), "transfer_debit");
  EXPECT_EQ(o.at("destination").as_string(), "w-2");
  EXPECT_EQ(o.at("amount_minor").as_string(), "123456");
  EXPECT_EQ(o.at("currency").as_string(), "EUR");
  EXPECT_EQ(o.at("reasons").as_array().size(), 2U);
  EXPECT_EQ(o.at("reasons").as_array()[1].as_string(), "velocity_sum");
  EXPECT_EQ(o.at("velocity_count").as_int64(), 4);
  EXPECT_EQ(o.at("velocity_sum_minor").as_string(), "99");
}

TEST(parse_verdict, accepts_the_three_verdicts_only) {
  EXPECT_EQ(parse_verdict(R"({"verdict":"deny","ref":"x"})").value(),
            engine::screening_verdict::deny);
  EXPECT_EQ(parse_verdict(R"({"verdict":"review"})").value(), engine::screening_verdict::review);
  for (const std::string_view bad :
       {"", "{", "[]", R"({"verdict":1})", R"({"verdict":"ALLOW"})", R"({"result":"allow"})"}) {
    EXPECT_FALSE(parse_verdict(bad).ok()) << bad;
  }
}

TEST(retryable, timeouts_5xx_408_429_only) {
  EXPECT_TRUE(retryable({0, {}, "timed out"}));
  EXPECT_TRUE(retryable({503, {}, {}}));
  EXPECT_TRUE(retryable({429, {}, {}}));
  EXPECT_TRUE(retryable({408, {}, {}}));
  EXPECT_FALSE(retryable({400, {}, {}}));
  EXPECT_FALSE(retryable({404, {}, {}}));
}

// The URL rules themselves are https_client's (tests/adapters/https_client): here, that the
// provider applies them and names its own settings.
TEST(http_provider, checks_its_url_and_trust_store_naming_its_settings) {
  auto probe = std::make_shared<screening_probe>();
  http_provider_settings s;
  s.url = "http://aml.example.com/screen";
  const auto clear_text = http_provider::make(s, probe);
  ASSERT_FALSE(clear_text.ok());
  EXPECT_NE(clear_text.error().find("aml.http_url"), std::string::npos) << clear_text.error();
  s.url = "https://aml.example.com/screen";
  s.ca_file = "/nonexistent/ca.pem";
  const auto no_ca = http_provider::make(s, probe);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(no_ca.error().find("aml.http_ca_file"), std::string::npos) << no_ca.error();
  s.ca_file.clear();
  EXPECT_TRUE(http_provider::make(s, probe).ok());
}

TEST(rules_provider, answers_by_its_rules_and_counts) {
  auto probe = std::make_shared<recording_probe>();
  engine::rules_verdicts rules;
  rules.deny_from = engine::parse_currency_amounts("EUR:100000").value();
  rules_provider p(rules, probe);
  EXPECT_EQ(p.screen(sample()).verdict, engine::screening_verdict::deny);
  auto small = sample();
  small.amount.minor = 5;
  EXPECT_EQ(p.screen(small).verdict, engine::screening_verdict::allow);
  EXPECT_EQ(probe->verdicts, (std::vector<std::string>{"rules:deny", "rules:allow"}));
}

class http_provider_test : public ::testing::Test {
 protected:
  std::shared_ptr<http_provider> make(std::uint32_t retries, std::uint32_t failures_to_open) {
    http_provider_settings s;
    s.url = closed_url();
    s.timeout = 1'000ms;
    s.retries = retries;
    s.backoff.initial = 100ms;
    s.backoff.max = 300ms;
    s.circuit = {failures_to_open, 5s};
    auto made = http_provider::make(
        s, probe_, [this](std::chrono::milliseconds d) { slept_.push_back(d); },
        [this] { return now_; });
    EXPECT_TRUE(made.ok());
    return made.ok() ? std::move(made).value() : nullptr;
  }
  std::shared_ptr<recording_probe> probe_ = std::make_shared<recording_probe>();
  std::vector<std::chrono::milliseconds> slept_;
  actors::steady_time now_{std::chrono::hours{1}};
};

TEST_F(http_provider_test, retries_with_exponential_backoff_and_jitter_then_gives_no_verdict) {
  auto p = make(3, 100);
  const auto answer = p->screen(sample());
  EXPECT_FALSE(answer.verdict);
  EXPECT_NE(answer.error.find("connect"), std::string::npos) << answer.error;
  EXPECT_EQ(probe_->failures, (std::vector<std::string>(4, "transport")));
  ASSERT_EQ(slept_.size(), 3U) << "one wait before each retry";
  // Doubling from 100 ms, capped at 300 ms, each spread over [delay/2, delay].
  const std::array<std::pair<int, int>, 3> bounds{{{50, 100}, {100, 200}, {150, 300}}};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_GE(slept_[i].count(), bounds[i].first) << i;
    EXPECT_LE(slept_[i].count(), bounds[i].second) << i;
  }
}

TEST_F(http_provider_test, the_circuit_opens_fails_fast_and_half_opens_after_its_cool_down) {
  auto p = make(0, 2);
  EXPECT_FALSE(p->screen(sample()).verdict);
  EXPECT_EQ(p->circuit(), actors::circuit_state::closed);
  EXPECT_FALSE(p->screen(sample()).verdict);
  EXPECT_EQ(p->circuit(), actors::circuit_state::open);
  const auto fast = p->screen(sample());
  EXPECT_FALSE(fast.verdict);
  EXPECT_NE(fast.error.find("circuit is open"), std::string::npos);
  EXPECT_EQ(probe_->failures.back(), "circuit_open");
  // After the cool-down one probe goes through; it fails, so the circuit opens again.
  now_ += 5s;
  EXPECT_FALSE(p->screen(sample()).verdict);
  EXPECT_EQ(probe_->failures.back(), "transport");
  EXPECT_EQ(p->circuit(), actors::circuit_state::open);
  EXPECT_EQ(probe_->circuits, (std::vector<actors::circuit_state>{actors::circuit_state::open,
                                                                  actors::circuit_state::half_open,
                                                                  actors::circuit_state::open}));
}

TEST_F(http_provider_test, an_open_circuit_stops_the_retries) {
  auto p = make(5, 2);
  EXPECT_FALSE(p->screen(sample()).verdict);
  EXPECT_EQ(probe_->failures, (std::vector<std::string>{"transport", "transport", "circuit_open"}));
  EXPECT_EQ(slept_.size(), 2U);
}

TEST_F(http_provider_test, reports_the_runtime_s_fail_open_and_fail_closed) {
  auto p = make(0, 5);
  p->unanswered(sample(), "timed out", true);
  p->unanswered(sample(), "timed out", false);
  EXPECT_EQ(probe_->downs,
            (std::vector<std::string>{"http:fail_open:w-1", "http:fail_closed:w-1"}));
}

}  // namespace
}  // namespace wallet::screening
