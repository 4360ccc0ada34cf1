// Integration test (label integration): the HTTP API of a running walletd (started by
// walletd_http.sh with auth.mode=off over the real PostgreSQL and nats-server) through a real
// HTTP client: every route, every error code reachable without tokens, idempotent repeats and
// conflicts, concurrent withdrawals of a full balance, limits, health and metrics. Each answer is
// checked against the schema docs/openapi.json documents for it.
#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <tuple>

#include "client.hpp"
#include "schema_check.hpp"
#include "wallet/http/api.hpp"

namespace wallet::http::testing {
namespace {

namespace json = boost::json;
using status = bhttp::status;
using namespace std::chrono_literals;

std::uint16_t port() {
  const char* p = std::getenv("WALLET_HTTP_PORT");
  EXPECT_NE(p, nullptr) << "WALLET_HTTP_PORT is not set: run walletd_http.sh";
  return p == nullptr ? 0 : static_cast<std::uint16_t>(std::stoi(p));
}

// Ids unique to this run: the database is the test's own, but runs may repeat on it.
std::string unique(const std::string& stem) {
  static const std::string run =
      std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000);
  return stem + "-" + run;
}

class walletd_http : public ::testing::Test {
 protected:
  walletd_http() : document_(json::parse(api::openapi_document())), schemas_(document_) {}

  // Sends a request on this test's connection and checks the answer against the document entry
  // for `pattern` (the route the request targets).
  client_response send(bhttp::verb method, const std::string& target, const std::string& pattern,
                       const std::string& body = {},
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto req = test_client::request(method, target, body);
    for (auto& [k, v] : headers) req.set(k, v);
    auto r = client_->send(req);
    if (!r) {  // the server closed (e.g. after an error answer): one new connection
      client_ = std::make_unique<test_client>(port());
      r = client_->send(req);
    }
    EXPECT_TRUE(r) << target << ": " << client_->error().message();
    if (!r) return {};
    if (!pattern.empty()) conforms(*r, method, pattern);
    return *r;
  }

  client_response post(const std::string& target, const std::string& pattern,
                       const std::string& body, const std::string& key) {
    return send(bhttp::verb::post, target, pattern, body, {{"Idempotency-Key", key}});
  }
  client_response get(const std::string& target, const std::string& pattern) {
    return send(bhttp::verb::get, target, pattern);
  }

  void conforms(const client_response& r, bhttp::verb method, const std::string& pattern) {
    std::string m(bhttp::to_string(method));
    for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string type(r[bhttp::field::content_type]);
    const std::string media = type.substr(0, type.find(';'));
    const json::value* schema = schemas_.response_schema(pattern, m, r.result_int(), media);
    ASSERT_NE(schema, nullptr) << m << " " << pattern << " answered " << r.result_int() << " "
                               << media << " (not in docs/openapi.json): " << r.body();
    if (media == "text/plain") return;
    const auto problems = schemas_.check(json::parse(r.body()), *schema);
    EXPECT_TRUE(problems.empty()) << pattern << " " << r.result_int() << ": " << r.body() << "\n  "
                                  << (problems.empty() ? "" : problems.front());
  }

  static json::object body(const client_response& r) { return json::parse(r.body()).as_object(); }
  static std::string text(const client_response& r, std::string_view key) {
    const auto o = body(r);
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
  }
  static bool names_field(const client_response& r, const std::string& field,
                          const std::string& problem) {
    const auto o = body(r);
    const auto* f = o.if_contains("fields");
    if (f == nullptr) return false;
    for (const auto& p : f->as_array()) {
      if (p.at("field").as_string() == field && p.at("problem").as_string() == problem) return true;
    }
    return false;
  }

  std::string open(const std::string& stem, const std::string& ccy = "EUR") {
    const std::string id = unique(stem);
    const auto r =
        post("/v1/wallets", "/v1/wallets",
             R"({"wallet_id":")" + id + R"(","currency":")" + ccy + R"(","owner":"o-)" + id + "\"}",
             "open-" + id);
    EXPECT_EQ(r.result(), status::created) << r.body();
    return id;
  }
  void deposit(const std::string& id, const std::string& amount, const std::string& key) {
    const auto r = post("/v1/wallets/" + id + "/deposits", "/v1/wallets/{wallet_id}/deposits",
                        R"({"amount":")" + amount + R"(","currency":"EUR"})", key);
    EXPECT_EQ(r.result(), status::ok) << r.body();
  }

  json::value document_;
  schema_check schemas_;
  std::unique_ptr<test_client> client_ = std::make_unique<test_client>(port());
};

TEST_F(walletd_http, moves_money_through_every_route) {
  const std::string a = open("a");
  const std::string b = open("b");
  deposit(a, "100.00", "dep-1");
  const std::string w = "/v1/wallets/{wallet_id}/withdrawals";
  EXPECT_EQ(
      post("/v1/wallets/" + a + "/withdrawals", w, R"({"amount":"0.50","currency":"EUR"})", "wd-1")
          .result(),
      status::ok);
  const auto t =
      post("/v1/wallets/" + a + "/transfers", "/v1/wallets/{wallet_id}/transfers",
           R"({"transfer_id":"t1","destination":")" + b + R"(","amount":"10.25","currency":"EUR"})",
           "tr-1");
  ASSERT_EQ(t.result(), status::accepted) << t.body();
  const std::string location(t[bhttp::field::location]);
  EXPECT_EQ(location, "/v1/wallets/" + a + "/transfers/t1");
  std::string transfer_status;
  for (int i = 0; i < 100 && transfer_status != "completed"; ++i) {
    transfer_status =
        text(get(location, "/v1/wallets/{wallet_id}/transfers/{transfer_id}"), "status");
    if (transfer_status != "completed") std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(transfer_status, "completed");
  EXPECT_EQ(text(get("/v1/wallets/" + a, "/v1/wallets/{wallet_id}"), "balance"), "89.25");
  EXPECT_EQ(text(get("/v1/wallets/" + b, "/v1/wallets/{wallet_id}"), "balance"), "10.25");

  const std::string holds = "/v1/wallets/" + a + "/holds";
  const auto placed =
      post(holds, "/v1/wallets/{wallet_id}/holds",
           R"({"hold_id":"h1","amount":"20","currency":"EUR","expires_at":"2099-01-01T00:00:00Z"})",
           "hold-1");
  ASSERT_EQ(placed.result(), status::created) << placed.body();
  EXPECT_EQ(text(placed, "available"), "69.25");
  EXPECT_EQ(text(get(holds + "/h1", "/v1/wallets/{wallet_id}/holds/{hold_id}"), "status"), "open");
  EXPECT_EQ(post(holds + "/h1/capture", "/v1/wallets/{wallet_id}/holds/{hold_id}/capture",
                 R"({"amount":"5","currency":"EUR"})", "cap-1")
                .result(),
            status::ok);
  const auto captured = get(holds + "/h1", "/v1/wallets/{wallet_id}/holds/{hold_id}");
  EXPECT_EQ(text(captured, "status"), "captured");
  EXPECT_EQ(text(captured, "released"), "15.00");
  EXPECT_EQ(
      post(holds, "/v1/wallets/{wallet_id}/holds",
           R"({"hold_id":"h2","amount":"1","currency":"EUR","expires_at":"2099-01-01T00:00:00Z"})",
           "hold-2")
          .result(),
      status::created);
  EXPECT_EQ(
      post(holds + "/h2/release", "/v1/wallets/{wallet_id}/holds/{hold_id}/release", "", "rel-2")
          .result(),
      status::ok);
  EXPECT_EQ(text(get(holds + "/h2", "/v1/wallets/{wallet_id}/holds/{hold_id}"), "status"),
            "released");

  const auto history =
      get("/v1/wallets/" + a + "/events?limit=3", "/v1/wallets/{wallet_id}/events");
  ASSERT_EQ(history.result(), status::ok);
  EXPECT_EQ(body(history).at("events").as_array().size(), 3U);
  EXPECT_EQ(body(history).at("next_after").as_int64(), 3);
  const auto rest =
      get("/v1/wallets/" + a + "/events?after=3&limit=50", "/v1/wallets/{wallet_id}/events");
  EXPECT_EQ(body(rest).at("events").as_array().size(), 5U)
      << "transfer_debited, hold_placed, hold_captured, hold_placed, hold_released";
  const auto outcome = get("/v1/wallets/" + a + "/outcomes/dep-1",
                           "/v1/wallets/{wallet_id}/outcomes/{idempotency_key}");
  EXPECT_EQ(text(outcome, "status"), "accepted");
  EXPECT_EQ(body(outcome).at("event").at("amount").as_string(), "100.00");
  const auto mine = get("/v1/wallets?owner=o-" + a, "/v1/wallets");
  EXPECT_EQ(body(mine).at("wallets").as_array().size(), 1U);

  const std::string admin = "/v1/wallets/" + b;
  EXPECT_EQ(post(admin + "/freeze", "/v1/wallets/{wallet_id}/freeze", R"({"reason":"check"})", "fr")
                .result(),
            status::ok);
  EXPECT_EQ(text(get(admin, "/v1/wallets/{wallet_id}"), "status"), "frozen");
  EXPECT_EQ(
      post(admin + "/unfreeze", "/v1/wallets/{wallet_id}/unfreeze", R"({"reason":"ok"})", "uf")
          .result(),
      status::ok);
  const auto not_empty =
      post(admin + "/close", "/v1/wallets/{wallet_id}/close", R"({"reason":"done"})", "cl-1");
  EXPECT_EQ(not_empty.result(), status::unprocessable_entity);
  EXPECT_EQ(text(not_empty, "code"), "wallet_not_empty");
  EXPECT_EQ(
      post(admin + "/withdrawals", w, R"({"amount":"10.25","currency":"EUR"})", "wd-b").result(),
      status::ok);
  EXPECT_EQ(post(admin + "/close", "/v1/wallets/{wallet_id}/close", R"({"reason":"done"})", "cl-2")
                .result(),
            status::ok);
  EXPECT_EQ(text(get(admin, "/v1/wallets/{wallet_id}"), "status"), "closed");
}

TEST_F(walletd_http, refuses_bad_input_with_precise_problems) {
  const std::string a = open("bad");
  const std::string target = "/v1/wallets/" + a + "/deposits";
  const std::string pattern = "/v1/wallets/{wallet_id}/deposits";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {R"({"amount":"-5","currency":"EUR"})", "amount", "sign"},
      {R"({"amount":"0","currency":"EUR"})", "amount", "not_positive"},
      {R"({"amount":"1.001","currency":"EUR"})", "amount", "too_many_decimals"},
      {R"({"amount":"123456789012345678901","currency":"EUR"})", "amount", "overflow"},
      {R"({"amount":"1","currency":"EUX"})", "currency", "unknown_currency"},
      {R"({"amount":"1","currency":"EUR","extra":true})", "extra", "unknown_field"},
  };
  int n = 0;
  for (const auto& [json_body, field, problem] : cases) {
    const auto r = post(target, pattern, json_body, "bad-" + std::to_string(n++));
    EXPECT_EQ(r.result(), status::bad_request) << json_body;
    EXPECT_TRUE(names_field(r, field, problem)) << json_body << " -> " << r.body();
  }
  const auto malformed = post(target, pattern, "{\"amount\":", "bad-json");
  EXPECT_EQ(text(malformed, "code"), "malformed_json");
  const auto wrong_type = send(
      bhttp::verb::post, target, pattern, "amount=1",
      {{"Idempotency-Key", "bad-type"}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(wrong_type.result(), status::unsupported_media_type);
  const auto no_key =
      send(bhttp::verb::post, target, pattern, R"({"amount":"1","currency":"EUR"})");
  EXPECT_TRUE(names_field(no_key, "Idempotency-Key", "missing"));
  const auto huge =
      post(target, pattern,
           R"({"amount":"1","currency":"EUR","pad":")" + std::string(5'000, 'x') + "\"}", "big");
  EXPECT_EQ(huge.result(), status::payload_too_large);
  EXPECT_EQ(text(huge, "code"), "body_too_large");
  EXPECT_EQ(text(get("/v1/wallets/" + a, "/v1/wallets/{wallet_id}"), "balance"), "0.00")
      << "nothing bad was applied";
}

TEST_F(walletd_http, repeats_the_original_answer_and_refuses_a_reused_key) {
  const std::string a = open("idem");
  const std::string target = "/v1/wallets/" + a + "/deposits";
  const std::string pattern = "/v1/wallets/{wallet_id}/deposits";
  const auto first = post(target, pattern, R"({"amount":"7.00","currency":"EUR"})", "same");
  const auto again = post(target, pattern, R"({"amount":"7.00","currency":"EUR"})", "same");
  EXPECT_EQ(first.result(), status::ok);
  EXPECT_EQ(again.result(), status::ok);
  EXPECT_EQ(again["Idempotent-Replayed"], "true");
  auto x = body(first);
  auto y = body(again);
  x.erase("replayed");
  y.erase("replayed");
  EXPECT_EQ(x, y) << "the original body, its event read back from the log";
  const auto conflict = post(target, pattern, R"({"amount":"8.00","currency":"EUR"})", "same");
  EXPECT_EQ(conflict.result(), status::conflict);
  EXPECT_EQ(text(conflict, "code"), "idempotency_conflict");
  EXPECT_EQ(text(get("/v1/wallets/" + a, "/v1/wallets/{wallet_id}"), "balance"), "7.00");
}

TEST_F(walletd_http, answers_404_405_409_and_422) {
  const auto missing = get("/v1/wallets/" + unique("nowhere"), "/v1/wallets/{wallet_id}");
  EXPECT_EQ(missing.result(), status::not_found);
  EXPECT_EQ(text(missing, "code"), "wallet_not_found");
  const auto no_route = send(bhttp::verb::get, "/v1/nothing", "");  // no route: no schema
  EXPECT_EQ(no_route.result(), status::not_found);
  const std::string a = open("codes");
  // No DELETE operation to document a 405 under: the answer is checked here instead.
  const auto method = send(bhttp::verb::delete_, "/v1/wallets/" + a, "");
  EXPECT_EQ(method[bhttp::field::allow], "GET");
  EXPECT_EQ(text(method, "code"), "method_not_allowed");
  EXPECT_EQ(method.result(), status::method_not_allowed);
  const auto exists = post("/v1/wallets", "/v1/wallets",
                           R"({"wallet_id":")" + a + R"(","currency":"EUR"})", "again");
  EXPECT_EQ(text(exists, "code"), "wallet_exists");
  const auto poor = post("/v1/wallets/" + a + "/withdrawals", "/v1/wallets/{wallet_id}/withdrawals",
                         R"({"amount":"1","currency":"EUR"})", "poor");
  EXPECT_EQ(poor.result(), status::unprocessable_entity);
  EXPECT_EQ(text(poor, "code"), "insufficient_funds");
  EXPECT_EQ(
      get("/v1/wallets/" + a + "/transfers/none", "/v1/wallets/{wallet_id}/transfers/{transfer_id}")
          .result(),
      status::not_found);
  EXPECT_EQ(get("/v1/wallets/" + a + "/outcomes/none",
                "/v1/wallets/{wallet_id}/outcomes/{idempotency_key}")
                .result(),
            status::not_found);
}

// walletd_http.sh starts walletd with a flags file that switches GBP off: a transient refusal,
// 503 with Retry-After, and the same request with the same key passes once GBP is on again.
TEST_F(walletd_http, feature_disabled_is_503_until_the_operator_switches_it_on) {
  const char* flags = std::getenv("WALLET_HTTP_FLAGS_FILE");
  ASSERT_NE(flags, nullptr) << "WALLET_HTTP_FLAGS_FILE is not set: run walletd_http.sh";
  const std::string id = unique("gbp");
  const std::string open_body =
      R"({"wallet_id":")" + id + R"(","currency":"GBP","owner":"o-)" + id + "\"}";
  const auto off = post("/v1/wallets", "/v1/wallets", open_body, "open-" + id);
  EXPECT_EQ(off.result(), status::service_unavailable) << off.body();
  EXPECT_EQ(text(off, "code"), "feature_disabled");
  EXPECT_FALSE(off[bhttp::field::retry_after].empty());
  {
    std::ofstream out(flags, std::ios::trunc);
    out << R"({"currency.GBP": true})";
  }
  // walletd_http.sh sets compliance.reload_poll_ms to 100.
  status got = off.result();
  for (int i = 0; i < 50 && got != status::created; ++i) {
    std::this_thread::sleep_for(100ms);
    got = post("/v1/wallets", "/v1/wallets", open_body, "open-" + id).result();
  }
  EXPECT_EQ(got, status::created) << "the refusal was not remembered under the key";
  EXPECT_EQ(text(get("/v1/wallets/" + id, "/v1/wallets/{wallet_id}"), "currency"), "GBP");
}

TEST_F(walletd_http, exactly_one_of_concurrent_full_withdrawals_succeeds) {
  const std::string a = open("race");
  deposit(a, "50.00", "fund");
  constexpr int racers = 16;
  std::atomic<int> ok{0};
  std::atomic<int> poor{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < racers; ++i) {
    threads.emplace_back([&, i] {
      test_client c{port()};
      auto req = test_client::request(bhttp::verb::post, "/v1/wallets/" + a + "/withdrawals",
                                      R"({"amount":"50.00","currency":"EUR"})");
      req.set("Idempotency-Key", "race-" + std::to_string(i));
      const auto r = c.send(req);
      if (r && r->result() == status::ok) {
        ++ok;
      } else if (r && r->result() == status::unprocessable_entity &&
                 r->body().find("insufficient_funds") != std::string::npos) {
        ++poor;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(poor.load(), racers - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(text(get("/v1/wallets/" + a, "/v1/wallets/{wallet_id}"), "balance"), "0.00");
}

TEST_F(walletd_http, traceparent_reaches_the_events) {
  const std::string a = open("trace");
  const auto r = send(bhttp::verb::post, "/v1/wallets/" + a + "/deposits",
                      "/v1/wallets/{wallet_id}/deposits", R"({"amount":"1","currency":"EUR"})",
                      {{"Idempotency-Key", "traced"},
                       {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}});
  EXPECT_EQ(r.result(), status::ok);
  // walletd_http.sh reads wallet_events.trace_parent of this wallet afterwards.
  std::printf("TRACED_WALLET=%s\n", a.c_str());
}

TEST_F(walletd_http, health_metrics_document_and_limits) {
  EXPECT_EQ(get("/health/live", "/health/live").result(), status::ok);
  const auto ready = get("/health/ready", "/health/ready");
  EXPECT_EQ(ready.result(), status::ok) << ready.body();
  for (const char* check : {"database", "migrations", "nats", "circuit", "runtime"}) {
    EXPECT_EQ(body(ready).at("checks").at(check).as_string(), "ok") << check;
  }
  const auto metrics = get("/metrics", "/metrics");
  EXPECT_NE(metrics.body().find("# TYPE wallet_http_requests_total counter"), std::string::npos);
  EXPECT_NE(metrics.body().find(R"(route="/v1/wallets/{wallet_id}/deposits")"), std::string::npos);
  EXPECT_NE(metrics.body().find("wallet_http_request_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body().find("wallet_commands_total"), std::string::npos);
  const auto served = get("/v1/openapi.json", "/v1/openapi.json");
  EXPECT_EQ(json::parse(served.body()), document_);

  auto big = test_client::request(bhttp::verb::get, "/health/live");
  big.set("X-Padding", std::string(10'000, 'p'));
  test_client c{port()};
  const auto header = c.send(big);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->result(), status::request_header_fields_too_large);
}

// Last: it spends the client address's bucket of open routes (walletd_http.sh sets a burst of 20
// and 10 per second).
TEST_F(walletd_http, zz_rate_limits_open_routes_per_address_and_recovers) {
  std::this_thread::sleep_for(2'500ms);  // a full bucket
  int limited = 0;
  client_response refused;
  for (int i = 0; i < 40; ++i) {
    auto r = get("/health/live", "/health/live");
    if (r.result() == status::too_many_requests) {
      ++limited;
      refused = r;
    }
  }
  EXPECT_GE(limited, 10);
  EXPECT_FALSE(refused[bhttp::field::retry_after].empty());
  EXPECT_EQ(refused["RateLimit-Limit"], "20");
  EXPECT_EQ(refused["RateLimit-Remaining"], "0");
  EXPECT_EQ(text(refused, "code"), "rate_limited");
  std::this_thread::sleep_for(1'500ms);
  EXPECT_EQ(get("/health/live", "/health/live").result(), status::ok) << "the bucket refills";
}

}  // namespace
}  // namespace wallet::http::testing
