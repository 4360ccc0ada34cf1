// The table of problem codes and the mappings into it.
#include "wallet/http/problem.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "wallet/engine/assert.hpp"

namespace wallet::http {
namespace {

namespace json = boost::json;

status rejection_status(engine::rejection r) {
  using engine::rejection;
  switch (r) {
    // An operator's switch, not the request's fault: not remembered under the key, so the same
    // request may pass later. 503 with Retry-After, like the other waits.
    case rejection::feature_disabled:
      return status::service_unavailable;
    case rejection::wallet_not_found:
    case rejection::hold_not_found:
      return status::not_found;
    case rejection::wallet_exists:
    case rejection::hold_exists:
    case rejection::idempotency_conflict:
      return status::conflict;
    case rejection::aml_unavailable:  // no verdict now: the same request may pass later (503)
      return status::service_unavailable;
    default:
      return status::unprocessable_entity;
  }
}

std::vector<problem_kind> build_kinds() {
  std::vector<problem_kind> kinds{
      {"bad_request", status::bad_request, "The request is not valid HTTP"},
      {"malformed_json", status::bad_request, "The body is not valid JSON"},
      {"invalid_request", status::bad_request, "The request has invalid fields"},
      {"unauthenticated", status::unauthorized, "Authentication is missing or failed"},
      {"forbidden", status::forbidden, "The caller's roles do not allow this"},
      {"not_wallet_owner", status::forbidden, "The wallet belongs to another owner"},
      {"not_found", status::not_found, "No such resource"},
      {"transfer_not_found", status::not_found, "No transfer has this id on this wallet"},
      {"outcome_not_found", status::not_found, "No outcome is recorded under this key"},
      {"review_not_found", status::not_found, "No AML review has this id"},
      {"review_decided", status::conflict, "The AML review is decided or expired already"},
      {"method_not_allowed", status::method_not_allowed, "The resource has no such method"},
      {"write_refused", status::conflict, "The database refused the command"},
      {"body_too_large", status::payload_too_large, "The body is larger than allowed"},
      {"unsupported_media_type", status::unsupported_media_type,
       "The body must be application/json"},
      {"rate_limited", status::too_many_requests, "Too many requests; retry later"},
      {"header_too_large", status::request_header_fields_too_large,
       "The request header is larger than allowed"},
      {"internal", status::internal_server_error, "The request could not be answered"},
      {"overloaded", status::service_unavailable, "Too much work in flight; retry later"},
      {"unavailable", status::service_unavailable, "The store is unavailable; retry later"},
      {"shutting_down", status::service_unavailable, "The service is stopping; retry later"},
      {"not_owner", status::service_unavailable,
       "Another instance serves this wallet; retry later"},
      {"auth_unavailable", status::service_unavailable,
       "The keys to verify tokens are unavailable; retry later"},
      {"not_ready", status::service_unavailable, "The service is not ready"},
  };
  for (std::uint8_t i = 1; i <= engine::rejection_count; ++i) {
    const auto r = static_cast<engine::rejection>(i);
    kinds.push_back({engine::code(r), rejection_status(r), nats::rejection_message(r)});
  }
  return kinds;
}

const problem_kind& kind_of(std::string_view code) {
  for (const problem_kind& k : problem_kinds()) {
    if (k.code == code) return k;
  }
  WALLET_ASSERT(false && "a problem code missing from the table");
  return problem_kinds().front();
}

std::string_view auth_detail(auth::auth_errc e) {
  using auth::auth_errc;
  switch (e) {
    case auth_errc::missing:
      return "no Authorization header: send 'Bearer <token>'";
    case auth_errc::malformed:
      return "the Authorization header is not a bearer JWT";
    case auth_errc::unsupported_algorithm:
      return "the token's algorithm is not RS256 or ES256";
    case auth_errc::unknown_key:
      return "the token's key id is not in the key set";
    case auth_errc::bad_signature:
      return "the token's signature does not verify";
    case auth_errc::expired:
      return "the token has expired";
    case auth_errc::not_yet_valid:
      return "the token is not valid yet";
    case auth_errc::wrong_issuer:
      return "the token's issuer is not accepted";
    case auth_errc::wrong_audience:
      return "the token is not meant for this service";
    case auth_errc::keys_unavailable:
      return "the key set could not be loaded";
  }
  return "the token was refused";
}

}  // namespace

const std::vector<problem_kind>& problem_kinds() {
  static const std::vector<problem_kind> kinds = build_kinds();
  return kinds;
}

problem make_problem(std::string_view code, std::string detail) {
  const problem_kind& k = kind_of(code);
  problem p;
  p.code_status = k.http_status;
  p.code = std::string(k.code);
  p.detail = detail.empty() ? std::string(k.title) : std::move(detail);
  return p;
}

problem invalid_request(std::vector<nats::field_problem> fields) {
  std::string detail = "invalid:";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    detail.append(i == 0 ? " " : "; ")
        .append(fields[i].field.empty() ? "(body)" : fields[i].field)
        .append(": ")
        .append(fields[i].problem);
  }
  problem p = make_problem("invalid_request", std::move(detail));
  p.fields = std::move(fields);
  return p;
}

problem from_rejection(engine::rejection r, std::chrono::seconds retry_after) {
  problem p = make_problem(engine::code(r), std::string(nats::rejection_message(r)));
  if (p.code_status == status::service_unavailable) p.retry_after = retry_after;
  return p;
}

problem from_refusal(actors::submit_errc e, std::chrono::seconds retry_after) {
  using actors::submit_errc;
  switch (e) {
    case submit_errc::invalid_wallet:
      return invalid_request({{"wallet_id", "invalid_id"}});
    case submit_errc::reserved_key:
      return invalid_request({{"Idempotency-Key", "reserved_prefix"}});
    case submit_errc::write_refused:
      return make_problem("write_refused", std::string(nats::refusal_message(e)));
    case submit_errc::overloaded:
    case submit_errc::unavailable:
    case submit_errc::shutting_down:
    case submit_errc::not_owner:
      break;
  }
  problem p = make_problem(actors::to_string(e), std::string(nats::refusal_message(e)));
  p.retry_after = retry_after;
  return p;
}

problem from_auth(auth::auth_errc e, std::chrono::seconds retry_after) {
  if (e == auth::auth_errc::keys_unavailable) {
    problem p = make_problem("auth_unavailable", std::string(auth_detail(e)));
    p.retry_after = retry_after;
    return p;
  }
  return make_problem("unauthenticated", std::string(auth_detail(e)));
}

std::string problem_body(const problem& p, std::string_view instance, std::string_view trace_id) {
  json::object o = p.extensions;
  o["type"] = std::string(problem_type_prefix) + p.code;
  o["title"] = kind_of(p.code).title;
  o["status"] = static_cast<unsigned>(p.code_status);
  o["detail"] = p.detail;
  o["code"] = p.code;
  if (!instance.empty()) o["instance"] = instance;
  if (!trace_id.empty()) o["trace_id"] = trace_id;
  if (!p.fields.empty()) {
    json::array fields;
    for (const auto& f : p.fields) {
      fields.push_back(json::object{{"field", f.field}, {"problem", f.problem}});
    }
    o["fields"] = std::move(fields);
  }
  return json::serialize(o);
}

}  // namespace wallet::http
