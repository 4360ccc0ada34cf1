// The API's reads (wallets, lists, history, outcomes, transfers, holds) and its operational
// routes (/health/live, /health/ready, /metrics, the OpenAPI document). Reads go through the read
// port, never blocking a server thread; money is written as decimal strings by the wire codec.
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "api_internal.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/overloaded.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::http {
namespace {

namespace json = boost::json;
using nats::field_problem;

// JSON texts (each one value) as an array.
std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  out += ']';
  return out;
}

std::string json_text(std::string_view text) { return json::serialize(json::value(text)); }

// The query's parameters when each is one of `known` and appears once; else answers 400.
std::optional<std::vector<std::pair<std::string, std::string>>> query_of(
    api::impl& self, const exchange_ptr& x, std::initializer_list<std::string_view> known) {
  std::vector<field_problem> problems;
  for (std::size_t i = 0; i < x->query.size(); ++i) {
    const std::string& name = x->query[i].first;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      problems.push_back({name, "unknown_parameter"});
      continue;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (x->query[j].first == name) problems.push_back({name, "repeated"});
    }
  }
  if (!problems.empty()) {
    self.reply_problem(x, invalid_request(std::move(problems)));
    return std::nullopt;
  }
  return x->query;
}

const std::string* find_param(const std::vector<std::pair<std::string, std::string>>& query,
                              std::string_view name) {
  for (const auto& [key, value] : query) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::optional<std::uint64_t> unsigned_of(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// limit=1..page_limit_max, default page_limit_default (within the maximum).
std::optional<std::size_t> page_limit(std::vector<field_problem>& problems,
                                      const std::vector<std::pair<std::string, std::string>>& q,
                                      std::size_t limit_max) {
  const std::string* text = find_param(q, "limit");
  if (text == nullptr) return std::min(page_limit_default, limit_max);
  const auto value = unsigned_of(*text);
  if (!value) {
    problems.push_back({"limit", "not_an_integer"});
  } else if (*value < 1 || *value > limit_max) {
    problems.push_back({"limit", "out_of_range"});
  } else {
    return static_cast<std::size_t>(*value);
  }
  return std::nullopt;
}

json::object transfer_object(const postgres::transfer_record& t) {
  json::object o;
  o["transfer_id"] = t.id;
  o["source"] = t.source;
  o["destination"] = t.destination;
  o["currency"] = t.amount.ccy.code();
  o["amount"] = engine::format_amount(t.amount.minor, t.amount.ccy.exponent());
  o["status"] = postgres::to_string(t.status);
  // Held for an AML review, or its review ended without it leaving (ADR 0009).
  if (!t.review_id.empty()) o["review_id"] = t.review_id;
  o["created_at"] = nats::format_rfc3339(t.created_at);
  o["updated_at"] = nats::format_rfc3339(t.updated_at);
  return o;
}

// A hold from its events: the placement, then what ended it, if anything has.
json::object hold_object(const std::string& wallet_id, const std::vector<engine::event>& events,
                         engine::currency ccy) {
  const auto money = [ccy](std::int64_t minor) {
    return engine::format_amount(minor, ccy.exponent());
  };
  json::object o;
  o["wallet_id"] = wallet_id;
  o["status"] = "open";
  o["currency"] = ccy.code();
  for (const engine::event& e : events) {
    std::visit(engine::overloaded{
                   [&](const engine::hold_placed& h) {
                     o["hold_id"] = h.hold_id;
                     o["amount"] = money(h.amount);
                     o["expires_at"] = nats::format_rfc3339(h.expires_at);
                     o["placed_seq"] = e.seq;
                   },
                   [&](const engine::hold_captured& h) {
                     o["status"] = "captured";
                     o["captured"] = money(h.captured);
                     o["released"] = money(h.released);
                     o["ended_seq"] = e.seq;
                   },
                   [&](const engine::hold_released& h) {
                     o["status"] = "released";
                     o["released"] = money(h.amount);
                     o["ended_seq"] = e.seq;
                   },
                   [&](const engine::hold_expired& h) {
                     o["status"] = "expired";
                     o["released"] = money(h.amount);
                     o["ended_seq"] = e.seq;
                   },
                   [](const auto&) {},
               },
               e.body);
  }
  return o;
}

}  // namespace

void api::impl::get_wallet(const exchange_ptr& x) {
  auto id = path_id(*this, x, "wallet_id", engine::wallet_id_length_max);
  if (!id) return;
  ports.reads->wallet(*id, [self = shared_from_this(), x, id = *id](
                               const read_result<std::optional<engine::wallet_state>>& found) {
    if (!found) {
      self->reply_read_error(x, found.error());
      return;
    }
    if (!found.value()) {
      self->reply_problem(x, from_rejection(engine::rejection::wallet_not_found));
      return;
    }
    const engine::wallet_state& w = *found.value();
    self->remember(id, wallet_meta{w.owner, w.ccy});
    if (self->check_owner(x, w.owner)) self->reply_json(x, status::ok, nats::encode_wallet(w));
  });
}

void api::impl::list_wallets(const exchange_ptr& x) {
  const auto q = query_of(*this, x, {"owner", "after", "limit"});
  if (!q) return;
  std::vector<field_problem> problems;
  const std::string* owner_param = find_param(*q, "owner");
  const std::string owner = owner_param != nullptr ? *owner_param : x->who.subject;
  if (!engine::is_valid_id(owner, engine::owner_id_length_max)) {
    problems.push_back({"owner", "invalid_id"});
  }
  const std::string* after_param = find_param(*q, "after");
  const std::string after = after_param != nullptr ? *after_param : std::string{};
  if (after_param != nullptr && !engine::is_valid_id(after, engine::wallet_id_length_max)) {
    problems.push_back({"after", "invalid_id"});
  }
  const auto limit = page_limit(problems, *q, settings.page_limit_max);
  if (!problems.empty()) {
    reply_problem(x, invalid_request(std::move(problems)));
    return;
  }
  if (!check_owner(x, owner)) return;
  ports.reads->wallets_of(
      owner, after, *limit,
      [self = shared_from_this(), x, owner,
       limit = *limit](const read_result<std::vector<engine::wallet_state>>& page) {
        if (!page) {
          self->reply_read_error(x, page.error());
          return;
        }
        std::vector<std::string> items;
        for (const engine::wallet_state& w : page.value()) {
          self->remember(w.id, wallet_meta{w.owner, w.ccy});
          items.push_back(nats::encode_wallet(w));
        }
        std::string body = R"({"owner":)" + json_text(owner) + R"(,"wallets":)" + json_array(items);
        // A full page may have a next one: its cursor is the last id.
        if (page.value().size() == limit) {
          body += R"(,"next_after":)" + json_text(page.value().back().id);
        }
        body += '}';
        self->reply_json(x, status::ok, std::move(body));
      });
}

void api::impl::history(const exchange_ptr& x) {
  auto id = path_id(*this, x, "wallet_id", engine::wallet_id_length_max);
  if (!id) return;
  const auto q = query_of(*this, x, {"after", "limit"});
  if (!q) return;
  std::vector<field_problem> problems;
  std::uint64_t after = 0;
  if (const std::string* text = find_param(*q, "after")) {
    const auto value = unsigned_of(*text);
    if (value) {
      after = *value;
    } else {
      problems.push_back({"after", "not_an_integer"});
    }
  }
  const auto limit = page_limit(problems, *q, settings.page_limit_max);
  if (!problems.empty()) {
    reply_problem(x, invalid_request(std::move(problems)));
    return;
  }
  with_wallet(
      x, *id,
      [self = shared_from_this(), x, id = *id, after, limit = *limit](const wallet_meta& meta) {
        self->ports.reads->history(
            id, after, limit,
            [self, x, id, limit,
             ccy = meta.ccy](const read_result<std::vector<engine::event>>& events) {
              if (!events) {
                self->reply_read_error(x, events.error());
                return;
              }
              std::vector<std::string> items;
              for (const engine::event& e : events.value()) {
                items.push_back(nats::encode_event(id, e, ccy));
              }
              std::string body =
                  R"({"wallet_id":)" + json_text(id) + R"(,"events":)" + json_array(items);
              if (events.value().size() == limit) {
                body += R"(,"next_after":)" + std::to_string(events.value().back().seq);
              }
              body += '}';
              self->reply_json(x, status::ok, std::move(body));
            });
      });
}

void api::impl::get_outcome(const exchange_ptr& x) {
  auto id = path_id(*this, x, "wallet_id", engine::wallet_id_length_max);
  if (!id) return;
  auto key = path_id(*this, x, "idempotency_key", engine::idempotency_key_length_max);
  if (!key) return;
  with_wallet(x, *id, [self = shared_from_this(), x, id = *id, key = *key](const wallet_meta&) {
    self->ports.reads->outcome(
        id, key, [self, x, id, key](read_result<std::optional<postgres::stored_outcome>> found) {
          if (!found) {
            self->reply_read_error(x, found.error());
            return;
          }
          if (!found.value()) {
            self->reply_problem(x, make_problem("outcome_not_found"));
            return;
          }
          postgres::stored_outcome stored = *std::move(found).value();
          actors::submit_outcome out;
          out.result = stored.record.result;
          out.event = std::move(stored.event);
          out.replayed = true;  // an answer given before, not a new decision
          out.ccy = engine::currency::from_code(stored.currency).value_or(engine::currency{});
          self->reply_json(x, status::ok,
                           nats::encode_outcome(nats::outcome_view{id, key, {}, out.ccy, out}));
        });
  });
}

void api::impl::get_transfer(const exchange_ptr& x) {
  auto id = path_id(*this, x, "wallet_id", engine::wallet_id_length_max);
  if (!id) return;
  auto transfer_id = path_id(*this, x, "transfer_id", engine::transfer_id_length_max);
  if (!transfer_id) return;
  with_wallet(
      x, *id,
      [self = shared_from_this(), x, id = *id, transfer_id = *transfer_id](const wallet_meta&) {
        self->ports.reads->transfer(
            id, transfer_id,
            [self, x](const read_result<std::optional<postgres::transfer_record>>& found) {
              if (!found) {
                self->reply_read_error(x, found.error());
              } else if (!found.value()) {
                self->reply_problem(x, make_problem("transfer_not_found"));
              } else {
                self->reply_json(x, status::ok, json::serialize(transfer_object(*found.value())));
              }
            });
      });
}

void api::impl::get_hold(const exchange_ptr& x) {
  auto id = path_id(*this, x, "wallet_id", engine::wallet_id_length_max);
  if (!id) return;
  auto hold_id = path_id(*this, x, "hold_id", engine::hold_id_length_max);
  if (!hold_id) return;
  with_wallet(
      x, *id,
      [self = shared_from_this(), x, id = *id, hold_id = *hold_id](const wallet_meta& meta) {
        self->ports.reads->hold(
            id, hold_id,
            [self, x, id, ccy = meta.ccy](const read_result<std::vector<engine::event>>& events) {
              if (!events) {
                self->reply_read_error(x, events.error());
              } else if (events.value().empty()) {
                self->reply_problem(x, from_rejection(engine::rejection::hold_not_found));
              } else {
                self->reply_json(x, status::ok,
                                 json::serialize(hold_object(id, events.value(), ccy)));
              }
            });
      });
}

void api::impl::openapi(const exchange_ptr& x) {
  reply_json(x, status::ok, std::string(api::openapi_document()));
}

void api::impl::live(const exchange_ptr& x) { reply_json(x, status::ok, R"({"status":"live"})"); }

void api::impl::ready(const exchange_ptr& x) {
  auto checks = std::make_shared<json::object>();
  auto failed = std::make_shared<std::vector<std::string>>();
  for (const readiness_check& c : ports.readiness) {
    const bool ok = c.ok();
    (*checks)[c.name] = ok ? "ok" : "failed";
    if (!ok) failed->push_back(c.name);
  }
  ports.reads->schema_version(
      [self = shared_from_this(), x, checks, failed](const read_result<int>& v) {
        if (!v) {
          (*checks)["database"] = "failed";
          (*checks)["migrations"] = "unknown";
          failed->emplace_back("database");
        } else {
          (*checks)["database"] = "ok";
          const bool current = v.value() == self->ports.schema_version_expected;
          (*checks)["migrations"] = current ? "ok" : "failed";
          if (!current) failed->emplace_back("migrations");
        }
        if (failed->empty()) {
          json::object body{{"status", "ready"}, {"checks", std::move(*checks)}};
          self->reply_json(x, status::ok, json::serialize(body));
          return;
        }
        std::string detail = "not ready:";
        for (std::size_t i = 0; i < failed->size(); ++i) {
          detail.append(i == 0 ? " " : ", ").append((*failed)[i]);
        }
        problem p = make_problem("not_ready", std::move(detail));
        p.extensions["checks"] = std::move(*checks);
        self->reply_problem(x, p);
      });
}

void api::impl::metrics(const exchange_ptr& x) {
  response r;
  r.result(status::ok);
  r.set(boost::beast::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  r.body() = ports.metrics_text();
  reply(x, std::move(r));
}

}  // namespace wallet::http
