// Unit tests of the router, trace context parsing and the problem mapping.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "wallet/http/problem.hpp"
#include "wallet/http/router.hpp"
#include "wallet/http/trace.hpp"

namespace wallet::http {
namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST(router, finds_routes_with_parameters_and_prefers_literals) {
  router r;
  const auto wallet = r.add(verb::get, "/v1/wallets/{wallet_id}");
  const auto hold = r.add(verb::get, "/v1/wallets/{wallet_id}/holds/{hold_id}");
  const auto capture = r.add(verb::post, "/v1/wallets/{wallet_id}/holds/{hold_id}/capture");
  const auto literal = r.add(verb::get, "/v1/wallets/special");
  const auto list = r.add(verb::post, "/v1/wallets");

  auto m = r.find(verb::get, split("/v1/wallets/w-1"));
  ASSERT_EQ(m.what, route_match::kind::found);
  EXPECT_EQ(m.route, wallet);
  EXPECT_EQ(m.params.at("wallet_id"), "w-1");

  m = r.find(verb::get, split("/v1/wallets/a/holds/h:7"));
  EXPECT_EQ(m.route, hold);
  EXPECT_EQ(m.params.at("hold_id"), "h:7");
  EXPECT_EQ(r.find(verb::post, split("/v1/wallets/a/holds/h/capture")).route, capture);
  EXPECT_EQ(r.find(verb::get, split("/v1/wallets/special")).route, literal);
  EXPECT_EQ(r.find(verb::post, split("/v1/wallets")).route, list);
}

TEST(router, tells_unknown_paths_from_unknown_methods) {
  router r;
  r.add(verb::get, "/v1/wallets/{wallet_id}");
  r.add(verb::post, "/v1/wallets/{wallet_id}");
  EXPECT_EQ(r.find(verb::get, split("/v1/other/x")).what, route_match::kind::no_path);
  EXPECT_EQ(r.find(verb::get, split("/v1/wallets/a/b")).what, route_match::kind::no_path);
  EXPECT_EQ(r.find(verb::get, split("/v1/wallets/")).what, route_match::kind::no_path)
      << "an empty segment is no wallet id";
  const auto m = r.find(verb::delete_, split("/v1/wallets/a"));
  EXPECT_EQ(m.what, route_match::kind::no_method);
  EXPECT_EQ(m.allow, "GET, POST");
}

TEST(trace, accepts_valid_traceparents_only) {
  const auto ok = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ok->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(ok->flags, "01");
  for (const std::string_view bad : {
           "",
           "garbage",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // v00 has 4 fields
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // zero parent
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // upper case
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
  }
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"))
      << "a later version may append fields";
}

TEST(trace, continues_a_trace_with_a_new_span_or_starts_one) {
  const auto continued = trace_for("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  EXPECT_EQ(continued.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(continued.span_id, "00f067aa0ba902b7");
  EXPECT_EQ(continued.flags, "00");
  EXPECT_TRUE(parse_traceparent(continued.traceparent()));
  const auto a = trace_for("");
  const auto b = trace_for("");
  EXPECT_NE(a.trace_id, b.trace_id);
  EXPECT_TRUE(parse_traceparent(a.traceparent())) << a.traceparent();
}

TEST(problem, maps_rejections_refusals_and_auth_failures) {
  EXPECT_EQ(from_rejection(engine::rejection::insufficient_funds).code_status,
            status::unprocessable_entity);
  EXPECT_EQ(from_rejection(engine::rejection::wallet_not_found).code_status, status::not_found);
  EXPECT_EQ(from_rejection(engine::rejection::idempotency_conflict).code_status, status::conflict);
  const auto flagged = from_rejection(engine::rejection::feature_disabled, std::chrono::seconds{7});
  EXPECT_EQ(flagged.code_status, status::service_unavailable);
  EXPECT_EQ(flagged.retry_after, std::chrono::seconds{7});
  EXPECT_EQ(
      from_rejection(engine::rejection::insufficient_funds, std::chrono::seconds{7}).retry_after,
      std::nullopt)
      << "a rule's rejection is final: no Retry-After";
  const auto overloaded = from_refusal(actors::submit_errc::overloaded, std::chrono::seconds{3});
  EXPECT_EQ(overloaded.code_status, status::service_unavailable);
  EXPECT_EQ(overloaded.retry_after, std::chrono::seconds{3});
  EXPECT_EQ(from_refusal(actors::submit_errc::reserved_key, {}).fields.front().field,
            "Idempotency-Key");
  EXPECT_EQ(from_auth(auth::auth_errc::bad_signature, {}).code_status, status::unauthorized);
  EXPECT_EQ(from_auth(auth::auth_errc::keys_unavailable, {}).code_status,
            status::service_unavailable);
  // Every code is unique and every rejection has an entry.
  std::set<std::string_view> codes;
  for (const auto& k : problem_kinds()) EXPECT_TRUE(codes.insert(k.code).second) << k.code;
  for (std::uint8_t i = 1; i <= engine::rejection_count; ++i) {
    EXPECT_TRUE(codes.contains(engine::code(static_cast<engine::rejection>(i))));
  }
}

TEST(problem, bodies_are_rfc9457_with_the_code_and_fields) {
  const auto body = boost::json::parse(
      problem_body(invalid_request({{"amount", "sign"}}), "/v1/wallets/w/deposits", "abc"));
  EXPECT_EQ(body.at("type").as_string(), "urn:wallet-engine:problem:invalid_request");
  EXPECT_EQ(body.at("status").as_int64(), 400);
  EXPECT_EQ(body.at("code").as_string(), "invalid_request");
  EXPECT_EQ(body.at("instance").as_string(), "/v1/wallets/w/deposits");
  EXPECT_EQ(body.at("trace_id").as_string(), "abc");
  EXPECT_EQ(body.at("fields").as_array()[0].at("problem").as_string(), "sign");
}

}  // namespace
}  // namespace wallet::http
