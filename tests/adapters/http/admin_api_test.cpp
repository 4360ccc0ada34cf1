// Unit tests of the API's administrative routes over the engine's real wallet aggregates
// (fake_engine) and an in-memory admin port: reasons required and handed to the audit record, who
// may call what, the auditor's parameters, the wallet timeline's merge, profile checks and
// erasure. Every answer is checked against docs/openapi.json like the other API tests.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <future>

#include "fake_engine.hpp"
#include "schema_check.hpp"
#include "wallet/engine/review.hpp"
#include "wallet/http/admin_port.hpp"
#include "wallet/http/api.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::http::testing {
namespace {

namespace json = boost::json;
using field = boost::beast::http::field;
using status = boost::beast::http::status;
using fields = std::vector<std::pair<std::string, std::string>>;

// The admin port in memory: records appended in order, profiles by owner, the last filter asked.
class fake_admin final : public admin_port {
 public:
  std::vector<postgres::audit_row> rows;
  std::map<std::string, postgres::owner_profile> profiles;
  std::optional<postgres::audit_filter> last_filter;
  std::vector<actors::audit_entry> erasures;  // the records erase_profile was given
  std::map<std::string, postgres::review_row> reviews_by_id;
  std::optional<postgres::review_filter> last_review_filter;

  void reviews(postgres::review_filter f,
               read_callback<std::vector<postgres::review_row>> done) override {
    last_review_filter = f;
    std::vector<postgres::review_row> page;
    for (const auto& [id, r] : reviews_by_id) {
      if ((f.status.empty() || r.status == f.status) && id > f.after && page.size() < f.limit) {
        page.push_back(r);
      }
    }
    done(page);
  }
  void review(std::string id, read_callback<std::optional<postgres::review_row>> done) override {
    const auto it = reviews_by_id.find(id);
    done(it == reviews_by_id.end() ? std::nullopt : std::optional{it->second});
  }

  void audit(postgres::audit_filter f,
             read_callback<std::vector<postgres::audit_row>> done) override {
    last_filter = f;
    std::vector<postgres::audit_row> page;
    for (const auto& r : rows) {
      if (r.id > f.after_id && (f.target.empty() || r.target == f.target) &&
          (f.principal.empty() || r.principal == f.principal) && page.size() < f.limit) {
        page.push_back(r);
      }
    }
    done(page);
  }
  void append_audit(actors::audit_entry e, read_callback<std::int64_t> done) override {
    done(add(e, {}));
  }
  void put_profile(postgres::owner_profile p, actors::audit_entry e,
                   read_callback<postgres::owner_profile> done) override {
    p.created_at = p.updated_at = engine::timestamp{std::chrono::seconds{1'800'000'000}};
    e.action = profiles.contains(p.owner_id) ? "profile_updated" : "profile_created";
    add(e, {});
    profiles[p.owner_id] = p;
    done(p);
  }
  void profile(std::string owner,
               read_callback<std::optional<postgres::owner_profile>> done) override {
    const auto it = profiles.find(owner);
    done(it == profiles.end() ? std::nullopt : std::optional{it->second});
  }
  void erase_profile(std::string owner, actors::audit_entry e,
                     read_callback<postgres::erasure> done) override {
    const bool existed = profiles.erase(owner) > 0;
    erasures.push_back(e);
    done(postgres::erasure{existed, add(e, {})});
  }

  std::int64_t add(const actors::audit_entry& e, std::string details,
                   engine::timestamp at = engine::timestamp{}) {
    postgres::audit_row r{static_cast<std::int64_t>(rows.size()) + 1,
                          at,
                          e.principal,
                          e.action,
                          e.target,
                          e.reason,
                          e.trace_id,
                          details.empty() ? "{}" : std::move(details)};
    rows.push_back(r);
    return r.id;
  }
};

// An admin port whose database is down: every call fails as unavailable.
class failing_admin final : public admin_port {
 public:
  void audit(postgres::audit_filter /*f*/,
             read_callback<std::vector<postgres::audit_row>> done) override {
    done(down());
  }
  void append_audit(actors::audit_entry /*e*/, read_callback<std::int64_t> done) override {
    done(down());
  }
  void put_profile(postgres::owner_profile /*p*/, actors::audit_entry /*e*/,
                   read_callback<postgres::owner_profile> done) override {
    done(down());
  }
  void profile(std::string /*owner*/,
               read_callback<std::optional<postgres::owner_profile>> done) override {
    done(down());
  }
  void erase_profile(std::string /*owner*/, actors::audit_entry /*e*/,
                     read_callback<postgres::erasure> done) override {
    done(down());
  }
  void reviews(postgres::review_filter /*f*/,
               read_callback<std::vector<postgres::review_row>> done) override {
    done(down());
  }
  void review(std::string /*id*/,
              read_callback<std::optional<postgres::review_row>> done) override {
    done(down());
  }

 private:
  static read_error down() { return read_error{read_errc::unavailable, "down"}; }
};

constexpr std::uint8_t bits(std::initializer_list<auth::role> roles) {
  std::uint8_t out = 0;
  for (auto r : roles) out = static_cast<std::uint8_t>(out | static_cast<std::uint8_t>(r));
  return out;
}

// The pending review row of 600 EUR cents on w1 that the store would hold for `id`.
postgres::review_row pending_review(const std::string& id, const std::string& command,
                                    const std::string& key, const std::string& reasons) {
  postgres::review_row row;
  row.review_id = id;
  row.wallet_id = "w1";
  row.hold_id = engine::review_hold_id(id);
  row.command = command;
  row.idempotency_key = key;
  row.amount = 600;
  row.currency = "EUR";
  row.reasons = reasons;
  row.status = "pending";
  return row;
}

class admin_api_test : public ::testing::Test {
 protected:
  admin_api_test() : document_(json::parse(api::openapi_document())), schemas_(document_) {
    using auth::role;
    authn_.tokens["alice"] = {"alice", bits({role::read, role::write})};
    authn_.tokens["admin"] = {"ops", bits({role::admin})};
    authn_.tokens["svc"] = {"billing", bits({role::read, role::write, role::service})};
    make_api(admin_);
  }

  void make_api(std::shared_ptr<admin_port> admin) {
    api_ports ports;
    ports.submit = engine_->submitter();
    ports.submit_review = engine_->submitter();
    ports.flags = [this] { return flags_; };
    ports.set_flags = [this](std::shared_ptr<const engine::feature_flags> f) {
      flags_ = std::move(f);
    };
    ports.reads = engine_;
    ports.admin = std::move(admin);
    ports.authenticator = &authn_;
    ports.metrics_text = [] { return std::string{}; };
    api_settings s;
    s.page_limit_max = 50;
    api_ = std::make_unique<api>(s, ports);
  }

  response call(verb method, const std::string& target, std::string body = {},
                const std::string& token = "admin", const std::string& key = {}) {
    request req;
    req.message.method(method);
    req.message.target(target);
    req.message.version(11);
    if (!token.empty()) req.message.set(field::authorization, "Bearer " + token);
    if (!body.empty()) req.message.set(field::content_type, "application/json");
    if (!key.empty()) req.message.set("Idempotency-Key", key);
    req.message.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    req.message.body() = std::move(body);
    req.remote_address = "192.0.2.1";
    req.received = std::chrono::steady_clock::now();
    std::promise<response> answer;
    api_->handle(std::move(req), responder{[&](response r) { answer.set_value(std::move(r)); }});
    auto future = answer.get_future();
    EXPECT_EQ(future.wait_for(std::chrono::seconds{5}), std::future_status::ready);
    response r = future.get();
    conforms(method, target, r);
    return r;
  }

  // The answer against the document entry of the route the target names.
  void conforms(verb method, const std::string& target, const response& r) {
    const std::string path = target.substr(0, target.find('?'));
    std::vector<std::string> segments;
    for (std::size_t at = 1; at <= path.size();) {
      const std::size_t end = std::min(path.find('/', at), path.size());
      segments.push_back(path.substr(at, end - at));
      at = end + 1;
    }
    const auto m = api_->routes().find(method, segments);
    ASSERT_EQ(m.what, route_match::kind::found) << target;
    const std::string& pattern = api_->routes().routes()[m.route].pattern;
    const auto type = std::string(r[field::content_type]);
    std::string name(boost::beast::http::to_string(method));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json::value* schema =
        schemas_.response_schema(pattern, name, r.result_int(), type.substr(0, type.find(';')));
    ASSERT_NE(schema, nullptr) << name << " " << pattern << " answered " << r.result_int()
                               << ", which docs/openapi.json does not list";
    const auto problems = schemas_.check(json::parse(r.body()), *schema);
    EXPECT_TRUE(problems.empty()) << pattern << ": " << r.body() << "\n  "
                                  << (problems.empty() ? "" : problems.front());
  }

  static json::object body_of(const response& r) { return json::parse(r.body()).as_object(); }
  static fields fields_of(const response& r) {
    fields out;
    const json::object body = body_of(r);  // kept: the loop reads into it
    for (const auto& p : body.at("fields").as_array()) {
      out.emplace_back(p.at("field").as_string(), p.at("problem").as_string());
    }
    return out;
  }
  void open(const std::string& id) {
    const auto r = call(verb::post, "/v1/wallets",
                        R"({"wallet_id":")" + id + R"(","owner":"o-1","currency":"EUR"})", "admin",
                        "open-" + id);
    ASSERT_EQ(r.result(), status::created) << r.body();
  }

  json::value document_;
  schema_check schemas_;
  std::shared_ptr<fake_engine> engine_ = std::make_shared<fake_engine>();
  std::shared_ptr<fake_admin> admin_ = std::make_shared<fake_admin>();
  fake_authenticator authn_;
  std::unique_ptr<api> api_;
  std::shared_ptr<const engine::feature_flags> flags_ = std::make_shared<engine::feature_flags>();
};

TEST_F(admin_api_test, administrative_commands_need_a_reason_before_anything_is_submitted) {
  open("w1");
  const std::size_t submitted = engine_->contexts.size();
  const std::vector<std::pair<std::string, fields>> cases{
      {"{}", {{"reason", "missing"}}},
      {R"({"reason":""})", {{"reason", "invalid_length"}}},
      {R"({"reason":7})", {{"reason", "not_a_string"}}},
      {R"({"reason":"a\u0007b"})", {{"reason", "invalid_text"}}},
      {R"({"reason":")" + std::string(257, 'r') + R"("})", {{"reason", "invalid_length"}}},
  };
  for (const std::string route : {"freeze", "unfreeze", "close"}) {
    for (const auto& [body, expected] : cases) {
      const auto r = call(verb::post, "/v1/wallets/w1/" + route, body, "admin", "k-" + route);
      EXPECT_EQ(r.result(), status::bad_request) << route << " " << body;
      EXPECT_EQ(fields_of(r), expected) << route << " " << body;
    }
  }
  const auto kyc = call(verb::post, "/v1/wallets/w1/kyc", R"({"level":"basic"})", "admin", "k");
  EXPECT_EQ(kyc.result(), status::bad_request);
  EXPECT_EQ(fields_of(kyc), (fields{{"reason", "missing"}}));
  EXPECT_EQ(engine_->contexts.size(), submitted) << "a refused request reaches no wallet";
}

TEST_F(admin_api_test, the_principal_and_the_reason_travel_to_the_audit_record) {
  open("w1");
  ASSERT_EQ(call(verb::post, "/v1/wallets/w1/freeze", R"({"reason":"fraud review"})", "admin", "f")
                .result(),
            status::ok);
  ASSERT_TRUE(engine_->contexts.back().audit.has_value());
  EXPECT_EQ(engine_->contexts.back().audit->principal, "ops");
  EXPECT_EQ(engine_->contexts.back().audit->reason, "fraud review");
  EXPECT_EQ(actors::trace_id_of(engine_->contexts.back().trace_parent),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_EQ(
      call(verb::post, "/v1/wallets/w1/unfreeze", R"({"reason":"cleared"})", "admin", "u").result(),
      status::ok);
  // close_wallet has no reason field: the reason goes to the audit record only.
  const auto closed =
      call(verb::post, "/v1/wallets/w1/close", R"({"reason":"owner left"})", "admin", "c");
  ASSERT_EQ(closed.result(), status::ok) << closed.body();
  EXPECT_EQ(engine_->contexts.back().audit->reason, "owner left");
  EXPECT_FALSE(engine_->contexts[0].audit.has_value()) << "open_wallet is not administrative";
}

TEST_F(admin_api_test, the_kyc_level_is_for_admins_and_services_only) {
  open("w1");
  EXPECT_EQ(
      call(verb::post, "/v1/wallets/w1/kyc", R"({"level":"full","reason":"x"})", "alice", "k1")
          .result(),
      status::forbidden);
  const auto set = call(verb::post, "/v1/wallets/w1/kyc", R"({"level":"full","reason":"passport"})",
                        "svc", "k2");
  ASSERT_EQ(set.result(), status::ok) << set.body();
  EXPECT_EQ(engine_->contexts.back().audit->principal, "billing");
  EXPECT_EQ(body_of(set).at("event").at("level").as_string(), "full");
}

TEST_F(admin_api_test, the_audit_trail_is_for_admins_and_checks_its_parameters) {
  EXPECT_EQ(call(verb::get, "/v1/admin/audit", {}, "alice").result(), status::forbidden);
  EXPECT_EQ(call(verb::get, "/v1/admin/audit", {}, "svc").result(), status::forbidden);
  EXPECT_EQ(call(verb::get, "/v1/admin/audit", {}, "").result(), status::unauthorized);
  const auto bad = call(verb::get, "/v1/admin/audit?limit=51&from=today&after=-1&x=1");
  EXPECT_EQ(bad.result(), status::bad_request);
  EXPECT_EQ(fields_of(bad), (fields{{"x", "unknown_parameter"}}));
  const auto bad_values = call(verb::get, "/v1/admin/audit?limit=51&from=today&after=-1");
  EXPECT_EQ(
      fields_of(bad_values),
      (fields{{"from", "not_rfc3339"}, {"after", "not_an_integer"}, {"limit", "out_of_range"}}));
  EXPECT_FALSE(admin_->last_filter.has_value()) << "nothing asked of the database";

  for (int i = 0; i < 3; ++i) {
    admin_->add({"ops", "freeze", "w" + std::to_string(i), "r", "", {}}, {});
  }
  const auto page = call(verb::get,
                         "/v1/admin/audit?principal=ops&action=freeze&target=w1&limit=2&after=0&"
                         "from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z");
  ASSERT_EQ(page.result(), status::ok) << page.body();
  ASSERT_TRUE(admin_->last_filter.has_value());
  EXPECT_EQ(admin_->last_filter->principal, "ops");
  EXPECT_EQ(admin_->last_filter->action, "freeze");
  EXPECT_EQ(admin_->last_filter->target, "w1");
  EXPECT_EQ(admin_->last_filter->limit, 2U);
  EXPECT_EQ(nats::format_rfc3339(*admin_->last_filter->from), "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(nats::format_rfc3339(*admin_->last_filter->to), "2027-01-01T00:00:00.000000Z");
  const auto full = call(verb::get, "/v1/admin/audit?limit=2");
  EXPECT_EQ(body_of(full).at("entries").as_array().size(), 2U);
  EXPECT_EQ(body_of(full).at("next_after").as_int64(), 2);
  const auto last = call(verb::get, "/v1/admin/audit?limit=2&after=2");
  EXPECT_EQ(body_of(last).at("entries").as_array().size(), 1U);
  EXPECT_FALSE(body_of(last).contains("next_after")) << "a page that is not full is the last";
}

TEST_F(admin_api_test, a_wallets_timeline_puts_each_record_before_the_event_it_committed_with) {
  open("w1");
  ASSERT_EQ(call(verb::post, "/v1/wallets/w1/freeze", R"({"reason":"r1"})", "admin", "f").result(),
            status::ok);
  // Stamped by the database after the engine stamped the event (another clock, a bit later),
  // naming the event's seq; then a refusal without an event, later still.
  const engine::timestamp later = engine_->now + std::chrono::seconds{5};
  admin_->add({"ops", "freeze", "w1", "r1", "", {}}, R"({"outcome":"applied","seq":"2"})", later);
  admin_->add({"ops", "freeze", "w1", "r2", "", {}}, R"({"outcome":"rejected"})", later);
  const auto r = call(verb::get, "/v1/admin/audit/wallets/w1");
  ASSERT_EQ(r.result(), status::ok) << r.body();
  std::vector<std::string> order;
  const json::object timeline = body_of(r);
  for (const auto& e : timeline.at("entries").as_array()) {
    const auto& o = e.as_object();
    order.emplace_back(std::string(o.at("kind").as_string()) + ":" +
                       std::string(o.contains("reason") ? o.at("reason").as_string()
                                                        : o.at("event").at("type").as_string()));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"event:wallet_opened", "audit:r1",
                                             "event:wallet_frozen", "audit:r2"}));
  const auto first = call(verb::get, "/v1/admin/audit/wallets/w1?limit=2");
  EXPECT_TRUE(body_of(first).at("more").as_bool());
  EXPECT_EQ(body_of(first).at("next_after_audit").as_int64(), 1);
  EXPECT_EQ(body_of(first).at("next_after_seq").as_int64(), 1);
  const auto unknown = call(verb::get, "/v1/admin/audit/wallets/never-opened");
  ASSERT_EQ(unknown.result(), status::ok);
  EXPECT_TRUE(body_of(unknown).at("entries").as_array().empty());
}

TEST_F(admin_api_test, profiles_are_checked_before_the_database_sees_them) {
  const std::vector<std::pair<std::string, fields>> cases{
      {R"({"display_name":"Ada","reason":"r"})", {{"email", "missing"}}},
      {R"({"display_name":"","email":"a@b.c","reason":"r"})", {{"display_name", "invalid_length"}}},
      {R"({"display_name":"A\nB","email":"a@b.c","reason":"r"})",
       {{"display_name", "control_character"}}},
      {R"({"display_name":"Ada","email":"a.b.c","reason":"r"})", {{"email", "not_an_address"}}},
      {R"({"display_name":"Ada","email":"a@b@c","reason":"r"})", {{"email", "not_an_address"}}},
      {R"({"display_name":"Ada","email":"a@b.c","phone":"1","reason":"r"})",
       {{"phone", "unknown_field"}}},
      {R"({"display_name":"Ada","email":"a@b.c"})", {{"reason", "missing"}}},
      {R"({"display_name":"Ada","email":"a@b.c","reason":""})", {{"reason", "invalid_length"}}},
  };
  for (const auto& [body, expected] : cases) {
    const auto r = call(verb::put, "/v1/admin/owners/o-1/profile", body);
    EXPECT_EQ(r.result(), status::bad_request) << body;
    EXPECT_EQ(fields_of(r), expected) << body;
  }
  EXPECT_TRUE(admin_->profiles.empty());
  EXPECT_EQ(call(verb::put, "/v1/admin/owners/o-1/profile",
                 R"({"display_name":"Ada","email":"ada@example.test"})", "alice")
                .result(),
            status::forbidden);
  EXPECT_EQ(call(verb::put, "/v1/admin/owners/bad%21id/profile",
                 R"({"display_name":"Ada","email":"ada@example.test"})")
                .result(),
            status::bad_request);
  EXPECT_TRUE(admin_->rows.empty()) << "a refused profile write was audited";
  const auto put =
      call(verb::put, "/v1/admin/owners/o-1/profile",
           R"({"display_name":"Ada","email":"ada@example.test","reason":"onboarding"})", "svc");
  ASSERT_EQ(put.result(), status::ok) << put.body();
  EXPECT_EQ(body_of(call(verb::get, "/v1/admin/owners/o-1/profile")).at("email").as_string(),
            "ada@example.test");
  const auto update = call(verb::put, "/v1/admin/owners/o-1/profile?reason=address%20change",
                           R"({"display_name":"Ada L.","email":"ada@example.test"})");
  ASSERT_EQ(update.result(), status::ok) << update.body();
  // Each write is audited by owner id, principal and reason; never the personal fields.
  ASSERT_EQ(admin_->rows.size(), 2U);
  EXPECT_EQ(admin_->rows[0].action, "profile_created");
  EXPECT_EQ(admin_->rows[0].principal, "billing");
  EXPECT_EQ(admin_->rows[0].target, "o-1");
  EXPECT_EQ(admin_->rows[0].reason, "onboarding");
  EXPECT_EQ(admin_->rows[1].action, "profile_updated");
  EXPECT_EQ(admin_->rows[1].reason, "address change");
  for (const auto& row : admin_->rows) {
    EXPECT_EQ(row.details.find("Ada"), std::string::npos);
    EXPECT_EQ(row.reason.find("example.test"), std::string::npos);
  }
}

TEST_F(admin_api_test, erasure_needs_a_reason_and_its_record_holds_no_personal_data) {
  admin_->profiles["o-1"] = {"o-1", "Ada Lovelace", "ada@example.test", {}, {}};
  const auto missing = call(verb::delete_, "/v1/admin/owners/o-1/profile");
  EXPECT_EQ(fields_of(missing), (fields{{"reason", "missing"}}));
  EXPECT_EQ(
      call(verb::delete_, "/v1/admin/owners/o-1/profile", R"({"reason":"x"})", "alice").result(),
      status::forbidden);
  ASSERT_EQ(admin_->profiles.size(), 1U);
  const auto erased =
      call(verb::delete_, "/v1/admin/owners/o-1/profile", R"({"reason":"art. 17 request"})");
  ASSERT_EQ(erased.result(), status::ok) << erased.body();
  EXPECT_TRUE(body_of(erased).at("erased").as_bool());
  EXPECT_TRUE(admin_->profiles.empty());
  ASSERT_EQ(admin_->erasures.size(), 1U);
  const actors::audit_entry& e = admin_->erasures[0];
  EXPECT_EQ(e.principal, "ops");
  EXPECT_EQ(e.action, "profile_erased");
  EXPECT_EQ(e.target, "o-1");
  EXPECT_EQ(e.reason, "art. 17 request");
  EXPECT_EQ(e.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  for (const auto& [k, v] : e.details) {
    EXPECT_EQ(v.find("Ada"), std::string::npos) << k;
    EXPECT_EQ(v.find("example.test"), std::string::npos) << k;
  }
  const auto again = call(verb::delete_, "/v1/admin/owners/o-1/profile?reason=again");
  ASSERT_EQ(again.result(), status::ok);
  EXPECT_FALSE(body_of(again).at("erased").as_bool());
  EXPECT_EQ(call(verb::get, "/v1/admin/owners/o-1/profile").result(), status::not_found);
}

TEST_F(admin_api_test, without_an_admin_store_the_admin_reads_are_unavailable) {
  make_api(nullptr);
  const auto r = call(verb::get, "/v1/admin/audit");
  EXPECT_EQ(r.result(), status::service_unavailable);
  EXPECT_EQ(call(verb::get, "/v1/admin/owners/o-1/profile").result(), status::service_unavailable);
}

// AML reviews (ADR 0009): the withdrawal's outcome says pending_review with its review id; the
// reviewer's list checks its parameters; a decision needs a reason, runs under the review's
// decision key with the admin as principal, and a review is decided once.
TEST_F(admin_api_test, an_aml_review_is_listed_and_decided_once_with_a_reason) {
  open("w1");
  ASSERT_EQ(call(verb::post, "/v1/wallets/w1/deposits", R"({"amount":"10.00","currency":"EUR"})",
                 "admin", "dep-1")
                .result(),
            status::ok);
  const engine::command wd{
      "w1", "wd-1", engine::withdraw{engine::money{600, *engine::currency::from_code("EUR")}}};
  const auto held = engine_->hold_for_review(wd, engine_->now + std::chrono::hours{1});
  ASSERT_TRUE(held.accepted());
  const std::string id = engine::review_id_of("w1", "wd-1");

  // The outcome lookup by the withdrawal's key shows the review.
  const auto outcome = call(verb::get, "/v1/wallets/w1/outcomes/wd-1");
  ASSERT_EQ(outcome.result(), status::ok) << outcome.body();
  EXPECT_EQ(body_of(outcome).at("status").as_string(), "pending_review");
  EXPECT_EQ(body_of(outcome).at("review_id").as_string(), id);

  admin_->reviews_by_id[id] = pending_review(id, "withdraw", "wd-1", "amount,velocity_count");

  const auto list = call(verb::get, "/v1/admin/aml/reviews?status=pending&limit=1");
  ASSERT_EQ(list.result(), status::ok) << list.body();
  const json::object page = body_of(list);  // kept: `items` refers into it
  const auto& items = page.at("reviews").as_array();
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].at("amount").as_string(), "6.00");
  EXPECT_EQ(items[0].at("reasons").as_array().size(), 2U);
  EXPECT_EQ(page.at("next_after").as_string(), id);
  const auto unknown_parameter = call(verb::get, "/v1/admin/aml/reviews?page=2");
  ASSERT_EQ(unknown_parameter.result(), status::bad_request);
  EXPECT_EQ(fields_of(unknown_parameter), (fields{{"page", "unknown_parameter"}}));
  const auto bad_values = call(verb::get, "/v1/admin/aml/reviews?status=open&after=x&limit=0");
  ASSERT_EQ(bad_values.result(), status::bad_request);
  EXPECT_EQ(
      fields_of(bad_values),
      (fields{{"status", "unknown_status"}, {"after", "invalid_id"}, {"limit", "out_of_range"}}));
  EXPECT_EQ(call(verb::get, "/v1/admin/aml/reviews", {}, "alice").result(), status::forbidden);
  EXPECT_EQ(call(verb::get, "/v1/admin/aml/reviews/" + id).result(), status::ok);
  EXPECT_EQ(call(verb::get, "/v1/admin/aml/reviews/0000000000000000").result(), status::not_found);
  EXPECT_EQ(call(verb::get, "/v1/admin/aml/reviews/ZZ").result(), status::bad_request);

  const std::string decide = "/v1/admin/aml/reviews/" + id + "/decision";
  const std::size_t submitted = engine_->contexts.size();
  const auto no_reason = call(verb::post, decide, R"({"decision":"approve"})");
  ASSERT_EQ(no_reason.result(), status::bad_request);
  EXPECT_EQ(fields_of(no_reason), (fields{{"reason", "missing"}}));
  const auto unknown = call(verb::post, decide, R"({"decision":"maybe","reason":"r","x":1})");
  EXPECT_EQ(fields_of(unknown), (fields{{"x", "unknown_field"}, {"decision", "unknown_decision"}}));
  EXPECT_EQ(call(verb::post, decide, R"({"decision":"approve","reason":"r"})", "alice").result(),
            status::forbidden);
  EXPECT_EQ(engine_->contexts.size(), submitted) << "a refused request reached the engine";

  const auto approved = call(verb::post, decide, R"({"decision":"approve","reason":"checked"})");
  ASSERT_EQ(approved.result(), status::ok) << approved.body();
  EXPECT_EQ(body_of(approved).at("status").as_string(), "approved");
  EXPECT_EQ(body_of(approved).at("event").at("type").as_string(), "hold_captured");
  ASSERT_TRUE(engine_->contexts.back().audit);
  EXPECT_EQ(engine_->contexts.back().audit->principal, "ops");
  EXPECT_EQ(engine_->contexts.back().audit->reason, "checked");
  // The same decision again is a replay; the other one is refused: a review is decided once.
  const auto again = call(verb::post, decide, R"({"decision":"approve","reason":"checked"})");
  ASSERT_EQ(again.result(), status::ok) << again.body();
  EXPECT_TRUE(body_of(again).at("replayed").as_bool());
  const auto other = call(verb::post, decide, R"({"decision":"reject","reason":"no"})");
  EXPECT_EQ(other.result(), status::conflict) << other.body();
  EXPECT_EQ(body_of(other).at("code").as_string(), "review_decided");
  // Once the row says so, the answer comes without asking the engine.
  admin_->reviews_by_id[id].status = "approved";
  const std::size_t before = engine_->contexts.size();
  const auto closed = call(verb::post, decide, R"({"decision":"reject","reason":"no"})");
  EXPECT_EQ(closed.result(), status::conflict);
  EXPECT_EQ(body_of(closed).at("review_status").as_string(), "approved");
  EXPECT_EQ(engine_->contexts.size(), before);
  // The same decision on the closed row goes to the wallet, whose decision key replays it.
  const auto same = call(verb::post, decide, R"({"decision":"approve","reason":"checked"})");
  ASSERT_EQ(same.result(), status::ok) << same.body();
  EXPECT_TRUE(body_of(same).at("replayed").as_bool());
  EXPECT_EQ(engine_->contexts.size(), before + 1);
}

// A transfer under review (ADR 0009): its review names the transfer; approve debits it from the
// review's hold (one transfer_debited event naming the hold); a row no engine wrote is a 500.
TEST_F(admin_api_test, an_approved_transfer_under_review_is_debited_from_its_hold) {
  open("w1");
  ASSERT_EQ(call(verb::post, "/v1/wallets/w1/deposits", R"({"amount":"10.00","currency":"EUR"})",
                 "admin", "dep-1")
                .result(),
            status::ok);
  const engine::money amount{600, *engine::currency::from_code("EUR")};
  const engine::command tr{"w1", "tr-1", engine::transfer_debit{"t-1", "w2", amount}};
  ASSERT_TRUE(engine_->hold_for_review(tr, engine_->now + std::chrono::hours{1}).accepted());
  const std::string id = engine::review_id_of("w1", "tr-1");
  const auto outcome = call(verb::get, "/v1/wallets/w1/outcomes/tr-1");
  EXPECT_EQ(body_of(outcome).at("status").as_string(), "pending_review");

  postgres::review_row row = pending_review(id, "transfer_debit", "tr-1", "amount");
  row.transfer_id = "t-1";
  row.destination = "w2";
  admin_->reviews_by_id[id] = row;
  const auto shown = call(verb::get, "/v1/admin/aml/reviews/" + id);
  EXPECT_EQ(body_of(shown).at("transfer_id").as_string(), "t-1");
  EXPECT_EQ(body_of(shown).at("destination").as_string(), "w2");

  const std::string decide = "/v1/admin/aml/reviews/" + id + "/decision";
  const auto approved = call(verb::post, decide, R"({"decision":"approve","reason":"checked"})");
  ASSERT_EQ(approved.result(), status::ok) << approved.body();
  const auto body = body_of(approved);
  EXPECT_EQ(body.at("status").as_string(), "approved");
  EXPECT_EQ(body.at("transfer_id").as_string(), "t-1");
  EXPECT_EQ(body.at("event").at("type").as_string(), "transfer_debited");
  EXPECT_EQ(body.at("event").at("hold_id").as_string(), engine::review_hold_id(id));
  EXPECT_EQ(body.at("event").at("held_delta").as_string(), "-6.00");
  const auto transfer = call(verb::get, "/v1/wallets/w1/transfers/t-1");
  ASSERT_EQ(transfer.result(), status::ok) << transfer.body();
  EXPECT_EQ(body_of(transfer).at("destination").as_string(), "w2");
  const auto wallet = call(verb::get, "/v1/wallets/w1");
  EXPECT_EQ(body_of(wallet).at("balance").as_string(), "4.00");
  EXPECT_EQ(body_of(wallet).at("held").as_string(), "0.00");

  admin_->reviews_by_id[id].status = "pending";
  admin_->reviews_by_id[id].command = "capture_everything";
  const auto unknown = call(verb::post, decide, R"({"decision":"approve","reason":"checked"})");
  EXPECT_EQ(unknown.result(), status::internal_server_error) << unknown.body();
}

// Flags at run time: read as the flags file's object; replaced whole with a reason, parsed by the
// file's rules; audited before they are in force, and not in force when the record fails.
TEST_F(admin_api_test, flags_are_read_and_replaced_with_a_reason_and_audited_first) {
  const auto read = call(verb::get, "/v1/admin/flags");
  ASSERT_EQ(read.result(), status::ok) << read.body();
  EXPECT_TRUE(body_of(read).at("flags").at("accept_new_wallets").as_bool());
  EXPECT_EQ(call(verb::get, "/v1/admin/flags", {}, "alice").result(), status::forbidden);

  const auto no_reason = call(verb::put, "/v1/admin/flags", R"({"flags":{}})");
  EXPECT_EQ(fields_of(no_reason), (fields{{"reason", "missing"}}));
  const auto bad =
      call(verb::put, "/v1/admin/flags", R"({"flags":{"currency.EUR":"no"},"reason":"r","x":1})");
  ASSERT_EQ(bad.result(), status::bad_request);
  EXPECT_EQ(fields_of(bad), (fields{{"x", "unknown_field"}, {"flags", "invalid"}}));
  EXPECT_NE(body_of(bad).at("detail").as_string().find("currency.EUR"), std::string::npos)
      << bad.body();
  EXPECT_EQ(fields_of(call(verb::put, "/v1/admin/flags", R"({"flags":[],"reason":"r"})")),
            (fields{{"flags", "not_an_object"}}));
  EXPECT_TRUE(admin_->rows.empty());
  EXPECT_TRUE(flags_->accept_new_wallets);

  const auto put = call(verb::put, "/v1/admin/flags",
                        R"({"flags":{"accept_new_wallets":false},"reason":"incident 12"})");
  ASSERT_EQ(put.result(), status::ok) << put.body();
  EXPECT_FALSE(body_of(put).at("flags").at("accept_new_wallets").as_bool());
  EXPECT_FALSE(flags_->accept_new_wallets);
  ASSERT_EQ(admin_->rows.size(), 1U);
  EXPECT_EQ(admin_->rows[0].action, "flags_changed");
  EXPECT_EQ(admin_->rows[0].principal, "ops");
  EXPECT_EQ(admin_->rows[0].reason, "incident 12");
  EXPECT_EQ(body_of(put).at("audit_id").as_int64(), admin_->rows[0].id);

  // Without the record (the database is down), nothing changes.
  make_api(std::make_shared<failing_admin>());
  const auto down = call(verb::put, "/v1/admin/flags",
                         R"({"flags":{"accept_new_wallets":true},"reason":"back"})");
  EXPECT_EQ(down.result(), status::service_unavailable);
  EXPECT_FALSE(flags_->accept_new_wallets);
}

}  // namespace
}  // namespace wallet::http::testing
