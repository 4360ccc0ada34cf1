// The API's dispatch: routing, authentication, roles, rate limits and answering; the route
// handlers are in api_commands.cpp and api_reads.cpp.
#include "wallet/http/api.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

#include "api_internal.hpp"
#include "wallet/engine/assert.hpp"

namespace wallet::http {
namespace {

using field = boost::beast::http::field;

struct route_spec {
  verb method;
  std::string_view pattern;
  access needs;
  api::impl::handler_fn handle;
};

// Every route of the API. docs/openapi.json must list exactly these (a unit test compares them).
const std::array<route_spec, 31>& route_table() {
  using i = api::impl;
  static const std::array<route_spec, 31> table{{
      {verb::post, "/v1/wallets", access::write, &i::open_wallet},
      {verb::get, "/v1/wallets", access::read, &i::list_wallets},
      {verb::get, "/v1/wallets/{wallet_id}", access::read, &i::get_wallet},
      {verb::post, "/v1/wallets/{wallet_id}/deposits", access::write, &i::deposit},
      {verb::post, "/v1/wallets/{wallet_id}/withdrawals", access::write, &i::withdraw},
      {verb::post, "/v1/wallets/{wallet_id}/transfers", access::write, &i::transfer},
      {verb::get, "/v1/wallets/{wallet_id}/transfers/{transfer_id}", access::read,
       &i::get_transfer},
      {verb::post, "/v1/wallets/{wallet_id}/holds", access::write, &i::place_hold},
      {verb::get, "/v1/wallets/{wallet_id}/holds/{hold_id}", access::read, &i::get_hold},
      {verb::post, "/v1/wallets/{wallet_id}/holds/{hold_id}/capture", access::write,
       &i::capture_hold},
      {verb::post, "/v1/wallets/{wallet_id}/holds/{hold_id}/release", access::write,
       &i::release_hold},
      {verb::post, "/v1/wallets/{wallet_id}/freeze", access::admin, &i::freeze},
      {verb::post, "/v1/wallets/{wallet_id}/unfreeze", access::admin, &i::unfreeze},
      {verb::post, "/v1/wallets/{wallet_id}/close", access::admin, &i::close},
      // Admin or service: checked by the handler.
      {verb::post, "/v1/wallets/{wallet_id}/kyc", access::read, &i::set_kyc_level},
      {verb::get, "/v1/admin/audit", access::admin, &i::list_audit},
      {verb::get, "/v1/admin/flags", access::admin, &i::get_flags},
      {verb::put, "/v1/admin/flags", access::admin, &i::put_flags},
      {verb::get, "/v1/admin/aml/reviews", access::admin, &i::list_reviews},
      {verb::get, "/v1/admin/aml/reviews/{review_id}", access::admin, &i::get_review},
      {verb::post, "/v1/admin/aml/reviews/{review_id}/decision", access::admin, &i::decide_review},
      {verb::get, "/v1/admin/audit/wallets/{wallet_id}", access::admin, &i::wallet_audit},
      {verb::get, "/v1/admin/owners/{owner_id}/profile", access::read, &i::get_profile},
      {verb::put, "/v1/admin/owners/{owner_id}/profile", access::read, &i::put_profile},
      {verb::delete_, "/v1/admin/owners/{owner_id}/profile", access::read, &i::erase_profile},
      {verb::get, "/v1/wallets/{wallet_id}/events", access::read, &i::history},
      {verb::get, "/v1/wallets/{wallet_id}/outcomes/{idempotency_key}", access::read,
       &i::get_outcome},
      {verb::get, "/v1/openapi.json", access::open, &i::openapi},
      {verb::get, "/health/live", access::open, &i::live},
      {verb::get, "/health/ready", access::open, &i::ready},
      {verb::get, "/metrics", access::open, &i::metrics},
  }};
  return table;
}

std::string_view header_of(const request& req, field f) {
  const auto it = req.message.find(f);
  return it == req.message.end() ? std::string_view{} : std::string_view{it->value()};
}

std::string_view role_name(access a) {
  switch (a) {
    case access::read:
      return "read";
    case access::write:
      return "write";
    case access::admin:
      return "admin";
    case access::open:
      break;
  }
  return "none";
}

// Takes one token from `key`'s bucket; answers 429 and returns false when there is none.
bool take_token(api::impl& self, const exchange_ptr& x, auth::rate_limiter* limiter,
                std::string_view key) {
  if (limiter == nullptr) return true;
  const auth::rate_decision d = limiter->take(key, std::chrono::steady_clock::now());
  x->rate = d;
  if (d.allowed) return true;
  problem p = make_problem("rate_limited");
  p.retry_after = std::max(d.retry_after, std::chrono::seconds{1});
  self.reply_problem(x, p);
  return false;
}

}  // namespace

api::impl::impl(api_settings s, api_ports p) : settings(s), ports(std::move(p)) {
  WALLET_ASSERT(ports.authenticator != nullptr);
  WALLET_ASSERT(ports.submit && ports.reads && ports.metrics_text);
  if (!ports.events) ports.events = std::make_shared<probe>();
  for (const route_spec& r : route_table()) {
    const std::size_t index = routes.add(r.method, r.pattern);
    WALLET_ASSERT(index == entries.size());
    entries.push_back(route_entry{r.needs, r.handle});
  }
}

void api::impl::handle(request req, responder respond) {
  auto x = std::make_shared<exchange>();
  x->req = std::move(req);
  x->respond = std::move(respond);
  const auto traceparent = x->req.message.find("traceparent");
  x->trace =
      trace_for(traceparent == x->req.message.end() ? std::string_view{}
                                                    : std::string_view{traceparent->value()});
  const auto target = boost::urls::parse_origin_form(x->req.message.target());
  if (!target) {
    reply_problem(x, make_problem("bad_request", "the request target is not a valid path"));
    return;
  }
  x->path = target->path();
  std::vector<std::string> segments;
  for (const auto& s : target->segments()) segments.emplace_back(s);
  for (const auto& q : target->params()) x->query.emplace_back(q.key, q.value);
  route_match m = routes.find(x->req.message.method(), segments);
  if (m.what != route_match::kind::found) {
    // Unknown paths cost a token from the address's bucket: scanning is rate-limited too.
    if (!take_token(*this, x, ports.address_limits, x->req.remote_address)) return;
    if (m.what == route_match::kind::no_path) {
      reply_problem(x, make_problem("not_found", "no route for this path"));
      return;
    }
    const problem p = make_problem("method_not_allowed", "this path accepts " + m.allow);
    response r = problem_response(x, p);
    r.set(field::allow, m.allow);
    reply(x, std::move(r), p.code);
    return;
  }
  x->route = routes.routes()[m.route].pattern;
  x->params = std::move(m.params);
  authenticate_and_run(x, entries[m.route]);
}

void api::impl::authenticate_and_run(const exchange_ptr& x, const route_entry& entry) {
  if (entry.needs == access::open) {
    if (take_token(*this, x, ports.address_limits, x->req.remote_address)) (this->*entry.handle)(x);
    return;
  }
  auto who = ports.authenticator->authenticate(header_of(x->req, field::authorization),
                                               std::chrono::system_clock::now());
  if (!who) {
    // Failed attempts spend the address's tokens: guessing tokens is rate-limited.
    if (!take_token(*this, x, ports.address_limits, x->req.remote_address)) return;
    const problem p = from_auth(who.error(), settings.retry_after);
    response r = problem_response(x, p);
    if (p.code_status == status::unauthorized) {
      r.set(field::www_authenticate,
            who.error() == auth::auth_errc::missing
                ? R"(Bearer realm="wallet-engine")"
                : R"(Bearer realm="wallet-engine", error="invalid_token")");
    }
    reply(x, std::move(r), p.code);
    return;
  }
  x->who = std::move(who).value();
  if (!take_token(*this, x, ports.principal_limits, x->who.subject)) return;
  if (!allowed(x->who, entry.needs)) {
    reply_problem(x, make_problem("forbidden", "this needs the " +
                                                   std::string(role_name(entry.needs)) + " role"));
    return;
  }
  (this->*entry.handle)(x);
}

bool api::impl::allowed(const auth::principal& who, access needs) {
  const bool admin = who.has(auth::role::admin);
  switch (needs) {
    case access::open:
      return true;
    case access::read:
      return admin || who.has(auth::role::read);
    case access::write:
      return admin || who.has(auth::role::write);
    case access::admin:
      return admin;
  }
  return false;
}

bool api::impl::privileged(const auth::principal& who) {
  return who.has(auth::role::admin) || who.has(auth::role::service);
}

response api::impl::problem_response(const exchange_ptr& x, const problem& p) {
  response r;
  r.result(p.code_status);
  r.set(field::content_type, problem_content_type);
  if (p.retry_after) r.set(field::retry_after, std::to_string(p.retry_after->count()));
  r.body() = problem_body(p, x->path, x->trace.trace_id);
  return r;
}

void api::impl::reply(const exchange_ptr& x, response r, std::string_view code) {
  if (x->rate) {
    r.set("RateLimit-Limit", std::to_string(x->rate->limit));
    r.set("RateLimit-Remaining", std::to_string(x->rate->remaining));
    r.set("RateLimit-Reset", std::to_string(x->rate->reset.count()));
  }
  r.version(x->req.message.version());
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - x->req.received);
  const std::string method{x->req.message.method_string()};
  ports.events->answered(
      request_record{method, x->route, r.result_int(), code, latency, x->trace.trace_id});
  x->respond(std::move(r));
}

void api::impl::reply_json(const exchange_ptr& x, status s, std::string body) {
  response r;
  r.result(s);
  r.set(field::content_type, "application/json");
  r.body() = std::move(body);
  reply(x, std::move(r));
}

void api::impl::reply_problem(const exchange_ptr& x, const problem& p) {
  response r = problem_response(x, p);
  reply(x, std::move(r), p.code);
}

void api::impl::reply_read_error(const exchange_ptr& x, const read_error& e) {
  problem p =
      make_problem(e.code == read_errc::overloaded ? "overloaded" : "unavailable",
                   e.code == read_errc::overloaded ? "too many reads are waiting; retry later"
                                                   : "the database cannot be read; retry later");
  p.retry_after = settings.retry_after;
  reply_problem(x, p);
}

void api::impl::remember(const std::string& wallet_id, const wallet_meta& meta) {
  if (settings.owner_cache_max == 0) return;
  const std::lock_guard lock{cache_mutex};
  if (wallet_meta* known = owners.touch(wallet_id)) {
    *known = meta;
    return;
  }
  if (owners.size() >= settings.owner_cache_max) {
    owners.pop_coldest([](const wallet_meta&) { return true; }, 1);
  }
  owners.insert(wallet_id, meta);
}

std::optional<wallet_meta> api::impl::recall(const std::string& wallet_id) {
  const std::lock_guard lock{cache_mutex};
  if (const wallet_meta* known = owners.touch(wallet_id)) return *known;
  return std::nullopt;
}

bool api::impl::check_owner(const exchange_ptr& x, const std::string& owner) {
  if (privileged(x->who) || owner == x->who.subject) return true;
  reply_problem(x, make_problem("not_wallet_owner"));
  return false;
}

void api::impl::with_wallet(const exchange_ptr& x, const std::string& wallet_id,
                            std::function<void(const wallet_meta&)> then) {
  if (auto meta = recall(wallet_id)) {
    if (check_owner(x, meta->owner)) then(*meta);
    return;
  }
  ports.reads->wallet(
      wallet_id, [self = shared_from_this(), x, wallet_id, then = std::move(then)](
                     const read_result<std::optional<engine::wallet_state>>& found) {
        if (!found) {
          self->reply_read_error(x, found.error());
          return;
        }
        if (!found.value()) {
          self->reply_problem(x, from_rejection(engine::rejection::wallet_not_found));
          return;
        }
        const wallet_meta meta{found.value()->owner, found.value()->ccy};
        self->remember(wallet_id, meta);
        if (self->check_owner(x, meta.owner)) then(meta);
      });
}

std::optional<std::string> path_id(api::impl& self, const exchange_ptr& x, std::string_view name,
                                   std::size_t length_max) {
  const std::string& value = x->params.at(name);
  if (engine::is_valid_id(value, length_max)) return value;
  self.reply_problem(x, invalid_request({{std::string(name), "invalid_id"}}));
  return std::nullopt;
}

api::api(api_settings settings, api_ports ports)
    : impl_(std::make_shared<impl>(settings, std::move(ports))) {}

api::~api() = default;

void api::handle(request req, responder respond) {
  impl_->handle(std::move(req), std::move(respond));
}

const router& api::routes() const noexcept { return impl_->routes; }

std::vector<std::string> api::route_patterns() {
  std::vector<std::string> out;
  for (const route_spec& r : route_table()) {
    if (std::find(out.begin(), out.end(), r.pattern) == out.end()) out.emplace_back(r.pattern);
  }
  return out;
}

}  // namespace wallet::http
