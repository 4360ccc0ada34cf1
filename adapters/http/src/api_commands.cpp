// The API's commands: a request's body is decoded with the wire codec (the same rules as NATS),
// checked, authorized against the wallet's owner, submitted to the runtime with the request's
// trace context, and answered with the committed outcome. A repeat of an Idempotency-Key is
// answered from the engine's record of it, so it returns the original status and body.
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/system/error_code.hpp>
#include <cctype>

#include "api_internal.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/overloaded.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::http {
namespace {

namespace json = boost::json;
using field = boost::beast::http::field;
using nats::field_problem;

// Bytes reserved for an outcome's JSON answer before it is written.
constexpr std::size_t outcome_body_reserve = 512;

bool is_json_media_type(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  constexpr std::string_view json_type = "application/json";
  if (media.size() != json_type.size()) return false;
  for (std::size_t i = 0; i < media.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != json_type[i]) return false;
  }
  return true;
}

// The body as a JSON object ("{}" when empty); otherwise the request is answered (415 or 400).
std::optional<json::object> body_object(api::impl& self, const exchange_ptr& x) {
  const std::string& body = x->req.message.body();
  if (body.empty()) return json::object{};
  const auto type = x->req.message.find(field::content_type);
  if (type == x->req.message.end() || !is_json_media_type(type->value())) {
    self.reply_problem(x, make_problem("unsupported_media_type",
                                       "send the body as Content-Type: application/json"));
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec) {
    self.reply_problem(x, make_problem("malformed_json", "malformed JSON: " + ec.message()));
    return std::nullopt;
  }
  if (!value.is_object()) {
    self.reply_problem(x, invalid_request({{"", "not_an_object"}}));
    return std::nullopt;
  }
  return std::move(value.get_object());
}

std::optional<std::string> idempotency_key(api::impl& self, const exchange_ptr& x) {
  const auto it = x->req.message.find("Idempotency-Key");
  std::string_view problem;
  if (it == x->req.message.end()) {
    problem = "missing";
  } else if (!engine::is_valid_id(it->value(), engine::idempotency_key_length_max)) {
    problem = "invalid_id";
  } else if (it->value().starts_with(actors::system_key_prefix)) {
    problem = "reserved_prefix";
  } else {
    return std::string(it->value());
  }
  self.reply_problem(x, invalid_request({{"Idempotency-Key", std::string(problem)}}));
  return std::nullopt;
}

void check_amount(std::vector<field_problem>& out, std::string_view name, std::int64_t minor) {
  if (minor <= 0) {
    out.push_back({std::string(name), "not_positive"});
  } else if (minor > engine::amount_minor_max) {
    out.push_back({std::string(name), "too_large"});
  }
}

void check_id(std::vector<field_problem>& out, std::string_view name, std::string_view id,
              std::size_t length_max) {
  if (!engine::is_valid_id(id, length_max)) out.push_back({std::string(name), "invalid_id"});
}

void check_reason(std::vector<field_problem>& out, std::string_view reason) {
  if (reason.empty() || reason.size() > engine::reason_length_max) {
    out.push_back({"reason", "invalid_length"});
  }
}

// What the wire codec leaves to the engine but an API answers as a bad request: ids, positive
// amounts within the engine's bounds, reasons. The engine checks them again (defence in depth).
std::vector<field_problem> check_fields(const engine::command_body& body) {
  std::vector<field_problem> out;
  std::visit(engine::overloaded{
                 [&](const engine::open_wallet& c) {
                   check_id(out, "owner", c.owner, engine::owner_id_length_max);
                   if (c.overdraft_limit > engine::overdraft_limit_max) {
                     out.push_back({"overdraft_limit", "too_large"});
                   }
                 },
                 [&](const engine::deposit& c) { check_amount(out, "amount", c.amount.minor); },
                 [&](const engine::withdraw& c) { check_amount(out, "amount", c.amount.minor); },
                 [&](const engine::transfer_debit& c) {
                   check_id(out, "transfer_id", c.transfer_id, engine::transfer_id_length_max);
                   check_id(out, "destination", c.destination, engine::wallet_id_length_max);
                   check_amount(out, "amount", c.amount.minor);
                 },
                 [&](const engine::hold_place& c) {
                   check_id(out, "hold_id", c.hold_id, engine::hold_id_length_max);
                   check_amount(out, "amount", c.amount.minor);
                 },
                 [&](const engine::hold_capture& c) {
                   if (c.amount) check_amount(out, "amount", c.amount->minor);
                 },
                 [&](const engine::freeze& c) { check_reason(out, c.reason); },
                 [&](const engine::unfreeze& c) { check_reason(out, c.reason); },
                 [](const auto&) {},
             },
             body);
  return out;
}

// Decodes `object` as the fields of `type`; answers 400 with every problem (`early` first).
std::optional<engine::command_body> decode(api::impl& self, const exchange_ptr& x,
                                           std::string_view type, const json::object& object,
                                           std::vector<field_problem> early) {
  auto body = nats::decode_command_fields(type, object);
  if (!body) {
    early.insert(early.end(), body.error().fields.begin(), body.error().fields.end());
  } else {
    auto more = check_fields(body.value());
    early.insert(early.end(), more.begin(), more.end());
  }
  if (!early.empty()) {
    self.reply_problem(x, invalid_request(std::move(early)));
    return std::nullopt;
  }
  return std::move(body).value();
}

// Where a created resource lives, and the status that says so.
std::pair<status, std::string> created(const engine::command& cmd) {
  const std::string wallet = "/v1/wallets/" + cmd.wallet_id;
  return std::visit(
      engine::overloaded{
          [&](const engine::open_wallet&) {
            return std::pair{status::created, wallet};
          },
          // The saga completes later: the transfer's status tells when.
          [&](const engine::transfer_debit& c) {
            return std::pair{status::accepted, wallet + "/transfers/" + c.transfer_id};
          },
          [&](const engine::hold_place& c) {
            return std::pair{status::created, wallet + "/holds/" + c.hold_id};
          },
          [](const auto&) {
            return std::pair{status::ok, std::string{}};
          },
      },
      cmd.body);
}

void reply_accepted(api::impl& self, const exchange_ptr& x, const engine::command& cmd,
                    const actors::submit_outcome& out) {
  auto [code, location] = created(cmd);
  // Held for an AML review (ADR 0009): accepted for processing, decided later by an admin.
  if (const std::string_view review = nats::review_of(out); !review.empty()) {
    code = status::accepted;
    location = "/v1/admin/aml/reviews/" + std::string(review);
  }
  response r;
  r.result(code);
  r.set(field::content_type, "application/json");
  if (!location.empty()) r.set(field::location, location);
  if (out.replayed) r.set("Idempotent-Replayed", "true");
  // Written straight into the body: no tree, no intermediate string; room for a usual outcome
  // at once (a transfer's is about 400 bytes), not grown by doubling from nothing.
  r.body().reserve(outcome_body_reserve);
  nats::append_outcome(r.body(),
                       nats::outcome_view{cmd.wallet_id, cmd.idempotency_key, {}, out.ccy, out});
  self.reply(x, std::move(r));
}

}  // namespace

void api::impl::run_command(const exchange_ptr& x, std::string_view type) {
  auto key = idempotency_key(*this, x);
  if (!key) return;
  auto wallet = path_id(*this, x, "wallet_id", engine::wallet_id_length_max);
  if (!wallet) return;
  auto object = body_object(*this, x);
  if (!object) return;
  std::vector<field_problem> early;
  // The hold routes name their hold in the path; the body must not name it again.
  if (type == "hold_capture" || type == "hold_release") {
    auto hold = path_id(*this, x, "hold_id", engine::hold_id_length_max);
    if (!hold) return;
    if (object->contains("hold_id")) early.push_back({"hold_id", "unknown_field"});
    (*object)["hold_id"] = *hold;
  }
  auto body = decode(*this, x, type, *object, std::move(early));
  if (!body) return;
  engine::command cmd{std::move(*wallet), std::move(*key), std::move(*body)};
  if (privileged(x->who)) {
    submit(x, std::move(cmd));
    return;
  }
  // A known wallet (the usual case) is checked and submitted here, without wrapping the command
  // in a callback for a read.
  if (auto meta = recall(cmd.wallet_id)) {
    if (check_owner(x, meta->owner)) submit(x, std::move(cmd));
    return;
  }
  const std::string id = cmd.wallet_id;
  with_wallet(x, id, [self = shared_from_this(), x, cmd = std::move(cmd)](const wallet_meta&) {
    self->submit(x, cmd);
  });
}

void api::impl::open_wallet(const exchange_ptr& x) {
  auto key = idempotency_key(*this, x);
  if (!key) return;
  auto object = body_object(*this, x);
  if (!object) return;
  // The new wallet's id is in the body (there is no wallet in the path yet).
  std::vector<field_problem> early;
  std::string wallet_id;
  if (const json::value* id = object->if_contains("wallet_id"); id == nullptr) {
    early.push_back({"wallet_id", "missing"});
  } else if (!id->is_string()) {
    early.push_back({"wallet_id", "not_a_string"});
  } else {
    wallet_id = std::string(id->get_string());
    check_id(early, "wallet_id", wallet_id, engine::wallet_id_length_max);
  }
  object->erase("wallet_id");
  // An owner opens wallets for themself: the owner defaults to the caller.
  if (!object->contains("owner")) (*object)["owner"] = x->who.subject;
  auto body = decode(*this, x, "open_wallet", *object, std::move(early));
  if (!body) return;
  const auto& open = std::get<engine::open_wallet>(*body);
  if (!privileged(x->who)) {
    if (open.owner != x->who.subject) {
      reply_problem(x,
                    make_problem("not_wallet_owner", "a wallet can be opened only for the caller"));
      return;
    }
    if (open.overdraft_limit > 0) {
      reply_problem(x,
                    make_problem("forbidden", "only admin or service callers grant an overdraft"));
      return;
    }
  }
  submit(x, engine::command{std::move(wallet_id), std::move(*key), std::move(*body)});
}

void api::impl::deposit(const exchange_ptr& x) { run_command(x, "deposit"); }
void api::impl::withdraw(const exchange_ptr& x) { run_command(x, "withdraw"); }
void api::impl::transfer(const exchange_ptr& x) { run_command(x, "transfer"); }
void api::impl::place_hold(const exchange_ptr& x) { run_command(x, "hold_place"); }
void api::impl::capture_hold(const exchange_ptr& x) { run_command(x, "hold_capture"); }
void api::impl::release_hold(const exchange_ptr& x) { run_command(x, "hold_release"); }

void api::impl::submit(const exchange_ptr& x, engine::command cmd) {
  actors::command_context context{{}, x->trace.traceparent()};
  // Who asks for an administrative command and why: the wallet actor builds its audit record.
  if (actors::is_administrative(cmd.body)) {
    context.audit = actors::audit_context{x->who.subject, x->audit_reason};
  }
  engine::command copy = cmd;
  // The engine calls back on one of its own threads: it only hands the outcome over, and the
  // answer is rendered, logged, counted and written on the connection's thread, so that the
  // engine's threads are left to the actors.
  ports.submit(
      std::move(copy), std::move(context),
      [self = shared_from_this(), x, cmd = std::move(cmd)](actors::submit_outcome out) mutable {
        x->respond.run_on_connection(
            [self = std::move(self), x, cmd = std::move(cmd), out = std::move(out)]() mutable {
              self->answer_outcome(x, cmd, std::move(out));
            });
      });
}

void api::impl::answer_outcome(const exchange_ptr& x, const engine::command& cmd,
                               actors::submit_outcome out) {
  if (out.error) {
    reply_problem(x, from_refusal(*out.error, settings.retry_after));
    return;
  }
  if (out.result.rejected) {
    problem p = from_rejection(*out.result.rejected, settings.retry_after);
    p.extensions["wallet_id"] = cmd.wallet_id;
    p.extensions["idempotency_key"] = cmd.idempotency_key;
    p.extensions["replayed"] = out.replayed;
    p.extensions["version"] = out.result.seq;
    reply_problem(x, p);
    return;
  }
  if (const auto* open = std::get_if<engine::open_wallet>(&cmd.body)) {
    remember(cmd.wallet_id, wallet_meta{open->owner, open->ccy});
  }
  if (!out.replayed || out.event) {
    reply_accepted(*this, x, cmd, out);
    return;
  }
  // A repeat: the engine kept the outcome, the event is in the log. Without it the answer still
  // holds every balance, so a failed read only leaves the event out.
  ports.reads->outcome(
      cmd.wallet_id, cmd.idempotency_key,
      [self = shared_from_this(), x, cmd, out = std::move(out)](
          const read_result<std::optional<postgres::stored_outcome>>& stored) mutable {
        if (stored && stored.value() && stored.value()->event &&
            stored.value()->record.result == out.result) {
          out.event = stored.value()->event;
        }
        reply_accepted(*self, x, cmd, out);
      });
}

}  // namespace wallet::http
