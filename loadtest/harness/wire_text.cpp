// Rendering commands and reading answers. Amounts are EUR minor units written exactly
// (engine::format_amount); a defect changes one field of the text the way a faulty client would.
#include "wire_text.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <ctime>

#include "wallet/engine/money.hpp"
#include "wallet/engine/rejection.hpp"

namespace wallet::loadtest {
namespace {

namespace json = boost::json;

constexpr std::uint8_t eur_exponent = 2;
constexpr auto hold_lifetime = std::chrono::hours{1};  // holds end by capture or release first

std::string_view text_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view{v->get_string()} : std::string_view{};
}

std::string rfc3339_after(std::chrono::seconds from_now) {
  const std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// "amount":"..","currency":".." with the command's defect applied.
std::string money(const command& c) {
  std::string amount = engine::format_amount(c.amount, eur_exponent);
  std::string currency = "EUR";
  if (c.flaw == defect::too_precise) amount += "1";  // one decimal more than EUR has
  if (c.flaw == defect::unknown_currency) currency = "ABC";
  if (c.flaw == defect::currency_mismatch) currency = "USD";
  return R"("amount":")" + amount + R"(","currency":")" + currency + R"(")";
}

// The type's own fields, without braces. Hold ids are in the path over HTTP (`in_path`).
std::string fields(const command& c, const naming& names, bool in_path) {
  const std::string hold = R"("hold_id":")" + names.hold_id(c) + R"(")";
  switch (c.what) {
    case op::open_wallet:
      return R"("owner":"loadtest","currency":"EUR")";
    case op::deposit:
    case op::withdraw:
      return money(c);
    case op::transfer:
      return R"("transfer_id":")" + names.key(c) + R"(","destination":")" +
             names.wallet(c.destination) + R"(",)" + money(c);
    case op::hold_place:
      return hold + "," + money(c) + R"(,"expires_at":")" + rfc3339_after(hold_lifetime) + R"(")";
    case op::hold_capture: {
      std::string amount = c.amount == 0 ? std::string{} : money(c);
      if (in_path) return amount;
      return amount.empty() ? hold : hold + "," + amount;
    }
    case op::hold_release:
      return in_path ? std::string{} : hold;
  }
  return {};
}

std::string_view type_of(op o) { return o == op::transfer ? "transfer" : to_string(o); }

answer from_problem(const json::object& o) {
  answer a;
  a.status = answer_status::refused;
  const std::string_view code = text_of(o, "code");
  if (const json::value* r = o.if_contains("replayed"); r != nullptr && r->is_bool()) {
    a.replayed = r->get_bool();
  }
  if (engine::rejection_from_code(code)) {
    a.status = answer_status::rejected;  // a business rejection, remembered under the key
    a.code = code;
    return a;
  }
  a.code = code == "invalid_request" ? "invalid" : code == "malformed_json" ? "malformed" : code;
  const json::value* list = o.if_contains("fields");
  if (list != nullptr && list->is_array() && !list->get_array().empty() &&
      list->get_array().front().is_object()) {
    a.problem = text_of(list->get_array().front().get_object(), "problem");
  }
  return a;
}

}  // namespace

std::string render_command(const command& c, const naming& names) {
  std::string out = R"({"wallet_id":")" + names.wallet_of(c) + R"(","idempotency_key":")" +
                    names.key(c) + R"(",)";
  if (c.flaw == defect::malformed) return out + R"("type":"deposit","amount":)";  // cut short
  const std::string f = fields(c, names, false);
  return out + R"("type":")" + std::string(type_of(c.what)) + R"(")" + (f.empty() ? "" : ",") + f +
         "}";
}

http_request render_http(const command& c, const naming& names) {
  http_request r;
  const std::string wallet = "/v1/wallets/" + names.wallet_of(c);
  switch (c.what) {
    case op::open_wallet:
      r.target = "/v1/wallets";
      break;
    case op::deposit:
      r.target = wallet + "/deposits";
      break;
    case op::withdraw:
      r.target = wallet + "/withdrawals";
      break;
    case op::transfer:
      r.target = wallet + "/transfers";
      break;
    case op::hold_place:
      r.target = wallet + "/holds";
      break;
    case op::hold_capture:
      r.target = wallet + "/holds/" + names.hold_id(c) + "/capture";
      break;
    case op::hold_release:
      r.target = wallet + "/holds/" + names.hold_id(c) + "/release";
      break;
  }
  if (c.flaw == defect::malformed) {
    r.body = R"({"amount":)";  // cut short
    return r;
  }
  std::string f = fields(c, names, true);
  if (c.what == op::open_wallet) f = R"("wallet_id":")" + names.wallet_of(c) + R"(",)" + f;
  r.body = "{" + f + "}";
  return r;
}

answer parse_outcome(std::string_view text) {
  answer a;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    a.code = "unreadable outcome";
    return a;
  }
  const json::object& o = v.get_object();
  const std::string_view status = text_of(o, "status");
  if (const json::value* r = o.if_contains("replayed"); r != nullptr && r->is_bool()) {
    a.replayed = r->get_bool();
  }
  if (status == "accepted") {
    a.status = answer_status::accepted;
  } else if (status == "rejected") {
    a.status = answer_status::rejected;
    if (const json::value* r = o.if_contains("rejection"); r != nullptr && r->is_object()) {
      a.code = text_of(r->get_object(), "code");
    }
  } else if (status == "refused") {
    const json::value* e = o.if_contains("error");
    a = e != nullptr && e->is_object() ? from_problem(e->get_object()) : answer{};
    a.status = answer_status::refused;
  } else {
    a.code = "outcome without a known status";
  }
  return a;
}

answer parse_http_answer(unsigned status, std::string_view body, bool replayed_header) {
  if (status >= 200 && status < 300) {
    answer a = parse_outcome(body);
    a.replayed = a.replayed || replayed_header;
    return a;
  }
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    answer a;
    a.code = "HTTP " + std::to_string(status);
    a.problem = "no problem document";
    return a;
  }
  return from_problem(v.get_object());
}

bool is_retryable(const answer& a) noexcept {
  return a.status == answer_status::refused &&
         (a.code == "overloaded" || a.code == "unavailable" || a.code == "shutting_down" ||
          a.code == "not_owner" || a.code == "rate_limited" || a.code == "auth_unavailable");
}

}  // namespace wallet::loadtest
