// The API's internals shared by its three source files: the state of one request (an exchange)
// and the implementation object with the route handlers. Internal to the adapter.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wallet/actors/lru.hpp"
#include "wallet/auth/auth.hpp"
#include "wallet/engine/currency.hpp"
#include "wallet/http/api.hpp"
#include "wallet/http/problem.hpp"
#include "wallet/http/router.hpp"
#include "wallet/http/trace.hpp"
#include "wallet/postgres/audit.hpp"
#include "wallet/postgres/reviews.hpp"

namespace wallet::http {

// What a route needs of the caller.
enum class access : std::uint8_t {
  open,   // no authentication; rate-limited by client address
  read,   // the read role (admin implies it)
  write,  // the write role (admin implies it)
  admin,  // the admin role
};

// One request in flight: everything its asynchronous steps share.
struct exchange {
  request req;
  responder respond;
  trace_context trace;
  std::string route = "unmatched";  // the route's pattern: a bounded label
  std::string path;                 // the request's path, for a problem's `instance`
  path_params params;
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  auth::principal who;
  std::optional<auth::rate_decision> rate;
  std::string audit_reason;  // an administrative command's reason, for its audit record
};
using exchange_ptr = std::shared_ptr<exchange>;

// What authorization needs to know about a wallet; neither ever changes once it is opened.
struct wallet_meta {
  std::string owner;
  engine::currency ccy;
};

struct api::impl : std::enable_shared_from_this<api::impl> {
  using handler_fn = void (impl::*)(const exchange_ptr&);
  struct route_entry {
    access needs;
    handler_fn handle;
  };

  impl(api_settings s, api_ports p);

  // ---- dispatch (api.cpp) --------------------------------------------------------------------
  void handle(request req, responder respond);
  void authenticate_and_run(const exchange_ptr& x, const route_entry& entry);
  [[nodiscard]] static bool allowed(const auth::principal& who, access needs);
  [[nodiscard]] static bool privileged(const auth::principal& who);
  [[nodiscard]] static response problem_response(const exchange_ptr& x, const problem& p);
  void reply(const exchange_ptr& x, response r, std::string_view code = {});
  void reply_json(const exchange_ptr& x, status s, std::string body);
  void reply_problem(const exchange_ptr& x, const problem& p);
  void reply_read_error(const exchange_ptr& x, const read_error& e);

  // The wallet's owner and currency (cached), checked against the caller: `then` runs only when
  // the caller may act on the wallet; otherwise the request is answered (403, 404 or 503).
  void with_wallet(const exchange_ptr& x, const std::string& wallet_id,
                   std::function<void(const wallet_meta&)> then);
  void remember(const std::string& wallet_id, const wallet_meta& meta);
  [[nodiscard]] std::optional<wallet_meta> recall(const std::string& wallet_id);
  // Whether the caller may act on a wallet of `owner`; answers 403 when not.
  bool check_owner(const exchange_ptr& x, const std::string& owner);

  // ---- commands (api_commands.cpp) -----------------------------------------------------------
  void open_wallet(const exchange_ptr& x);
  void deposit(const exchange_ptr& x);
  void withdraw(const exchange_ptr& x);
  void transfer(const exchange_ptr& x);
  void place_hold(const exchange_ptr& x);
  void capture_hold(const exchange_ptr& x);
  void release_hold(const exchange_ptr& x);
  // Decodes the body as the fields of `type` on the path's wallet, checks them and the caller,
  // submits, and answers with the outcome.
  void run_command(const exchange_ptr& x, std::string_view type);
  void submit(const exchange_ptr& x, engine::command cmd);
  void answer_outcome(const exchange_ptr& x, const engine::command& cmd,
                      actors::submit_outcome out);

  // ---- administration (api_admin.cpp) --------------------------------------------------------
  void freeze(const exchange_ptr& x);
  void unfreeze(const exchange_ptr& x);
  void close(const exchange_ptr& x);
  void set_kyc_level(const exchange_ptr& x);
  void list_audit(const exchange_ptr& x);
  void wallet_audit(const exchange_ptr& x);
  void put_profile(const exchange_ptr& x);
  void get_profile(const exchange_ptr& x);
  void erase_profile(const exchange_ptr& x);
  // Feature flags at run time: read, and replaced whole with a reason (audited first).
  void get_flags(const exchange_ptr& x);
  void put_flags(const exchange_ptr& x);
  // AML reviews (ADR 0009).
  void list_reviews(const exchange_ptr& x);
  void get_review(const exchange_ptr& x);
  void decide_review(const exchange_ptr& x);
  void answer_decision(const exchange_ptr& x, const postgres::review_row& review, bool approve,
                       actors::submit_outcome out);
  // Checks the body's `reason` (answering 400 when it is missing or bad), keeps it for the audit
  // record, then runs the command `type` like run_command.
  void admin_command(const exchange_ptr& x, std::string_view type);
  // Whether the caller has the admin or service role; answers 403 when not.
  bool check_privileged(const exchange_ptr& x);
  // Whether the admin port is there; answers 503 when not.
  bool admin_ready(const exchange_ptr& x);
  // 503 unavailable with Retry-After: "<what> not configured" (what: "run-time flags are").
  void reply_unconfigured(const exchange_ptr& x, std::string_view what);
  void merge_timeline(const exchange_ptr& x, const std::string& wallet_id, std::int64_t after_audit,
                      std::int64_t after_seq, std::size_t limit,
                      const std::vector<postgres::audit_row>& rows,
                      const std::vector<engine::event>& events, engine::currency ccy);

  // ---- reads (api_reads.cpp) -----------------------------------------------------------------
  void get_wallet(const exchange_ptr& x);
  void list_wallets(const exchange_ptr& x);
  void history(const exchange_ptr& x);
  void get_outcome(const exchange_ptr& x);
  void get_transfer(const exchange_ptr& x);
  void get_hold(const exchange_ptr& x);
  void openapi(const exchange_ptr& x);
  void live(const exchange_ptr& x);
  void ready(const exchange_ptr& x);
  void metrics(const exchange_ptr& x);

  api_settings settings;
  api_ports ports;
  router routes;
  std::vector<route_entry> entries;  // by route index

  std::mutex cache_mutex;
  actors::lru_map<wallet_meta> owners;  // bounded by settings.owner_cache_max
};

// The path's parameter `name` as an id of at most `length_max` bytes; on a bad one the request is
// answered 400 and nothing is returned.
[[nodiscard]] std::optional<std::string> path_id(api::impl& self, const exchange_ptr& x,
                                                 std::string_view name, std::size_t length_max);

}  // namespace wallet::http
