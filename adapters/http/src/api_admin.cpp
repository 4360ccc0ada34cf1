// The API's administrative routes (docs/compliance.md, docs/adr/0006-audit-trail.md): wallet
// commands that need a reason and leave an audit record (freeze, unfreeze, close, KYC level), the
// auditor's pages of the audit trail (alone, or merged with a wallet's events), and owner profiles
// with their erasure. Personal data is read and written here only: it is never logged and never
// placed in a problem's detail.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <initializer_list>

#include "api_internal.hpp"
#include "wallet/actors/audit.hpp"
#include "wallet/compliance/files.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/review.hpp"
#include "wallet/http/admin_port.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::http {
namespace {

namespace json = boost::json;
using nats::field_problem;
using query_list = std::vector<std::pair<std::string, std::string>>;

// Bounds of a profile's personal fields (migration 0007's checks, checked here first so that the
// database never quotes a refused row into an error).
constexpr std::size_t display_name_length_max = 200;
constexpr std::size_t email_length_min = 3;
constexpr std::size_t email_length_max = 254;

bool has_control(std::string_view text) {
  return std::ranges::any_of(text, [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// The body as a JSON object, or nothing when it is not one (the caller decides how to answer).
std::optional<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body.empty() ? std::string_view{"{}"} : body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// One unknown_field problem for each key of `body` that is not in `allowed`.
std::vector<field_problem> unknown_fields(const json::object& body,
                                          std::initializer_list<std::string_view> allowed) {
  std::vector<field_problem> problems;
  for (const auto& [key, value] : body) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view{key}) == allowed.end()) {
      problems.push_back({key, "unknown_field"});
    }
  }
  return problems;
}

// The reason of an administrative request, or the field problem that refuses it.
std::variant<std::string, field_problem> reason_of(const json::value* value) {
  if (value == nullptr) return field_problem{"reason", "missing"};
  if (!value->is_string()) return field_problem{"reason", "not_a_string"};
  const std::string_view text = value->get_string();
  if (text.empty() || text.size() > engine::reason_length_max) {
    return field_problem{"reason", "invalid_length"};
  }
  if (!actors::is_valid_reason(text)) return field_problem{"reason", "invalid_text"};
  return std::string(text);
}

const std::string* find_query(const query_list& q, std::string_view name) {
  for (const auto& [key, value] : q) {
    if (key == name) return &value;
  }
  return nullptr;
}

// The query's parameters when each is one of `known` and appears once; else answers 400.
bool check_query(api::impl& self, const exchange_ptr& x,
                 std::initializer_list<std::string_view> known) {
  std::vector<field_problem> problems;
  for (std::size_t i = 0; i < x->query.size(); ++i) {
    const std::string& name = x->query[i].first;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      problems.push_back({name, "unknown_parameter"});
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (x->query[j].first == name) problems.push_back({name, "repeated"});
    }
  }
  if (problems.empty()) return true;
  self.reply_problem(x, invalid_request(std::move(problems)));
  return false;
}

std::optional<std::int64_t> cursor_of(std::vector<field_problem>& problems, const query_list& q,
                                      std::string_view name) {
  const std::string* text = find_query(q, name);
  if (text == nullptr) return 0;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < 0) {
    problems.push_back({std::string(name), "not_an_integer"});
    return std::nullopt;
  }
  return value;
}

std::size_t limit_of(std::vector<field_problem>& problems, const query_list& q,
                     std::size_t limit_max) {
  const std::string* text = find_query(q, "limit");
  if (text == nullptr) return std::min(page_limit_default, limit_max);
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size()) {
    problems.push_back({"limit", "not_an_integer"});
  } else if (value < 1 || value > limit_max) {
    problems.push_back({"limit", "out_of_range"});
  }
  return value;
}

std::optional<engine::timestamp> time_of(std::vector<field_problem>& problems, const query_list& q,
                                         std::string_view name) {
  const std::string* text = find_query(q, name);
  if (text == nullptr) return std::nullopt;
  auto t = nats::parse_rfc3339(*text);
  if (!t) {
    problems.push_back({std::string(name), std::string(nats::to_string(t.error()))});
    return std::nullopt;
  }
  return t.value();
}

// A text filter: at most `length_max` bytes, no control character.
std::string text_filter(std::vector<field_problem>& problems, const query_list& q,
                        std::string_view name, std::size_t length_max) {
  const std::string* text = find_query(q, name);
  if (text == nullptr) return {};
  if (text->empty() || text->size() > length_max || has_control(*text) ||
      !actors::is_valid_utf8(*text)) {
    problems.push_back({std::string(name), "invalid_length"});
    return {};
  }
  return *text;
}

json::object audit_object(const postgres::audit_row& row) {
  json::object o;
  o["id"] = row.id;
  o["at"] = nats::format_rfc3339(row.at);
  o["principal"] = row.principal;
  o["action"] = row.action;
  o["target"] = row.target;
  o["reason"] = row.reason;
  if (!row.trace_id.empty()) o["trace_id"] = row.trace_id;
  boost::system::error_code ec;
  json::value details = json::parse(row.details, ec);
  o["details"] = ec ? json::value(json::object{}) : std::move(details);
  return o;
}

json::object profile_object(const postgres::owner_profile& p) {
  json::object o;
  o["owner_id"] = p.owner_id;
  o["display_name"] = p.display_name;
  o["email"] = p.email;
  o["created_at"] = nats::format_rfc3339(p.created_at);
  o["updated_at"] = nats::format_rfc3339(p.updated_at);
  return o;
}

// A profile's fields from a PUT body: display_name and email within their bounds, and the reason
// (checked by the caller) and nothing else.
std::variant<postgres::owner_profile, std::vector<field_problem>> profile_of(
    const json::object& body, std::string owner_id) {
  std::vector<field_problem> problems = unknown_fields(body, {"display_name", "email", "reason"});
  postgres::owner_profile p;
  p.owner_id = std::move(owner_id);
  const auto text = [&](std::string_view name, std::size_t min, std::size_t max, std::string& out) {
    const json::value* v = body.if_contains(name);
    if (v == nullptr) {
      problems.push_back({std::string(name), "missing"});
    } else if (!v->is_string()) {
      problems.push_back({std::string(name), "not_a_string"});
    } else if (v->get_string().size() < min || v->get_string().size() > max) {
      problems.push_back({std::string(name), "invalid_length"});
    } else if (has_control(v->get_string())) {
      problems.push_back({std::string(name), "control_character"});
    } else {
      out = std::string(v->get_string());
    }
  };
  text("display_name", 1, display_name_length_max, p.display_name);
  text("email", email_length_min, email_length_max, p.email);
  if (!p.email.empty()) {
    const std::size_t at = p.email.find('@');
    if (at == 0 || at == std::string::npos || at + 1 == p.email.size() ||
        p.email.find('@', at + 1) != std::string::npos || p.email.find(' ') != std::string::npos) {
      problems.push_back({"email", "not_an_address"});
    }
  }
  if (!problems.empty()) return problems;
  return p;
}

// The seq of the event an audit record committed with (its details' "seq"), or 0 for none.
std::uint64_t committed_seq(const postgres::audit_row& row) {
  boost::system::error_code ec;
  const json::value details = json::parse(row.details, ec);
  if (ec || !details.is_object()) return 0;
  const json::value* seq = details.get_object().if_contains("seq");
  if (seq == nullptr || !seq->is_string()) return 0;
  std::uint64_t value = 0;
  const std::string_view text = seq->get_string();
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  return err == std::errc{} && end == text.data() + text.size() ? value : 0;
}

json::object review_object(const postgres::review_row& r) {
  json::object o;
  o["review_id"] = r.review_id;
  o["wallet_id"] = r.wallet_id;
  o["hold_id"] = r.hold_id;
  o["command"] = r.command;
  o["idempotency_key"] = r.idempotency_key;
  const auto ccy = engine::currency::from_code(r.currency);
  o["amount"] =
      ccy ? json::value(engine::format_amount(r.amount, ccy->exponent())) : json::value(nullptr);
  o["amount_minor"] = std::to_string(r.amount);
  o["currency"] = r.currency;
  json::array reasons;
  for (std::size_t start = 0; start < r.reasons.size();) {
    const std::size_t comma = std::min(r.reasons.find(',', start), r.reasons.size());
    reasons.emplace_back(r.reasons.substr(start, comma - start));
    start = comma + 1;
  }
  o["reasons"] = std::move(reasons);
  o["status"] = r.status;
  o["opened_at"] = nats::format_rfc3339(r.opened_at);
  o["expires_at"] = nats::format_rfc3339(r.expires_at);
  if (r.decided_at) o["decided_at"] = nats::format_rfc3339(*r.decided_at);
  if (!r.decided_by.empty()) o["decided_by"] = r.decided_by;
  if (!r.decision_reason.empty()) o["decision_reason"] = r.decision_reason;
  if (!r.transfer_id.empty()) o["transfer_id"] = r.transfer_id;
  if (!r.destination.empty()) o["destination"] = r.destination;
  return o;
}

// The statuses a review row may have (migration 0008).
bool is_review_status(std::string_view s) {
  return s == "pending" || s == "approved" || s == "rejected" || s == "expired";
}

}  // namespace

bool api::impl::check_privileged(const exchange_ptr& x) {
  if (privileged(x->who)) return true;
  reply_problem(x, make_problem("forbidden", "this needs the admin or service role"));
  return false;
}

bool api::impl::admin_ready(const exchange_ptr& x) {
  if (ports.admin) return true;
  reply_unconfigured(x, "the admin store is");
  return false;
}

void api::impl::reply_unconfigured(const exchange_ptr& x, std::string_view what) {
  problem p = make_problem("unavailable", std::string{what} + " not configured");
  p.retry_after = settings.retry_after;
  reply_problem(x, p);
}

void api::impl::admin_command(const exchange_ptr& x, std::string_view type) {
  auto object = parse_object(x->req.message.body());
  if (object) {
    auto reason = reason_of(object->if_contains("reason"));
    if (auto* problem = std::get_if<field_problem>(&reason)) {
      reply_problem(x, invalid_request({*problem}));
      return;
    }
    x->audit_reason = std::get<std::string>(std::move(reason));
    // close_wallet's command has no reason field: the reason lives in the audit record alone.
    if (type == "close_wallet") {
      object->erase("reason");
      x->req.message.body() = json::serialize(*object);
    }
  }
  // A body that is not a JSON object is answered by run_command (415, 400 malformed_json).
  run_command(x, type);
}

void api::impl::freeze(const exchange_ptr& x) { admin_command(x, "freeze"); }
void api::impl::unfreeze(const exchange_ptr& x) { admin_command(x, "unfreeze"); }
void api::impl::close(const exchange_ptr& x) { admin_command(x, "close_wallet"); }

void api::impl::set_kyc_level(const exchange_ptr& x) {
  if (check_privileged(x)) admin_command(x, "set_kyc_level");
}

void api::impl::list_audit(const exchange_ptr& x) {
  if (!check_query(*this, x, {"principal", "action", "target", "from", "to", "after", "limit"}) ||
      !admin_ready(x)) {
    return;
  }
  std::vector<field_problem> problems;
  postgres::audit_filter f;
  f.principal = text_filter(problems, x->query, "principal", actors::audit_principal_length_max);
  f.action = text_filter(problems, x->query, "action", 64);
  f.target = text_filter(problems, x->query, "target", actors::audit_target_length_max);
  f.from = time_of(problems, x->query, "from");
  f.to = time_of(problems, x->query, "to");
  f.after_id = cursor_of(problems, x->query, "after").value_or(0);
  f.limit = limit_of(problems, x->query, settings.page_limit_max);
  if (!problems.empty()) {
    reply_problem(x, invalid_request(std::move(problems)));
    return;
  }
  const std::size_t limit = f.limit;
  ports.admin->audit(std::move(f), [self = shared_from_this(), x, limit](
                                       const read_result<std::vector<postgres::audit_row>>& rows) {
    if (!rows) {
      self->reply_read_error(x, rows.error());
      return;
    }
    json::object body;
    json::array items;
    for (const auto& row : rows.value()) items.push_back(audit_object(row));
    body["entries"] = std::move(items);
    if (rows.value().size() == limit) body["next_after"] = rows.value().back().id;
    self->reply_json(x, status::ok, json::serialize(body));
  });
}

// The audit records naming a wallet and the wallet's events, merged by time. Each stream pages
// by its own cursor (after_audit: an audit id; after_seq: an event seq); a page holds at most
// `limit` entries and says where the next one starts.
void api::impl::wallet_audit(const exchange_ptr& x) {
  auto id = path_id(*this, x, "wallet_id", engine::wallet_id_length_max);
  if (!id || !check_query(*this, x, {"after_audit", "after_seq", "limit"}) || !admin_ready(x)) {
    return;
  }
  std::vector<field_problem> problems;
  const auto after_audit = cursor_of(problems, x->query, "after_audit").value_or(0);
  const auto after_seq = cursor_of(problems, x->query, "after_seq").value_or(0);
  const std::size_t limit = limit_of(problems, x->query, settings.page_limit_max);
  if (!problems.empty()) {
    reply_problem(x, invalid_request(std::move(problems)));
    return;
  }
  postgres::audit_filter f;
  f.target = *id;
  f.after_id = after_audit;
  f.limit = limit;
  ports.admin->audit(std::move(f), [self = shared_from_this(), x, id = *id, after_audit, after_seq,
                                    limit](read_result<std::vector<postgres::audit_row>> rows) {
    if (!rows) {
      self->reply_read_error(x, rows.error());
      return;
    }
    self->ports.reads->wallet(
        id, [self, x, id, after_audit, after_seq, limit, rows = std::move(rows).value()](
                const read_result<std::optional<engine::wallet_state>>& w) {
          if (!w) {
            self->reply_read_error(x, w.error());
            return;
          }
          const engine::currency ccy = w.value() ? w.value()->ccy : engine::currency{};
          if (!w.value()) {  // never opened: its refused commands may still be audited
            self->merge_timeline(x, id, after_audit, after_seq, limit, rows, {}, ccy);
            return;
          }
          self->ports.reads->history(id, static_cast<std::uint64_t>(after_seq), limit,
                                     [self, x, id, after_audit, after_seq, limit, rows,
                                      ccy](const read_result<std::vector<engine::event>>& events) {
                                       if (!events) {
                                         self->reply_read_error(x, events.error());
                                         return;
                                       }
                                       self->merge_timeline(x, id, after_audit, after_seq, limit,
                                                            rows, events.value(), ccy);
                                     });
        });
  });
}

void api::impl::merge_timeline(const exchange_ptr& x, const std::string& wallet_id,
                               std::int64_t after_audit, std::int64_t after_seq, std::size_t limit,
                               const std::vector<postgres::audit_row>& rows,
                               const std::vector<engine::event>& events, engine::currency ccy) {
  // A record that committed with an event names its seq: it goes right before that event, whatever
  // the two clocks (the database's for records, the engine's for events) say. A record without
  // one (a refusal) goes by its time. When this page's events may continue on the next page, a
  // record that belongs after them waits for that page.
  const bool events_cut = events.size() == limit;
  const auto record_first = [&](std::size_t a, std::size_t e) {
    const std::uint64_t seq = committed_seq(rows[a]);
    if (e < events.size()) return seq != 0 ? seq <= events[e].seq : rows[a].at <= events[e].at;
    return !events_cut;
  };
  json::array items;
  std::size_t a = 0;
  std::size_t e = 0;
  std::int64_t next_audit = after_audit;
  auto next_seq = static_cast<std::uint64_t>(after_seq);
  while (items.size() < limit && (a < rows.size() || e < events.size())) {
    if (a < rows.size() && record_first(a, e)) {
      json::object o = audit_object(rows[a]);
      o["kind"] = "audit";
      next_audit = rows[a++].id;
      items.push_back(std::move(o));
    } else if (e < events.size()) {
      json::object o;
      o["kind"] = "event";
      o["at"] = nats::format_rfc3339(events[e].at);
      o["event"] = json::parse(nats::encode_event(wallet_id, events[e], ccy));
      next_seq = events[e++].seq;
      items.push_back(std::move(o));
    } else {
      break;  // records that belong after events of the next page
    }
  }
  json::object body;
  body["wallet_id"] = wallet_id;
  body["entries"] = std::move(items);
  // More may follow when a stream filled its page or was cut by the merge.
  body["more"] =
      rows.size() == limit || events.size() == limit || a < rows.size() || e < events.size();
  body["next_after_audit"] = next_audit;
  body["next_after_seq"] = next_seq;
  reply_json(x, status::ok, json::serialize(body));
}

// A profile's creation or change is audited (profile_created, profile_updated) in its own
// transaction, with a required reason (in the body, or ?reason=); the record names the owner id,
// never the personal fields.
void api::impl::put_profile(const exchange_ptr& x) {
  auto owner = path_id(*this, x, "owner_id", engine::owner_id_length_max);
  if (!owner || !check_query(*this, x, {"reason"}) || !check_privileged(x) || !admin_ready(x)) {
    return;
  }
  auto object = parse_object(x->req.message.body());
  if (!object) {
    reply_problem(x, invalid_request({{"", "not_an_object"}}));
    return;
  }
  json::value from_query;
  const json::value* given = object->if_contains("reason");
  if (const std::string* q = find_query(x->query, "reason"); q != nullptr && given == nullptr) {
    from_query = json::string(*q);
    given = &from_query;
  }
  auto reason = reason_of(given);
  auto parsed = profile_of(*object, *owner);
  std::vector<field_problem> problems;
  if (auto* listed = std::get_if<std::vector<field_problem>>(&parsed)) {
    problems = std::move(*listed);
  }
  if (auto* problem = std::get_if<field_problem>(&reason)) problems.push_back(*problem);
  if (!problems.empty()) {
    reply_problem(x, invalid_request(std::move(problems)));
    return;
  }
  actors::audit_entry entry;
  entry.principal = actors::recorded_principal(x->who.subject);
  entry.action = "profile_updated";  // the store says which: created or updated
  entry.target = *owner;
  entry.reason = std::get<std::string>(std::move(reason));
  entry.trace_id = x->trace.trace_id;
  ports.admin->put_profile(
      std::get<postgres::owner_profile>(std::move(parsed)), std::move(entry),
      [self = shared_from_this(), x](const read_result<postgres::owner_profile>& p) {
        if (!p) {
          self->reply_read_error(x, p.error());
          return;
        }
        self->reply_json(x, status::ok, json::serialize(profile_object(p.value())));
      });
}

void api::impl::get_profile(const exchange_ptr& x) {
  auto owner = path_id(*this, x, "owner_id", engine::owner_id_length_max);
  if (!owner || !check_privileged(x) || !admin_ready(x)) return;
  ports.admin->profile(*owner, [self = shared_from_this(),
                                x](const read_result<std::optional<postgres::owner_profile>>& p) {
    if (!p) {
      self->reply_read_error(x, p.error());
      return;
    }
    if (!p.value()) {
      self->reply_problem(x, make_problem("not_found", "no profile is stored for this owner"));
      return;
    }
    self->reply_json(x, status::ok, json::serialize(profile_object(*p.value())));
  });
}

// Erasure (right to erasure): the profile row is deleted and the erasure recorded, in one
// transaction. The record names the owner id and the reason; never the erased data.
void api::impl::erase_profile(const exchange_ptr& x) {
  auto owner = path_id(*this, x, "owner_id", engine::owner_id_length_max);
  if (!owner || !check_query(*this, x, {"reason"}) || !check_privileged(x) || !admin_ready(x)) {
    return;
  }
  // The reason in the body, or in the query for clients that send no body with DELETE.
  json::value from_query;
  const json::value* given = nullptr;
  std::optional<json::object> object;
  if (const std::string* q = find_query(x->query, "reason")) {
    from_query = json::string(*q);
    given = &from_query;
  } else {
    object = parse_object(x->req.message.body());
    if (!object) {
      reply_problem(x, invalid_request({{"", "not_an_object"}}));
      return;
    }
    given = object->if_contains("reason");
  }
  auto reason = reason_of(given);
  if (auto* problem = std::get_if<field_problem>(&reason)) {
    reply_problem(x, invalid_request({*problem}));
    return;
  }
  actors::audit_entry entry;
  entry.principal = actors::recorded_principal(x->who.subject);
  entry.action = "profile_erased";
  entry.target = *owner;
  entry.reason = std::get<std::string>(std::move(reason));
  entry.trace_id = x->trace.trace_id;
  ports.admin->erase_profile(
      *owner, std::move(entry),
      [self = shared_from_this(), x, owner = *owner](const read_result<postgres::erasure>& done) {
        if (!done) {
          self->reply_read_error(x, done.error());
          return;
        }
        json::object body;
        body["owner_id"] = owner;
        body["erased"] = done.value().existed;
        body["audit_id"] = done.value().audit_id;
        self->reply_json(x, status::ok, json::serialize(body));
      });
}

// AML reviews (ADR 0009): the reviewer's queue, one review, and the decision.
void api::impl::list_reviews(const exchange_ptr& x) {
  if (!check_query(*this, x, {"status", "wallet_id", "after", "limit"}) || !admin_ready(x)) return;
  std::vector<field_problem> problems;
  postgres::review_filter f;
  if (const std::string* s = find_query(x->query, "status")) {
    if (is_review_status(*s)) {
      f.status = *s;
    } else {
      problems.push_back({"status", "unknown_status"});
    }
  }
  if (const std::string* w = find_query(x->query, "wallet_id")) {
    if (engine::is_valid_id(*w, engine::wallet_id_length_max)) {
      f.wallet_id = *w;
    } else {
      problems.push_back({"wallet_id", "invalid_id"});
    }
  }
  if (const std::string* a = find_query(x->query, "after")) {
    if (engine::is_review_id(*a)) {
      f.after = *a;
    } else {
      problems.push_back({"after", "invalid_id"});
    }
  }
  f.limit = limit_of(problems, x->query, settings.page_limit_max);
  if (!problems.empty()) {
    reply_problem(x, invalid_request(std::move(problems)));
    return;
  }
  const std::size_t limit = f.limit;
  ports.admin->reviews(std::move(f),
                       [self = shared_from_this(), x,
                        limit](const read_result<std::vector<postgres::review_row>>& rows) {
                         if (!rows) {
                           self->reply_read_error(x, rows.error());
                           return;
                         }
                         json::object body;
                         json::array items;
                         for (const auto& row : rows.value()) items.push_back(review_object(row));
                         body["reviews"] = std::move(items);
                         if (rows.value().size() == limit) {
                           body["next_after"] = rows.value().back().review_id;
                         }
                         self->reply_json(x, status::ok, json::serialize(body));
                       });
}

namespace {

// The path's review id, or nothing when the request was answered 400.
std::optional<std::string> review_id_param(api::impl& self, const exchange_ptr& x) {
  const std::string& id = x->params.at("review_id");
  if (!engine::is_review_id(id)) {
    self.reply_problem(x, invalid_request({{"review_id", "invalid_id"}}));
    return std::nullopt;
  }
  return id;
}

}  // namespace

void api::impl::get_review(const exchange_ptr& x) {
  auto id = review_id_param(*this, x);
  if (!id || !check_query(*this, x, {}) || !admin_ready(x)) return;
  ports.admin->review(*id, [self = shared_from_this(),
                            x](const read_result<std::optional<postgres::review_row>>& r) {
    if (!r) {
      self->reply_read_error(x, r.error());
      return;
    }
    if (!r.value()) {
      self->reply_problem(x, make_problem("review_not_found"));
      return;
    }
    self->reply_json(x, status::ok, json::serialize(review_object(*r.value())));
  });
}

namespace {

// The wallet command of a decision on `review`: reject releases the review's hold; approve
// captures it (a withdrawal) or debits the transfer from it (one event: the saga then credits the
// destination). std::nullopt for a row no engine wrote (an unknown command or currency).
std::optional<engine::command> decision_command(const postgres::review_row& review, bool approve) {
  engine::command cmd{review.wallet_id, engine::review_decision_key(review.review_id),
                      engine::hold_release{review.hold_id}};
  if (!approve) return cmd;
  if (review.command == "withdraw") {
    cmd.body = engine::hold_capture{review.hold_id, {}};
    return cmd;
  }
  const auto ccy = engine::currency::from_code(review.currency);
  if (review.command != "transfer_debit" || !ccy) return std::nullopt;
  cmd.body = engine::transfer_debit{review.transfer_id, review.destination,
                                    engine::money{review.amount, *ccy}, review.hold_id};
  return cmd;
}

}  // namespace

// Body: {"decision": "approve" | "reject", "reason": ...}. Approve captures the review's hold
// (the withdrawal happens) or debits the transfer from it, reject releases it; either is a wallet
// command under the review's decision key, audited in its commit like freeze.
void api::impl::decide_review(const exchange_ptr& x) {
  auto id = review_id_param(*this, x);
  if (!id || !check_query(*this, x, {}) || !admin_ready(x)) return;
  if (!ports.submit_review) {
    reply_unconfigured(x, "review decisions are");
    return;
  }
  auto object = parse_object(x->req.message.body());
  if (!object) {
    reply_problem(x, invalid_request({{"", "not_an_object"}}));
    return;
  }
  std::vector<field_problem> problems = unknown_fields(*object, {"decision", "reason"});
  bool approve = false;
  const json::value* decision = object->if_contains("decision");
  if (decision == nullptr) {
    problems.push_back({"decision", "missing"});
  } else if (!decision->is_string()) {
    problems.push_back({"decision", "not_a_string"});
  } else if (decision->get_string() == "approve" || decision->get_string() == "reject") {
    approve = decision->get_string() == "approve";
  } else {
    problems.push_back({"decision", "unknown_decision"});
  }
  auto reason = reason_of(object->if_contains("reason"));
  if (auto* problem = std::get_if<field_problem>(&reason)) problems.push_back(*problem);
  if (!problems.empty()) {
    reply_problem(x, invalid_request(std::move(problems)));
    return;
  }
  x->audit_reason = std::get<std::string>(std::move(reason));
  ports.admin->review(*id, [self = shared_from_this(), x,
                            approve](const read_result<std::optional<postgres::review_row>>& r) {
    if (!r) {
      self->reply_read_error(x, r.error());
      return;
    }
    if (!r.value()) {
      self->reply_problem(x, make_problem("review_not_found"));
      return;
    }
    const postgres::review_row& review = *r.value();
    // The same decision again goes to the wallet, whose decision key answers it as a replay (or,
    // once the key has left the window, finds the hold gone: 409). Any other decision on a closed
    // review is refused here.
    const bool same_again =
        review.status == (approve ? std::string_view{"approved"} : std::string_view{"rejected"});
    if (review.status != "pending" && !same_again) {
      problem p = make_problem("review_decided", "the review is " + review.status);
      p.extensions["review_status"] = review.status;
      self->reply_problem(x, p);
      return;
    }
    auto cmd = decision_command(review, approve);
    if (!cmd) {
      // A row no engine wrote (the request log and the status metrics record the 500).
      self->reply_problem(x, make_problem("internal", "the review's row names no known command"));
      return;
    }
    actors::command_context context{{}, x->trace.traceparent()};
    context.audit = actors::audit_context{x->who.subject, x->audit_reason};
    self->ports.submit_review(std::move(*cmd), std::move(context),
                              [self, x, review, approve](actors::submit_outcome out) {
                                self->answer_decision(x, review, approve, std::move(out));
                              });
  });
}

void api::impl::answer_decision(const exchange_ptr& x, const postgres::review_row& review,
                                bool approve, actors::submit_outcome out) {
  if (out.error) {
    reply_problem(x, from_refusal(*out.error, settings.retry_after));
    return;
  }
  if (const auto rejected = out.result.rejected) {
    // The other decision was taken (the key remembers it), or the hold is gone (decided, or
    // expired meanwhile): the review is closed. Anything else (a frozen wallet) may pass later.
    if (*rejected == engine::rejection::idempotency_conflict ||
        *rejected == engine::rejection::hold_not_found ||
        *rejected == engine::rejection::hold_expired) {
      problem p = make_problem("review_decided", std::string(nats::rejection_message(*rejected)));
      p.extensions["rejection"] = engine::code(*rejected);
      reply_problem(x, p);
      return;
    }
    problem p = from_rejection(*rejected, settings.retry_after);
    p.extensions["review_id"] = review.review_id;
    p.extensions["wallet_id"] = review.wallet_id;
    reply_problem(x, p);
    return;
  }
  json::object body;
  body["review_id"] = review.review_id;
  body["wallet_id"] = review.wallet_id;
  body["status"] = approve ? "approved" : "rejected";
  // A transfer's approval debits it: its status is at /v1/wallets/{wallet_id}/transfers/{id}.
  if (!review.transfer_id.empty()) body["transfer_id"] = review.transfer_id;
  body["replayed"] = out.replayed;
  body["version"] = out.result.seq;
  if (out.event) {
    body["event"] = json::parse(nats::encode_event(review.wallet_id, *out.event, out.ccy));
  }
  reply_json(x, status::ok, json::serialize(body));
}

// Feature flags at run time (docs/compliance.md): the flags in force as the flags file's JSON
// object. A PUT replaces them whole, like a new file, parsed by the same strict rules; its audit
// record (flags_changed: who, why, the old and the new flags) is written first, and only a
// recorded change is put in force.
void api::impl::get_flags(const exchange_ptr& x) {
  if (!check_query(*this, x, {})) return;
  if (!ports.flags) {
    reply_unconfigured(x, "run-time flags are");
    return;
  }
  json::object body;
  body["flags"] = json::parse(compliance::encode_flags(*ports.flags()));
  reply_json(x, status::ok, json::serialize(body));
}

void api::impl::put_flags(const exchange_ptr& x) {
  if (!check_query(*this, x, {}) || !admin_ready(x)) return;
  if (!ports.flags || !ports.set_flags) {
    reply_unconfigured(x, "run-time flags are");
    return;
  }
  auto object = parse_object(x->req.message.body());
  if (!object) {
    reply_problem(x, invalid_request({{"", "not_an_object"}}));
    return;
  }
  std::vector<field_problem> problems = unknown_fields(*object, {"flags", "reason"});
  std::optional<engine::feature_flags> parsed;
  std::string flags_problem;
  if (const json::value* flags = object->if_contains("flags"); flags == nullptr) {
    problems.push_back({"flags", "missing"});
  } else if (!flags->is_object()) {
    problems.push_back({"flags", "not_an_object"});
  } else if (auto f = compliance::parse_flags(json::serialize(*flags)); !f) {
    problems.push_back({"flags", "invalid"});
    flags_problem = f.error();
  } else {
    parsed = std::move(f).value();
  }
  auto reason = reason_of(object->if_contains("reason"));
  if (auto* problem = std::get_if<field_problem>(&reason)) problems.push_back(*problem);
  if (!problems.empty()) {
    problem p = invalid_request(std::move(problems));
    // The parser names the flag and its problem ("currency.EUR: must be true or false").
    if (!flags_problem.empty()) p.detail += " (" + flags_problem + ")";
    reply_problem(x, p);
    return;
  }
  const auto old = ports.flags();
  actors::audit_entry entry;
  entry.principal = actors::recorded_principal(x->who.subject);
  entry.action = "flags_changed";
  entry.target = "flags";
  entry.reason = std::get<std::string>(std::move(reason));
  entry.trace_id = x->trace.trace_id;
  entry.details.emplace_back("old", compliance::describe(*old));
  entry.details.emplace_back("new", compliance::describe(*parsed));
  auto next = std::make_shared<const engine::feature_flags>(std::move(*parsed));
  ports.admin->append_audit(
      std::move(entry), [self = shared_from_this(), x, next](const read_result<std::int64_t>& id) {
        if (!id) {
          self->reply_read_error(x, id.error());  // not recorded: not in force
          return;
        }
        self->ports.set_flags(next);
        json::object body;
        body["flags"] = json::parse(compliance::encode_flags(*next));
        body["audit_id"] = id.value();
        self->reply_json(x, status::ok, json::serialize(body));
      });
}

}  // namespace wallet::http
