// Test support: the engine's real wallet aggregates behind the API's two ports (submit and reads),
// in memory and synchronous, so API tests see the engine's actual decisions, idempotency included.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wallet/engine/flags.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/policy.hpp"
#include "wallet/http/api.hpp"
#include "wallet/http/read_port.hpp"

namespace wallet::http::testing {

class fake_engine final : public read_port {
 public:
  engine::timestamp now = engine::timestamp{std::chrono::seconds{1'800'000'000}};
  std::optional<actors::submit_errc> refuse;      // set: every command is refused with it
  bool reads_fail = false;                        // set: every read answers unavailable
  engine::feature_flags flags;                    // the operator's switches the engine applies
  std::vector<actors::command_context> contexts;  // of every submitted command
  int schema = 4;

  submit_fn submitter() {
    return [this](engine::command cmd, actors::command_context context,
                  std::function<void(actors::submit_outcome)> done) {
      done(submit(std::move(cmd), std::move(context)));
    };
  }

  actors::submit_outcome submit(const engine::command& cmd, actors::command_context context) {
    return decide(cmd, std::move(context), std::nullopt);
  }

  // The wallet actor's answer to a withdrawal the AML provider sent to review (ADR 0009).
  actors::submit_outcome hold_for_review(const engine::command& cmd, engine::timestamp until) {
    return decide(cmd, {}, until);
  }

  actors::submit_outcome decide(const engine::command& cmd, actors::command_context context,
                                std::optional<engine::timestamp> review_until) {
    const std::lock_guard lock{mutex_};
    contexts.push_back(std::move(context));
    if (refuse) return actors::refused(*refuse);
    auto [it, fresh] = wallets_.try_emplace(cmd.wallet_id, cmd.wallet_id, std::chrono::hours{24});
    engine::handled h = review_until
                            ? it->second.hold_for_review(cmd, now, limits_, flags, *review_until)
                            : it->second.handle(cmd, now, limits_, flags);
    actors::submit_outcome out;
    out.result = h.result;
    out.event = h.appended;
    out.replayed = h.replayed;
    out.ccy = it->second.state().ccy;
    if (h.appended) {
      events_[cmd.wallet_id].push_back(*h.appended);
      if (const auto* t = std::get_if<engine::transfer_debit>(&cmd.body)) {
        transfers_[{cmd.wallet_id, t->transfer_id}] =
            postgres::transfer_record{cmd.wallet_id,
                                      t->transfer_id,
                                      t->destination,
                                      t->amount,
                                      postgres::transfer_status::pending,
                                      now,
                                      now};
      }
    }
    if (h.remembered) {
      outcomes_[{cmd.wallet_id, cmd.idempotency_key}] = postgres::stored_outcome{
          engine::idempotency_record{engine::fingerprint(cmd), h.result, now},
          std::string(out.ccy.is_none() ? "" : out.ccy.code()), h.appended};
    }
    return out;
  }

  void wallet(std::string id, read_callback<std::optional<engine::wallet_state>> done) override {
    if (reads_fail) return done(read_error{read_errc::unavailable, "down"});
    done(find(id));
  }
  void wallets_of(std::string owner, std::string after, std::size_t limit,
                  read_callback<std::vector<engine::wallet_state>> done) override {
    if (reads_fail) return done(read_error{read_errc::unavailable, "down"});
    std::vector<engine::wallet_state> page;
    const std::lock_guard lock{mutex_};
    for (const auto& [id, w] : wallets_) {
      if (w.state().version > 0 && w.state().owner == owner && id > after && page.size() < limit) {
        page.push_back(w.state());
      }
    }
    done(page);
  }
  void history(std::string id, std::uint64_t after, std::size_t limit,
               read_callback<std::vector<engine::event>> done) override {
    if (reads_fail) return done(read_error{read_errc::unavailable, "down"});
    std::vector<engine::event> page;
    const std::lock_guard lock{mutex_};
    for (const auto& e : events_[id]) {
      if (e.seq > after && page.size() < limit) page.push_back(e);
    }
    done(page);
  }
  void outcome(std::string id, std::string key,
               read_callback<std::optional<postgres::stored_outcome>> done) override {
    if (reads_fail) return done(read_error{read_errc::unavailable, "down"});
    const std::lock_guard lock{mutex_};
    const auto it = outcomes_.find({id, key});
    done(it == outcomes_.end() ? std::nullopt : std::optional{it->second});
  }
  void transfer(std::string source, std::string id,
                read_callback<std::optional<postgres::transfer_record>> done) override {
    if (reads_fail) return done(read_error{read_errc::unavailable, "down"});
    const std::lock_guard lock{mutex_};
    const auto it = transfers_.find({source, id});
    done(it == transfers_.end() ? std::nullopt : std::optional{it->second});
  }
  void hold(std::string id, std::string hold_id,
            read_callback<std::vector<engine::event>> done) override {
    if (reads_fail) return done(read_error{read_errc::unavailable, "down"});
    std::vector<engine::event> found;
    const std::lock_guard lock{mutex_};
    for (const auto& e : events_[id]) {
      const bool placed = std::holds_alternative<engine::hold_placed>(e.body) &&
                          std::get<engine::hold_placed>(e.body).hold_id == hold_id;
      if (placed) found.clear();
      const bool ends = std::visit(
          [&](const auto& b) {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, engine::hold_captured> ||
                          std::is_same_v<T, engine::hold_released> ||
                          std::is_same_v<T, engine::hold_expired>) {
              return b.hold_id == hold_id;
            }
            return false;
          },
          e.body);
      if (placed || ends) found.push_back(e);
    }
    done(found);
  }
  void schema_version(read_callback<int> done) override {
    if (reads_fail) return done(read_error{read_errc::unavailable, "down"});
    done(schema);
  }

 private:
  std::optional<engine::wallet_state> find(const std::string& id) {
    const std::lock_guard lock{mutex_};
    const auto it = wallets_.find(id);
    if (it == wallets_.end() || it->second.state().version == 0) return std::nullopt;
    return it->second.state();
  }

  std::mutex mutex_;
  engine::policy limits_ = engine::policy::unlimited();
  std::map<std::string, engine::wallet_aggregate> wallets_;
  std::map<std::string, std::vector<engine::event>> events_;
  std::map<std::pair<std::string, std::string>, postgres::stored_outcome> outcomes_;
  std::map<std::pair<std::string, std::string>, postgres::transfer_record> transfers_;
};

// An authenticator that knows tokens by name: "Bearer <name>" is the principal registered under
// <name>; anything else fails with the registered error (default malformed).
class fake_authenticator final : public auth::authenticator {
 public:
  std::map<std::string, auth::principal> tokens;
  std::map<std::string, auth::auth_errc> failures;

  engine::result<auth::principal, auth::auth_errc> authenticate(
      std::string_view authorization, std::chrono::system_clock::time_point) override {
    if (authorization.empty()) return auth::auth_errc::missing;
    const std::string token{authorization.substr(authorization.find(' ') + 1)};
    if (const auto it = tokens.find(token); it != tokens.end()) return it->second;
    if (const auto it = failures.find(token); it != failures.end()) return it->second;
    return auth::auth_errc::malformed;
  }
};

// A limiter that allows `budget` requests per key, then refuses with fixed figures.
class fake_limiter final : public auth::rate_limiter {
 public:
  std::int64_t budget = 1'000;
  std::map<std::string, std::int64_t, std::less<>> spent;

  auth::rate_decision take(std::string_view key, std::chrono::steady_clock::time_point) override {
    auto& used = spent[std::string(key)];
    auth::rate_decision d;
    d.limit = budget;
    d.allowed = used < budget;
    if (d.allowed) ++used;
    d.remaining = budget - used;
    d.retry_after = d.allowed ? std::chrono::seconds{0} : std::chrono::seconds{7};
    d.reset = std::chrono::seconds{9};
    return d;
  }
};

}  // namespace wallet::http::testing
