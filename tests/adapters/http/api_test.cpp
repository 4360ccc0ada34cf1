// Unit tests of the HTTP API over the engine's real wallet aggregates (fake_engine): parsing of
// money and fields, idempotent repeats and conflicts, problem mapping, roles and ownership, rate
// limits, pagination, trace context, health. Every answer is also checked against the schema
// docs/openapi.json documents for its route and status.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <future>
#include <set>
#include <tuple>

#include "fake_engine.hpp"
#include "schema_check.hpp"
#include "wallet/http/api.hpp"
#include "wallet/http/problem.hpp"

namespace wallet::http::testing {
namespace {

namespace json = boost::json;
using field = boost::beast::http::field;

struct recorded {
  std::string method;
  std::string route;
  unsigned status = 0;
  std::string code;
  std::string trace_id;
};

class recording_probe final : public probe {
 public:
  void answered(const request_record& r) override {
    const std::lock_guard lock{mutex};
    records.push_back({std::string(r.method), std::string(r.route), r.status, std::string(r.code),
                       std::string(r.trace_id)});
  }
  std::mutex mutex;
  std::vector<recorded> records;
};

constexpr std::uint8_t bits(std::initializer_list<auth::role> roles) {
  std::uint8_t out = 0;
  for (auto r : roles) out = static_cast<std::uint8_t>(out | static_cast<std::uint8_t>(r));
  return out;
}

class api_test : public ::testing::Test {
 protected:
  api_test() : document_(json::parse(api::openapi_document())), schemas_(document_) {
    using auth::role;
    authn_.tokens["alice"] = {"alice", bits({role::read, role::write})};
    authn_.tokens["bob"] = {"bob", bits({role::read, role::write})};
    authn_.tokens["reader"] = {"alice", bits({role::read})};
    authn_.tokens["admin"] = {"ops", bits({role::admin})};
    authn_.tokens["svc"] = {"billing", bits({role::read, role::write, role::service})};
    authn_.failures["expired"] = auth::auth_errc::expired;
    authn_.failures["nokeys"] = auth::auth_errc::keys_unavailable;
    make_api();
  }

  void make_api() {
    api_ports ports;
    ports.submit = engine_->submitter();
    ports.reads = engine_;
    ports.authenticator = &authn_;
    ports.principal_limits = &limiter_;
    ports.address_limits = &address_limiter_;
    ports.readiness = {{"nats", [this] { return nats_ok_; }}};
    ports.schema_version_expected = 4;
    ports.metrics_text = [] { return std::string("wallet_test_metric 1\n"); };
    ports.events = probe_;
    api_settings s;
    s.page_limit_max = 50;
    api_ = std::make_unique<api>(s, ports);
  }

  // Sends one request as `token` ("" for none) and checks the answer against the document.
  response call(verb method, const std::string& target, std::string body = {},
                const std::string& token = "alice",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    request req;
    req.message.method(method);
    req.message.target(target);
    req.message.version(11);
    if (!token.empty()) req.message.set(field::authorization, "Bearer " + token);
    if (!body.empty()) req.message.set(field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.message.set(k, v);
    req.message.body() = std::move(body);
    req.remote_address = "192.0.2.1";
    req.received = std::chrono::steady_clock::now();
    std::promise<response> answer;
    api_->handle(std::move(req), responder{[&](response r) { answer.set_value(std::move(r)); }});
    auto future = answer.get_future();
    EXPECT_EQ(future.wait_for(std::chrono::seconds{5}), std::future_status::ready);
    response r = future.get();
    conforms(r);
    return r;
  }

  response post(const std::string& target, const std::string& body, const std::string& key,
                const std::string& token = "alice") {
    return call(verb::post, target, body, token, {{"Idempotency-Key", key}});
  }

  void conforms(const response& r) {
    const recorded last = probe_->records.back();
    if (last.route == "unmatched") return;
    const auto type = std::string(r[field::content_type]);
    const std::string media = type.substr(0, type.find(';'));
    std::string method(last.method);
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json::value* schema = schemas_.response_schema(last.route, method, r.result_int(), media);
    ASSERT_NE(schema, nullptr) << method << " " << last.route << " answered " << r.result_int()
                               << " " << media << ", which docs/openapi.json does not list";
    if (media == "text/plain") return;
    const auto problems = schemas_.check(json::parse(r.body()), *schema);
    EXPECT_TRUE(problems.empty()) << method << " " << last.route << " " << r.result_int() << ": "
                                  << r.body() << "\n  first problem: "
                                  << (problems.empty() ? "" : problems.front());
  }

  static json::object body_of(const response& r) { return json::parse(r.body()).as_object(); }
  static std::string text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
  }
  // The (field, problem) pairs of a 400 invalid_request.
  static std::vector<std::pair<std::string, std::string>> fields_of(const response& r) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto o = body_of(r);
    if (const auto* f = o.if_contains("fields")) {
      for (const auto& p : f->as_array()) {
        out.emplace_back(text(p.as_object(), "field"), text(p.as_object(), "problem"));
      }
    }
    return out;
  }

  void open(const std::string& id, const std::string& ccy = "EUR",
            const std::string& token = "alice") {
    const auto r =
        post("/v1/wallets", R"({"wallet_id":")" + id + R"(","currency":")" + ccy + R"("})",
             "open-" + id, token);
    ASSERT_EQ(r.result(), status::created) << r.body();
  }
  void deposit(const std::string& id, const std::string& amount, const std::string& key) {
    const auto r = post("/v1/wallets/" + id + "/deposits",
                        R"({"amount":")" + amount + R"(","currency":"EUR"})", key);
    ASSERT_EQ(r.result(), status::ok) << r.body();
  }

  json::value document_;
  schema_check schemas_;
  std::shared_ptr<fake_engine> engine_ = std::make_shared<fake_engine>();
  fake_authenticator authn_;
  fake_limiter limiter_;
  fake_limiter address_limiter_;
  std::shared_ptr<recording_probe> probe_ = std::make_shared<recording_probe>();
  bool nats_ok_ = true;
  std::unique_ptr<api> api_;
};

TEST_F(api_test, opens_deposits_and_reads_a_wallet_with_exact_decimal_money) {
  const auto opened = post("/v1/wallets", R"({"wallet_id":"w1","currency":"EUR"})", "k1");
  EXPECT_EQ(opened.result(), status::created);
  EXPECT_EQ(opened[field::location], "/v1/wallets/w1");
  EXPECT_EQ(text(body_of(opened), "status"), "accepted");
  deposit("w1", "0.1", "d1");
  deposit("w1", "0.2", "d2");
  deposit("w1", "12.04", "d3");
  const auto got = call(verb::get, "/v1/wallets/w1");
  ASSERT_EQ(got.result(), status::ok);
  const auto w = body_of(got);
  EXPECT_EQ(text(w, "balance"), "12.34");
  EXPECT_EQ(text(w, "held"), "0.00");
  EXPECT_EQ(text(w, "available"), "12.34");
  EXPECT_EQ(text(w, "status"), "active");
  EXPECT_EQ(text(w, "owner"), "alice");
  EXPECT_EQ(w.at("version").as_int64(), 4);
}

TEST_F(api_test, amounts_follow_the_currency_exponent) {
  open("yen", "JPY");
  EXPECT_EQ(post("/v1/wallets/yen/deposits", R"({"amount":"500","currency":"JPY"})", "a").result(),
            status::ok);
  const auto r = post("/v1/wallets/yen/deposits", R"({"amount":"1.5","currency":"JPY"})", "b");
  EXPECT_EQ(r.result(), status::bad_request);
  EXPECT_EQ(fields_of(r),
            (std::vector<std::pair<std::string, std::string>>{{"amount", "too_many_decimals"}}));
  const auto mismatch =
      post("/v1/wallets/yen/deposits", R"({"amount":"1.00","currency":"EUR"})", "c");
  EXPECT_EQ(mismatch.result(), status::unprocessable_entity);
  EXPECT_EQ(text(body_of(mismatch), "code"), "currency_mismatch");
}

TEST_F(api_test, bad_amounts_and_fields_are_400_naming_each_field) {
  open("w1");
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> cases{
      {R"({"amount":"-1","currency":"EUR"})", {"amount", "sign"}},
      {R"({"amount":"0","currency":"EUR"})", {"amount", "not_positive"}},
      {R"({"amount":"0.00","currency":"EUR"})", {"amount", "not_positive"}},
      {R"({"amount":"1.234","currency":"EUR"})", {"amount", "too_many_decimals"}},
      {R"({"amount":"99999999999999999999","currency":"EUR"})", {"amount", "overflow"}},
      {R"({"amount":"10000000000000.01","currency":"EUR"})", {"amount", "too_large"}},
      {R"({"amount":"1e3","currency":"EUR"})", {"amount", "exponent_notation"}},
      {R"({"amount":12.34,"currency":"EUR"})", {"amount", "not_a_string"}},
      {R"({"amount":"1.00","currency":"ABC"})", {"currency", "unknown_currency"}},
      {R"({"amount":"1.00"})", {"currency", "missing"}},
      {R"({"amount":"1.00","currency":"EUR","note":"x"})", {"note", "unknown_field"}},
  };
  int n = 0;
  for (const auto& [body, expected] : cases) {
    const auto r = post("/v1/wallets/w1/deposits", body, "bad-" + std::to_string(n++));
    EXPECT_EQ(r.result(), status::bad_request) << body;
    EXPECT_EQ(text(body_of(r), "code"), "invalid_request") << body;
    const auto f = fields_of(r);
    EXPECT_NE(std::find(f.begin(), f.end(), expected), f.end()) << body << " -> " << r.body();
  }
  EXPECT_EQ(body_of(call(verb::get, "/v1/wallets/w1")).at("version").as_int64(), 1)
      << "nothing reached the engine";
}

TEST_F(api_test, malformed_json_wrong_type_and_missing_keys_are_refused) {
  open("w1");
  const auto malformed = post("/v1/wallets/w1/deposits", R"({"amount":)", "m1");
  EXPECT_EQ(malformed.result(), status::bad_request);
  EXPECT_EQ(text(body_of(malformed), "code"), "malformed_json");
  const auto array = post("/v1/wallets/w1/deposits", "[1,2]", "m2");
  EXPECT_EQ(fields_of(array),
            (std::vector<std::pair<std::string, std::string>>{{"", "not_an_object"}}));
  const auto plain = call(verb::post, "/v1/wallets/w1/deposits", "", "alice",
                          {{"Idempotency-Key", "m3"}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(plain.result(), status::bad_request) << "an empty body is {}: the fields are missing";
  const auto wrong_type =
      call(verb::post, "/v1/wallets/w1/deposits", R"({"amount":"1","currency":"EUR"})", "alice",
           {{"Idempotency-Key", "m4"}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(wrong_type.result(), status::unsupported_media_type);
  const auto charset =
      call(verb::post, "/v1/wallets/w1/deposits", R"({"amount":"1","currency":"EUR"})", "alice",
           {{"Idempotency-Key", "m5"}, {"Content-Type", "Application/JSON; charset=utf-8"}});
  EXPECT_EQ(charset.result(), status::ok);
  for (const auto& [key, problem] : std::vector<std::pair<std::string, std::string>>{
           {"", "missing"}, {"has space", "invalid_id"}, {"sys:credit", "reserved_prefix"}}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    const auto r = call(verb::post, "/v1/wallets/w1/deposits", R"({"amount":"1","currency":"EUR"})",
                        "alice", headers);
    EXPECT_EQ(r.result(), status::bad_request);
    EXPECT_EQ(fields_of(r),
              (std::vector<std::pair<std::string, std::string>>{{"Idempotency-Key", problem}}));
  }
}

TEST_F(api_test, a_repeat_returns_the_original_answer_and_another_body_is_409) {
  open("w1");
  const std::string body = R"({"amount":"5.00","currency":"EUR"})";
  const auto first = post("/v1/wallets/w1/deposits", body, "dep-1");
  const auto again = post("/v1/wallets/w1/deposits", body, "dep-1");
  ASSERT_EQ(first.result(), status::ok);
  EXPECT_EQ(again.result(), first.result());
  EXPECT_EQ(again["Idempotent-Replayed"], "true");
  EXPECT_EQ(first.find("Idempotent-Replayed"), first.end());
  auto a = body_of(first);
  auto b = body_of(again);
  EXPECT_FALSE(a.at("replayed").as_bool());
  EXPECT_TRUE(b.at("replayed").as_bool());
  a.erase("replayed");
  b.erase("replayed");
  EXPECT_EQ(a, b) << "the same body, event included, but for `replayed`";
  EXPECT_TRUE(b.contains("event"));
  const auto conflict =
      post("/v1/wallets/w1/deposits", R"({"amount":"6.00","currency":"EUR"})", "dep-1");
  EXPECT_EQ(conflict.result(), status::conflict);
  EXPECT_EQ(text(body_of(conflict), "code"), "idempotency_conflict");
  EXPECT_EQ(text(body_of(call(verb::get, "/v1/wallets/w1")), "balance"), "5.00");
  // A rejection is remembered too: its repeat is the same 422.
  const auto poor =
      post("/v1/wallets/w1/withdrawals", R"({"amount":"9.00","currency":"EUR"})", "wd");
  const auto poor_again =
      post("/v1/wallets/w1/withdrawals", R"({"amount":"9.00","currency":"EUR"})", "wd");
  EXPECT_EQ(poor.result(), status::unprocessable_entity);
  EXPECT_EQ(text(body_of(poor), "code"), "insufficient_funds");
  EXPECT_EQ(poor_again.result(), status::unprocessable_entity);
  EXPECT_TRUE(body_of(poor_again).at("replayed").as_bool());
}

TEST_F(api_test, business_rejections_map_to_404_409_and_422) {
  const auto missing =
      post("/v1/wallets/nowhere/deposits", R"({"amount":"1","currency":"EUR"})", "x", "svc");
  EXPECT_EQ(missing.result(), status::not_found);
  EXPECT_EQ(text(body_of(missing), "code"), "wallet_not_found");
  const auto missing_read = call(verb::get, "/v1/wallets/nowhere");
  EXPECT_EQ(missing_read.result(), status::not_found);
  open("w1");
  const auto twice = post("/v1/wallets", R"({"wallet_id":"w1","currency":"EUR"})", "other-key");
  EXPECT_EQ(twice.result(), status::conflict);
  EXPECT_EQ(text(body_of(twice), "code"), "wallet_exists");
  EXPECT_EQ(post("/v1/wallets/w1/freeze", R"({"reason":"review"})", "f1", "admin").result(),
            status::ok);
  const auto frozen = post("/v1/wallets/w1/deposits", R"({"amount":"1","currency":"EUR"})", "d");
  EXPECT_EQ(frozen.result(), status::unprocessable_entity);
  EXPECT_EQ(text(body_of(frozen), "code"), "wallet_frozen");
  const auto self =
      post("/v1/wallets/w1/transfers",
           R"({"transfer_id":"t","destination":"w1","amount":"1","currency":"EUR"})", "t", "admin");
  EXPECT_EQ(self.result(), status::unprocessable_entity);
  EXPECT_EQ(post("/v1/wallets/w1/freeze", R"({"reason":""})", "f2", "admin").result(),
            status::bad_request);
}

TEST_F(api_test, authentication_roles_and_ownership) {
  open("alices");
  const auto none = call(verb::get, "/v1/wallets/alices", {}, "");
  EXPECT_EQ(none.result(), status::unauthorized);
  EXPECT_EQ(none[field::www_authenticate], R"(Bearer realm="wallet-engine")");
  const auto expired = call(verb::get, "/v1/wallets/alices", {}, "expired");
  EXPECT_EQ(expired.result(), status::unauthorized);
  EXPECT_NE(expired[field::www_authenticate].find("invalid_token"), std::string::npos);
  EXPECT_NE(body_of(expired).at("detail").as_string().find("expired"), json::string::npos);
  const auto nokeys = call(verb::get, "/v1/wallets/alices", {}, "nokeys");
  EXPECT_EQ(nokeys.result(), status::service_unavailable);
  EXPECT_EQ(nokeys[field::retry_after], "1");
  const auto reader =
      post("/v1/wallets/alices/deposits", R"({"amount":"1","currency":"EUR"})", "r", "reader");
  EXPECT_EQ(reader.result(), status::forbidden);
  EXPECT_EQ(text(body_of(reader), "code"), "forbidden");
  EXPECT_EQ(call(verb::get, "/v1/wallets/alices", {}, "reader").result(), status::ok);
  const auto other = call(verb::get, "/v1/wallets/alices", {}, "bob");
  EXPECT_EQ(other.result(), status::forbidden);
  EXPECT_EQ(text(body_of(other), "code"), "not_wallet_owner");
  EXPECT_EQ(post("/v1/wallets/alices/deposits", R"({"amount":"1","currency":"EUR"})", "b", "bob")
                .result(),
            status::forbidden);
  for (const std::string route : {"events", "outcomes/open-alices", "holds/h", "transfers/t"}) {
    EXPECT_EQ(call(verb::get, "/v1/wallets/alices/" + route, {}, "bob").result(), status::forbidden)
        << route;
  }
  EXPECT_EQ(call(verb::get, "/v1/wallets/alices", {}, "admin").result(), status::ok);
  EXPECT_EQ(post("/v1/wallets/alices/deposits", R"({"amount":"1","currency":"EUR"})", "s", "svc")
                .result(),
            status::ok);
  EXPECT_EQ(post("/v1/wallets/alices/freeze", R"({"reason":"x"})", "fz", "alice").result(),
            status::forbidden);
  EXPECT_EQ(post("/v1/wallets/alices/freeze", R"({"reason":"x"})", "fz", "svc").result(),
            status::forbidden)
      << "service moves money for anyone but cannot freeze";
  EXPECT_EQ(
      post("/v1/wallets", R"({"wallet_id":"x","currency":"EUR","owner":"bob"})", "o1").result(),
      status::forbidden);
  EXPECT_EQ(
      post("/v1/wallets", R"({"wallet_id":"x","currency":"EUR","overdraft_limit":"10"})", "o2")
          .result(),
      status::forbidden);
  EXPECT_EQ(post("/v1/wallets",
                 R"({"wallet_id":"x","currency":"EUR","owner":"bob","overdraft_limit":"10"})", "o3",
                 "svc")
                .result(),
            status::created);
  EXPECT_EQ(body_of(call(verb::get, "/v1/wallets/x", {}, "bob")).at("overdraft_limit").as_string(),
            "10.00");
}

TEST_F(api_test, rate_limits_answer_429_with_headers_per_principal) {
  limiter_.budget = 2;
  open("w1");  // spends alice's first token
  const auto second = call(verb::get, "/v1/wallets/w1");
  EXPECT_EQ(second.result(), status::ok);
  EXPECT_EQ(second["RateLimit-Limit"], "2");
  EXPECT_EQ(second["RateLimit-Remaining"], "0");
  const auto third = call(verb::get, "/v1/wallets/w1");
  EXPECT_EQ(third.result(), status::too_many_requests);
  EXPECT_EQ(third[field::retry_after], "7");
  EXPECT_EQ(third["RateLimit-Reset"], "9");
  EXPECT_EQ(text(body_of(third), "code"), "rate_limited");
  EXPECT_EQ(call(verb::get, "/v1/wallets/w1", {}, "admin").result(), status::ok)
      << "another bucket";
  EXPECT_TRUE(limiter_.spent.contains("alice"));
  EXPECT_EQ(call(verb::get, "/health/live", {}, "").result(), status::ok);
  EXPECT_EQ(address_limiter_.spent["192.0.2.1"], 1) << "open routes spend the address's tokens";
  EXPECT_EQ(call(verb::get, "/v1/wallets/w1", {}, "expired").result(), status::unauthorized);
  EXPECT_EQ(address_limiter_.spent["192.0.2.1"], 2) << "so do failed tokens";
}

TEST_F(api_test, unknown_paths_and_methods) {
  const auto nothing = call(verb::get, "/v2/wallets");
  EXPECT_EQ(nothing.result(), status::not_found);
  EXPECT_EQ(text(body_of(nothing), "code"), "not_found");
  const auto method = call(verb::delete_, "/v1/wallets/w1");
  EXPECT_EQ(method.result(), status::method_not_allowed);
  EXPECT_EQ(method[field::allow], "GET");
  EXPECT_EQ(call(verb::put, "/v1/wallets")[field::allow], "POST, GET");
  EXPECT_EQ(call(verb::get, "/v1/wallets/bad%20id").result(), status::bad_request);
}

TEST_F(api_test, engine_refusals_map_to_503_and_409) {
  open("w1");
  const std::vector<std::tuple<actors::submit_errc, status, std::string>> cases{
      {actors::submit_errc::overloaded, status::service_unavailable, "overloaded"},
      {actors::submit_errc::unavailable, status::service_unavailable, "unavailable"},
      {actors::submit_errc::shutting_down, status::service_unavailable, "shutting_down"},
      {actors::submit_errc::not_owner, status::service_unavailable, "not_owner"},
      {actors::submit_errc::write_refused, status::conflict, "write_refused"},
  };
  for (const auto& [refusal, expected, code] : cases) {
    engine_->refuse = refusal;
    const auto r =
        post("/v1/wallets/w1/deposits", R"({"amount":"1","currency":"EUR"})", "k-" + code);
    EXPECT_EQ(r.result(), expected) << code;
    EXPECT_EQ(text(body_of(r), "code"), code);
    if (expected == status::service_unavailable) {
      EXPECT_EQ(r[field::retry_after], "1") << code;
    }
  }
  engine_->refuse.reset();
  engine_->reads_fail = true;
  const auto read = call(verb::get, "/v1/wallets/w1");
  EXPECT_EQ(read.result(), status::service_unavailable);
  EXPECT_EQ(text(body_of(read), "code"), "unavailable");
}

TEST_F(api_test, feature_disabled_is_503_with_retry_after_and_passes_later_with_the_same_key) {
  open("w1");
  constexpr std::uint16_t eur = 978;
  engine_->flags.currencies[eur] = false;
  const std::string body = R"({"amount":"2","currency":"EUR"})";
  const auto off = post("/v1/wallets/w1/deposits", body, "flagged");
  EXPECT_EQ(off.result(), status::service_unavailable) << off.body();
  EXPECT_EQ(text(body_of(off), "code"), "feature_disabled");
  EXPECT_EQ(off[field::retry_after], "1");
  engine_->flags.currencies[eur] = true;
  const auto on = post("/v1/wallets/w1/deposits", body, "flagged");
  EXPECT_EQ(on.result(), status::ok) << "not remembered: the same key is decided now";
  EXPECT_EQ(text(body_of(on), "balance"), "2.00");
}

TEST_F(api_test, history_pages_by_sequence) {
  open("w1");
  for (int i = 0; i < 4; ++i) deposit("w1", "1", "d" + std::to_string(i));
  const auto first = body_of(call(verb::get, "/v1/wallets/w1/events?limit=2"));
  ASSERT_EQ(first.at("events").as_array().size(), 2U);
  EXPECT_EQ(first.at("events").as_array()[0].at("type").as_string(), "wallet_opened");
  EXPECT_EQ(first.at("next_after").as_int64(), 2);
  const auto second = body_of(call(verb::get, "/v1/wallets/w1/events?after=2&limit=2"));
  EXPECT_EQ(second.at("events").as_array()[0].at("seq").as_int64(), 3);
  EXPECT_EQ(second.at("events").as_array()[0].at("amount").as_string(), "1.00");
  const auto last = body_of(call(verb::get, "/v1/wallets/w1/events?after=4"));
  EXPECT_EQ(last.at("events").as_array().size(), 1U);
  EXPECT_FALSE(last.contains("next_after"));
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> bad{
      {"limit=0", {"limit", "out_of_range"}},     {"limit=51", {"limit", "out_of_range"}},
      {"limit=abc", {"limit", "not_an_integer"}}, {"after=-1", {"after", "not_an_integer"}},
      {"page=2", {"page", "unknown_parameter"}},  {"limit=1&limit=2", {"limit", "repeated"}},
  };
  for (const auto& [query, expected] : bad) {
    const auto r = call(verb::get, "/v1/wallets/w1/events?" + query);
    EXPECT_EQ(r.result(), status::bad_request) << query;
    const auto f = fields_of(r);
    EXPECT_NE(std::find(f.begin(), f.end(), expected), f.end()) << query << ": " << r.body();
  }
}

TEST_F(api_test, lists_the_callers_wallets) {
  open("a1");
  open("a2");
  open("b1", "EUR", "bob");
  const auto mine = body_of(call(verb::get, "/v1/wallets"));
  ASSERT_EQ(mine.at("wallets").as_array().size(), 2U);
  EXPECT_EQ(mine.at("wallets").as_array()[1].at("wallet_id").as_string(), "a2");
  const auto page = body_of(call(verb::get, "/v1/wallets?limit=1"));
  EXPECT_EQ(page.at("next_after").as_string(), "a1");
  const auto next = body_of(call(verb::get, "/v1/wallets?limit=1&after=a1"));
  EXPECT_EQ(next.at("wallets").as_array()[0].at("wallet_id").as_string(), "a2");
  EXPECT_EQ(call(verb::get, "/v1/wallets?owner=bob").result(), status::forbidden);
  const auto bobs = body_of(call(verb::get, "/v1/wallets?owner=bob", {}, "admin"));
  EXPECT_EQ(bobs.at("wallets").as_array().size(), 1U);
}

TEST_F(api_test, transfers_and_their_status) {
  open("src");
  open("dst", "EUR", "bob");
  deposit("src", "10", "d");
  const auto t =
      post("/v1/wallets/src/transfers",
           R"({"transfer_id":"t-1","destination":"dst","amount":"2.50","currency":"EUR"})", "t");
  EXPECT_EQ(t.result(), status::accepted) << t.body();
  EXPECT_EQ(t[field::location], "/v1/wallets/src/transfers/t-1");
  const auto got = body_of(call(verb::get, "/v1/wallets/src/transfers/t-1"));
  EXPECT_EQ(got.at("status").as_string(), "pending");
  EXPECT_EQ(got.at("amount").as_string(), "2.50");
  EXPECT_EQ(got.at("destination").as_string(), "dst");
  const auto missing = call(verb::get, "/v1/wallets/src/transfers/nope");
  EXPECT_EQ(missing.result(), status::not_found);
  EXPECT_EQ(text(body_of(missing), "code"), "transfer_not_found");
}

TEST_F(api_test, holds_place_capture_release_and_read) {
  open("w1");
  deposit("w1", "10", "d");
  const std::string expiry = R"("expires_at":"2030-01-01T00:00:00Z")";
  const auto placed =
      post("/v1/wallets/w1/holds",
           R"({"hold_id":"h1","amount":"4.00","currency":"EUR",)" + expiry + "}", "h1");
  ASSERT_EQ(placed.result(), status::created) << placed.body();
  EXPECT_EQ(placed[field::location], "/v1/wallets/w1/holds/h1");
  EXPECT_EQ(text(body_of(placed), "available"), "6.00");
  EXPECT_EQ(text(body_of(call(verb::get, "/v1/wallets/w1/holds/h1")), "status"), "open");
  const auto twice = post("/v1/wallets/w1/holds/h1/capture", R"({"hold_id":"h1"})", "c0");
  EXPECT_EQ(fields_of(twice),
            (std::vector<std::pair<std::string, std::string>>{{"hold_id", "unknown_field"}}));
  const auto captured =
      post("/v1/wallets/w1/holds/h1/capture", R"({"amount":"1.50","currency":"EUR"})", "c1");
  ASSERT_EQ(captured.result(), status::ok) << captured.body();
  const auto hold = body_of(call(verb::get, "/v1/wallets/w1/holds/h1"));
  EXPECT_EQ(hold.at("status").as_string(), "captured");
  EXPECT_EQ(hold.at("captured").as_string(), "1.50");
  EXPECT_EQ(hold.at("released").as_string(), "2.50");
  EXPECT_EQ(text(body_of(call(verb::get, "/v1/wallets/w1")), "balance"), "8.50");
  const auto gone = post("/v1/wallets/w1/holds/h1/release", "", "r1");
  EXPECT_EQ(gone.result(), status::not_found);
  EXPECT_EQ(text(body_of(gone), "code"), "hold_not_found");
  EXPECT_EQ(call(verb::get, "/v1/wallets/w1/holds/none").result(), status::not_found);
}

TEST_F(api_test, outcomes_by_idempotency_key) {
  open("w1");
  deposit("w1", "3", "dep");
  const auto found = body_of(call(verb::get, "/v1/wallets/w1/outcomes/dep"));
  EXPECT_EQ(found.at("status").as_string(), "accepted");
  EXPECT_TRUE(found.at("replayed").as_bool());
  EXPECT_EQ(found.at("event").at("type").as_string(), "deposited");
  const auto missing = call(verb::get, "/v1/wallets/w1/outcomes/never");
  EXPECT_EQ(missing.result(), status::not_found);
  EXPECT_EQ(text(body_of(missing), "code"), "outcome_not_found");
}

TEST_F(api_test, traceparent_is_continued_into_the_command) {
  open("w1");
  const std::string caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const auto r = call(verb::post, "/v1/wallets/w1/deposits", R"({"amount":"1","currency":"EUR"})",
                      "alice", {{"Idempotency-Key", "tp"}, {"traceparent", caller}});
  ASSERT_EQ(r.result(), status::ok);
  const std::string handed = engine_->contexts.back().trace_parent;
  EXPECT_EQ(handed.substr(0, 36), caller.substr(0, 36)) << "same version and trace id";
  EXPECT_NE(handed.substr(36, 16), caller.substr(36, 16)) << "a span of its own";
  EXPECT_EQ(handed.substr(52), "-01");
  EXPECT_EQ(probe_->records.back().trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  call(verb::post, "/v1/wallets/w1/deposits", R"({"amount":"1","currency":"EUR"})", "alice",
       {{"Idempotency-Key", "tp2"}, {"traceparent", "garbage"}});
  EXPECT_NE(engine_->contexts.back().trace_parent.substr(3, 32), caller.substr(3, 32));
  EXPECT_EQ(engine_->contexts.back().trace_parent.size(), 55U);
}

// The engine's callback only hands the outcome over: the answer is rendered, logged and sent by
// the work given to the connection's runner, not on the engine's thread.
TEST_F(api_test, a_command_is_answered_through_the_connection_runner) {
  open("w1");
  std::vector<std::function<void()>> queued;  // the connection's thread, played by this test
  std::optional<response> answer;
  request req;
  req.message.method(verb::post);
  req.message.target("/v1/wallets/w1/deposits");
  req.message.version(11);
  req.message.set(field::authorization, "Bearer alice");
  req.message.set(field::content_type, "application/json");
  req.message.set("Idempotency-Key", "runner-1");
  req.message.body() = R"({"amount":"2.50","currency":"EUR"})";
  req.received = std::chrono::steady_clock::now();
  const std::size_t logged = probe_->records.size();
  api_->handle(std::move(req),
               responder{[&](response r) { answer = std::move(r); },
                         [&](std::function<void()> work) { queued.push_back(std::move(work)); }});
  EXPECT_FALSE(answer) << "answered on the engine's thread";
  EXPECT_EQ(probe_->records.size(), logged) << "logged on the engine's thread";
  ASSERT_EQ(queued.size(), 1U);
  queued.front()();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result(), status::ok) << answer->body();
  EXPECT_EQ(text(body_of(*answer), "balance"), "2.50");
  ASSERT_EQ(probe_->records.size(), logged + 1);
  EXPECT_EQ(probe_->records.back().status, 200U);
  EXPECT_EQ(probe_->records.back().route, "/v1/wallets/{wallet_id}/deposits");
}

TEST_F(api_test, health_and_metrics) {
  EXPECT_EQ(call(verb::get, "/health/live", {}, "").result(), status::ok);
  const auto ready = call(verb::get, "/health/ready", {}, "");
  EXPECT_EQ(ready.result(), status::ok);
  EXPECT_EQ(body_of(ready).at("checks").at("nats").as_string(), "ok");
  nats_ok_ = false;
  const auto no_nats = call(verb::get, "/health/ready", {}, "");
  EXPECT_EQ(no_nats.result(), status::service_unavailable);
  EXPECT_EQ(text(body_of(no_nats), "detail"), "not ready: nats");
  nats_ok_ = true;
  engine_->schema = 3;
  EXPECT_EQ(text(body_of(call(verb::get, "/health/ready", {}, "")), "detail"),
            "not ready: migrations");
  engine_->reads_fail = true;
  EXPECT_EQ(
      body_of(call(verb::get, "/health/ready", {}, "")).at("checks").at("database").as_string(),
      "failed");
  const auto metrics = call(verb::get, "/metrics", {}, "");
  EXPECT_EQ(metrics.body(), "wallet_test_metric 1\n");
  EXPECT_EQ(metrics[field::content_type], "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(api_test, the_document_lists_exactly_the_routes) {
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : document_.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) documented.emplace(method, path);
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const route& r : api_->routes().routes()) {
    std::string method(boost::beast::http::to_string(r.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    routed.emplace(method, r.pattern);
  }
  EXPECT_EQ(documented, routed);
  EXPECT_EQ(document_.at("openapi").as_string(), "3.1.0");
  // Every problem code the API can answer is one the document's Problem schema mentions.
  const std::string codes(document_.at("components")
                              .at("schemas")
                              .at("Problem")
                              .at("properties")
                              .at("code")
                              .at("description")
                              .as_string());
  for (const auto& k : problem_kinds()) {
    if (engine::rejection_from_code(k.code)) continue;  // "or an engine rejection code"
    EXPECT_NE(codes.find(std::string(k.code)), std::string::npos) << k.code;
  }
  const auto served = call(verb::get, "/v1/openapi.json", {}, "");
  EXPECT_EQ(served.result(), status::ok);
  EXPECT_EQ(json::parse(served.body()), document_);
}

}  // namespace
}  // namespace wallet::http::testing
