// The naive baseline: a pool of worker threads, each with one PostgreSQL connection, running each
// command as one transaction. Commands travel as the wire JSON and are decoded by the real codec,
// so an invalid command is refused exactly as walletd refuses it; the business checks are the
// plain ones a team would write (amount positive, currency EUR, funds available).
#include "naive_transport.hpp"

#include <pqxx/pqxx>
#include <thread>
#include <variant>

#include "naive_sql.hpp"
#include "nats_transport.hpp"
#include "wallet/nats/wire.hpp"
#include "wire_text.hpp"
#include "work_queue.hpp"

namespace wallet::loadtest {
namespace {

namespace wn = wallet::nats;

constexpr int attempts_max = 5;  // deadlocks and serialization failures are retried

struct work_item {
  command c;
  const naming* names = nullptr;  // the run's, which outlives the transport's work
  std::string body;
  std::uint64_t token = 0;
};

void prepare(pqxx::connection& conn) {
  conn.prepare("open",
               "INSERT INTO naive_wallets (id, balance, held) VALUES ($1, 0, 0) "
               "ON CONFLICT (id) DO NOTHING");
  conn.prepare("deposit", "UPDATE naive_wallets SET balance = balance + $2 WHERE id = $1");
  conn.prepare("withdraw",
               "UPDATE naive_wallets SET balance = balance - $2 "
               "WHERE id = $1 AND balance - held >= $2");
  conn.prepare("lock_two",
               "SELECT id FROM naive_wallets WHERE id IN ($1, $2) ORDER BY id "
               "FOR UPDATE");
  conn.prepare("credit", "UPDATE naive_wallets SET balance = balance + $2 WHERE id = $1");
  conn.prepare("record_transfer",
               "INSERT INTO naive_transfers (idempotency_key, src, dst, amount) "
               "VALUES ($1, $2, $3, $4)");
  conn.prepare("hold",
               "UPDATE naive_wallets SET held = held + $2 "
               "WHERE id = $1 AND balance - held >= $2");
  conn.prepare("add_hold",
               "INSERT INTO naive_holds (wallet, hold_id, amount) VALUES ($1, $2, $3) "
               "ON CONFLICT DO NOTHING");
  conn.prepare("take_hold",
               "DELETE FROM naive_holds WHERE wallet = $1 AND hold_id = $2 RETURNING amount");
  conn.prepare("capture",
               "UPDATE naive_wallets SET balance = balance - $2, held = held - $3 "
               "WHERE id = $1");
  conn.prepare("exists", "SELECT 1 FROM naive_wallets WHERE id = $1");
  conn.prepare("record",
               "INSERT INTO naive_requests (wallet, idempotency_key, status, code) "
               "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING");
  conn.prepare("recorded",
               "SELECT status, code FROM naive_requests "
               "WHERE wallet = $1 AND idempotency_key = $2");
}

// A database failure: a short code for the error counts, the server's text as the detail.
answer failure(const std::exception& e) {
  std::string detail = e.what();
  if (const auto end = detail.find('\n'); end != std::string::npos) detail.resize(end);
  return answer{answer_status::failed, "database", std::move(detail), false};
}

answer accepted() { return answer{answer_status::accepted, {}, {}, false}; }
answer rejected(std::string code) {
  return answer{answer_status::rejected, std::move(code), {}, false};
}

// Why a debit found no row to update.
answer missing_funds_or_wallet(pqxx::work& tx, std::int64_t wallet) {
  return tx.exec_prepared("exists", wallet).empty() ? rejected("wallet_not_found")
                                                    : rejected("insufficient_funds");
}

// The business step of each command, inside `tx`; a rejection leaves the caller to roll back.
struct executor {
  pqxx::work& tx;
  std::int64_t wallet;
  const std::string& key;
  const naming& names;

  answer operator()(const engine::open_wallet& /*o*/) const {
    return tx.exec_prepared("open", wallet).affected_rows() == 1 ? accepted()
                                                                 : rejected("wallet_exists");
  }
  answer operator()(const engine::deposit& d) const {
    if (tx.exec_prepared("deposit", wallet, d.amount.minor).affected_rows() == 0) {
      return rejected("wallet_not_found");
    }
    return accepted();
  }
  answer operator()(const engine::withdraw& w) const {
    if (tx.exec_prepared("withdraw", wallet, w.amount.minor).affected_rows() == 0) {
      return missing_funds_or_wallet(tx, wallet);
    }
    return accepted();
  }
  answer operator()(const engine::transfer_debit& t) const {
    const std::int64_t to = names.wallet_number(t.destination);
    if (to == wallet) return rejected("transfer_to_self");
    if (tx.exec_prepared("lock_two", std::min(wallet, to), std::max(wallet, to)).size() != 2) {
      return rejected("wallet_not_found");
    }
    if (tx.exec_prepared("withdraw", wallet, t.amount.minor).affected_rows() == 0) {
      return rejected("insufficient_funds");
    }
    tx.exec_prepared("credit", to, t.amount.minor);
    tx.exec_prepared("record_transfer", std::to_string(wallet) + "/" + key, wallet, to,
                     t.amount.minor);
    return accepted();
  }
  answer operator()(const engine::hold_place& h) const {
    if (tx.exec_prepared("hold", wallet, h.amount.minor).affected_rows() == 0) {
      return missing_funds_or_wallet(tx, wallet);
    }
    if (tx.exec_prepared("add_hold", wallet, h.hold_id, h.amount.minor).affected_rows() == 0) {
      return rejected("hold_exists");
    }
    return accepted();
  }
  answer operator()(const engine::hold_capture& h) const {
    const pqxx::result held = tx.exec_prepared("take_hold", wallet, h.hold_id);
    if (held.empty()) return rejected("hold_not_found");
    const auto amount = held[0][0].as<std::int64_t>();
    const std::int64_t taken = h.amount ? h.amount->minor : amount;
    if (taken > amount) return rejected("hold_amount_exceeded");
    tx.exec_prepared("capture", wallet, taken, amount);
    return accepted();
  }
  answer operator()(const engine::hold_release& h) const {
    const pqxx::result held = tx.exec_prepared("take_hold", wallet, h.hold_id);
    if (held.empty()) return rejected("hold_not_found");
    tx.exec_prepared("capture", wallet, 0, held[0][0].as<std::int64_t>());
    return accepted();
  }
  template <class Other>
  answer operator()(const Other& /*o*/) const {
    return answer{answer_status::refused, "invalid", "unknown_type", false};
  }
};

// The plain checks before any SQL: what the request says, not what the database holds.
std::optional<answer> precheck(const engine::command& c, std::uint32_t wallet) {
  const auto check = [&](const engine::money& m) -> std::optional<answer> {
    if (m.minor <= 0) return rejected("amount_invalid");
    if (m.ccy.code() != "EUR") return rejected("currency_mismatch");
    return std::nullopt;
  };
  if (wallet == 0 && !std::holds_alternative<engine::open_wallet>(c.body)) {
    return rejected("wallet_not_found");
  }
  return std::visit(
      [&](const auto& body) -> std::optional<answer> {
        using body_type = std::decay_t<decltype(body)>;
        if constexpr (requires { body.amount.minor; }) {
          return check(body.amount);
        } else if constexpr (std::is_same_v<body_type, engine::hold_capture>) {
          return body.amount ? check(*body.amount) : std::nullopt;
        } else {
          return std::nullopt;
        }
      },
      c.body);
}

// Records the outcome under the command's key inside `tx`; false when the key was recorded first
// by another transaction (whose outcome stands).
bool record(pqxx::work& tx, std::int64_t wallet, const std::string& key, const answer& a) {
  return tx.exec_prepared("record", wallet, key, std::string(to_string(a.status)), a.code)
             .affected_rows() == 1;
}

answer recorded(pqxx::connection& conn, std::int64_t wallet, const std::string& key) {
  pqxx::nontransaction read(conn);
  const pqxx::result r = read.exec_prepared("recorded", wallet, key);
  answer replay;
  replay.replayed = true;
  if (r.empty()) {
    replay.status = answer_status::failed;
    replay.code = "database";
    replay.problem = "the key's first transaction committed no outcome";
    return replay;
  }
  replay.status =
      r[0][0].as<std::string>() == "accepted" ? answer_status::accepted : answer_status::rejected;
  replay.code = r[0][1].as<std::string>();
  return replay;
}

// One command, one transaction; a repeat of a recorded key answers what was recorded. A
// rejection's partial step is rolled back and the rejection recorded in a transaction of its own.
answer execute(pqxx::connection& conn, const engine::command& c, const naming& names) {
  const std::int64_t wallet = names.wallet_number(c.wallet_id);
  if (auto early = precheck(c, static_cast<std::uint32_t>(wallet))) return *early;
  const std::string& key = c.idempotency_key;
  answer a;
  {
    pqxx::work tx(conn);
    a = std::visit(executor{tx, wallet, key, names}, c.body);
    if (a.status == answer_status::accepted) {
      if (!record(tx, wallet, key, a)) {
        tx.abort();
        return recorded(conn, wallet, key);
      }
      tx.commit();
      return a;
    }
  }  // rolled back
  pqxx::work tx(conn);
  if (!record(tx, wallet, key, a)) {
    tx.abort();
    return recorded(conn, wallet, key);
  }
  tx.commit();
  return a;
}

// Decodes the command as walletd would, then runs it; the database's failures become answers.
answer run(pqxx::connection& conn, const work_item& item) {
  auto decoded = wn::decode_command(item.body, wn::origin::client);
  if (!decoded) {
    const auto& e = decoded.error();
    return answer{answer_status::refused, std::string(wn::to_string(e.kind)),
                  e.fields.empty() ? std::string{} : e.fields.front().problem, false};
  }
  const engine::command& c = decoded.value().command;
  for (int attempt = 1;; ++attempt) {
    try {
      return execute(conn, c, *item.names);
    } catch (const pqxx::unique_violation&) {
      // A repeat of a transfer that committed meanwhile: its record stands.
      return recorded(conn, item.names->wallet_number(c.wallet_id), c.idempotency_key);
    } catch (const pqxx::transaction_rollback& e) {
      if (attempt == attempts_max) return failure(e);
    } catch (const std::exception& e) {
      return failure(e);
    }
  }
}

}  // namespace

struct naive_transport::impl {
  naive_target target;
  answer_sink& sink;
  work_queue<work_item> queue;
  std::vector<std::thread> workers;
  std::string server_version;

  impl(naive_target t, answer_sink& s) : target(std::move(t)), sink(s) {}

  void work(std::unique_ptr<pqxx::connection> conn);
};

void naive_transport::impl::work(std::unique_ptr<pqxx::connection> conn) {
  while (auto item = queue.pop()) sink.answered(item->token, run(*conn, *item));
}

naive_transport::naive_transport(naive_target target, answer_sink& sink)
    : impl_(std::make_unique<impl>(std::move(target), sink)) {
  std::vector<std::unique_ptr<pqxx::connection>> conns;
  try {
    for (std::size_t i = 0; i < impl_->target.connections; ++i) {
      auto conn = std::make_unique<pqxx::connection>(impl_->target.url);
      prepare(*conn);
      conns.push_back(std::move(conn));
    }
    pqxx::nontransaction tx(*conns.front());
    impl_->server_version = tx.exec1("SHOW server_version")[0].as<std::string>();
  } catch (const std::exception& e) {
    throw harness_error(std::string("naive baseline database: ") + e.what());
  }
  for (auto& conn : conns) {
    impl_->workers.emplace_back(
        [i = impl_.get(), c = std::move(conn)]() mutable { i->work(std::move(c)); });
  }
}

naive_transport::~naive_transport() {
  impl_->queue.close();
  for (auto& w : impl_->workers) w.join();
}

void naive_transport::send(const command& c, const naming& names, std::uint64_t token) {
  impl_->queue.push(work_item{c, &names, render_command(c, names), token});
}

std::string naive_transport::describe() const {
  return "PostgreSQL " + impl_->server_version + ", " + std::to_string(impl_->target.connections) +
         " connections, one transaction per command (loadtest/baselines/naive_tables.sql)";
}

void naive_transport::recreate_tables(const std::string& url) {
  try {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    tx.exec(naive_tables_sql);
  } catch (const std::exception& e) {
    throw harness_error(std::string("creating the naive baseline's tables: ") + e.what());
  }
}

std::vector<wallet_row> naive_transport::read_wallets(const std::string& url,
                                                      std::uint32_t wallets) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  std::vector<wallet_row> rows;
  for (const auto& r : tx.exec_params(
           "SELECT id, balance, held FROM naive_wallets WHERE id BETWEEN 1 AND $1", wallets)) {
    wallet_row w;
    w.n = r[0].as<std::uint32_t>();
    w.balance = r[1].as<std::int64_t>();
    w.held = r[2].as<std::int64_t>();
    rows.push_back(w);
  }
  return rows;
}

}  // namespace wallet::loadtest
