// Reconciliation against a real PostgreSQL: a ledger written through pg_store reconciles clean;
// each kind of tampering behind the engine's back is reported precisely; wallet-reconcile exits
// with the outcome; and a bulk ledger measures the cost (WALLET_RECONCILE_BENCH_WALLETS wallets).
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "pg_fixture.hpp"
#include "wallet/postgres/reconcile.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::wallet_write;

// A mismatch as the tests name it.
struct found {
  std::string id;
  std::string what;
  std::int64_t stored = 0;
  std::int64_t folded = 0;
  friend bool operator==(const found&, const found&) = default;
  friend std::ostream& operator<<(std::ostream& out, const found& f) {
    return out << f.id << " " << f.what << " " << f.stored << "/" << f.folded;
  }
};

std::vector<found> wallets_of(const reconcile_report& r) {
  std::vector<found> out;
  for (const auto& m : r.wallet_mismatches) {
    out.push_back({m.wallet_id, m.what, m.stored, m.folded});
  }
  return out;
}

std::vector<found> transfers_of(const reconcile_report& r) {
  std::vector<found> out;
  for (const auto& m : r.transfer_mismatches) {
    out.push_back({m.source + "/" + m.transfer_id + " " + m.status, m.what, m.expected, m.found});
  }
  return out;
}

class reconcile_test : public pg_test {
 protected:
  void SetUp() override {
    pg_test::SetUp();
    if (!HasFatalFailure()) {
      db();
    }
  }

  reconcile_report run(const reconcile_options& options = {}) {
    auto conn = connect();
    auto r = reconcile(*conn, options);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
    return r.ok() ? std::move(r).value() : reconcile_report{};
  }

  static void commit_ok(pg_store& store, std::vector<wallet_write> writes) {
    const auto e = store.commit(writes);
    ASSERT_FALSE(e.has_value()) << describe(e);
  }

  // Three EUR wallets through every kind of event: deposits, a withdrawal, holds placed, captured
  // and released, transfers completed, reversed and one left pending (t3, 25), a freeze.
  // Balances: a 9'075, b 1'100, c 0; a holds h1 (1'000).
  void build_ledger() {
    pg_store store(store_settings());
    wallet_sim a("a");
    wallet_sim b("b");
    wallet_sim c("c");
    const auto open = engine::open_wallet{"owner-1", eur(0).ccy, 0};
    commit_ok(store, {a.handle(open, t0_), b.handle(open, t0_), c.handle(open, t0_),
                      a.handle(engine::deposit{eur(10'000)}, t0_ + 1us),
                      b.handle(engine::deposit{eur(500)}, t0_ + 1us)});
    commit_ok(store, {a.handle(engine::hold_place{"h1", eur(1'000), t0_ + 1h}, t0_ + 2us),
                      a.handle(engine::hold_place{"h2", eur(300), t0_ + 1h}, t0_ + 3us),
                      a.handle(engine::hold_capture{"h2", eur(200)}, t0_ + 4us),
                      a.handle(engine::hold_place{"h3", eur(10), t0_ + 1h}, t0_ + 5us),
                      a.handle(engine::hold_release{"h3"}, t0_ + 6us),
                      b.handle(engine::withdraw{eur(100)}, t0_ + 6us),
                      a.handle(engine::transfer_debit{"t1", "b", eur(700)}, t0_ + 7us),
                      a.handle(engine::transfer_debit{"t2", "c", eur(50)}, t0_ + 8us),
                      a.handle(engine::transfer_debit{"t3", "b", eur(25)}, t0_ + 9us)});
    commit_ok(store, {b.handle(engine::transfer_credit{"t1", "a", eur(700)}, t0_ + 10us),
                      a.handle(engine::transfer_reversal{"t2", eur(50)}, t0_ + 11us),
                      c.handle(engine::freeze{"audit"}, t0_ + 12us)});
    ASSERT_EQ(a.state().balance, 9'075);
    ASSERT_EQ(b.state().balance, 1'100);
  }

  std::int64_t version_of(const std::string& id) {
    return sql("SELECT version FROM wallets WHERE id = '" + id + "'")[0][0].as<std::int64_t>();
  }

  // Appends an event as a rogue writer would: the table refuses changes, not inserts.
  void append_event(const std::string& id, std::int64_t seq, const std::string& type,
                    std::int64_t delta, const std::string& data) {
    const std::string values = "'" + id + "', " + std::to_string(seq) + ", now(), 0, '" + type +
                               "', " + std::to_string(delta) + ", 0, '" + data + "'";
    sql(std::string("INSERT INTO wallet_events") +
        " (wallet_id, seq, at, shard, type, delta, held_delta, data) VALUES (" + values + ")");
  }

  static const currency_totals& eur_totals(const reconcile_report& r) {
    static const currency_totals none{};
    for (const auto& c : r.currencies) {
      if (c.currency == "EUR") return c;
    }
    ADD_FAILURE() << "no EUR totals";
    return none;
  }

  const engine::timestamp t0_ = now_us();
};

TEST_F(reconcile_test, an_empty_database_is_clean) {
  const auto r = run();
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.wallets_checked, 0U);
  EXPECT_TRUE(r.currencies_checked);
  EXPECT_TRUE(r.currencies.empty());
}

TEST_F(reconcile_test, a_ledger_written_by_the_store_is_clean_and_adds_up) {
  build_ledger();
  const auto r = run();
  EXPECT_TRUE(r.clean()) << ::testing::PrintToString(wallets_of(r))
                         << ::testing::PrintToString(transfers_of(r));
  EXPECT_EQ(r.wallets_checked, 3U);
  EXPECT_EQ(r.events_checked, 17U);
  EXPECT_EQ(r.transfers_checked, 3U);
  ASSERT_EQ(r.currencies.size(), 1U);
  const currency_totals& eur = r.currencies[0];
  EXPECT_EQ(eur.currency, "EUR");
  EXPECT_EQ(eur.balances, 10'175);
  EXPECT_EQ(eur.in_flight, 25);
  EXPECT_EQ(eur.deposits, 10'500);
  EXPECT_EQ(eur.withdrawals, 100);
  EXPECT_EQ(eur.captured, 200);
  EXPECT_EQ(eur.debited, 775);
  EXPECT_EQ(eur.credited, 700);
  EXPECT_EQ(eur.reversed, 50);
  EXPECT_EQ(eur.difference, 0);
  EXPECT_EQ(eur.transfer_difference, 0);
}

TEST_F(reconcile_test, a_stored_balance_changed_behind_the_engine_is_reported) {
  build_ledger();
  sql("UPDATE wallets SET balance = balance + 1 WHERE id = 'b'");
  const auto r = run();
  EXPECT_FALSE(r.clean());
  EXPECT_EQ(wallets_of(r), (std::vector<found>{{"b", "balance", 1'101, 1'100}}));
  EXPECT_EQ(r.wallet_mismatches_total, 1U);
  EXPECT_EQ(r.wallets_mismatched, 1U);
  EXPECT_EQ(eur_totals(r).difference, 1) << "one minor unit created";
  EXPECT_EQ(eur_totals(r).transfer_difference, 0);
  EXPECT_TRUE(r.transfer_mismatches.empty());
}

TEST_F(reconcile_test, a_deleted_hold_row_is_reported) {
  build_ledger();
  sql("DELETE FROM wallet_holds WHERE wallet_id = 'a' AND hold_id = 'h1'");
  const auto r = run();
  EXPECT_EQ(wallets_of(r),
            (std::vector<found>{{"a", "holds", 0, 1'000}, {"a", "hold_count", 0, 1}}));
  EXPECT_EQ(r.wallet_mismatches_total, 2U);
  EXPECT_EQ(r.wallets_mismatched, 1U);
  EXPECT_TRUE(eur_totals(r).balanced()) << "no money moved";
  EXPECT_FALSE(r.clean());
}

TEST_F(reconcile_test, a_changed_held_amount_is_reported) {
  build_ledger();
  sql("UPDATE wallets SET held = 0 WHERE id = 'a'");
  const auto r = run();
  EXPECT_EQ(wallets_of(r), (std::vector<found>{{"a", "held", 0, 1'000}}));
}

TEST_F(reconcile_test, a_changed_version_is_reported) {
  build_ledger();
  const std::int64_t version = version_of("c");
  sql("UPDATE wallets SET version = version + 1 WHERE id = 'c'");
  const auto r = run();
  EXPECT_EQ(wallets_of(r), (std::vector<found>{{"c", "version", version + 1, version}}));
  EXPECT_FALSE(r.clean());
}

TEST_F(reconcile_test, a_status_changed_behind_the_engine_is_reported) {
  build_ledger();
  sql("UPDATE wallets SET status = 1 WHERE id = 'c'");  // unfrozen without an event
  const auto r = run();
  EXPECT_EQ(wallets_of(r), (std::vector<found>{{"c", "status", 1, 2}}));
}

TEST_F(reconcile_test, a_pending_transfer_without_its_debit_is_reported) {
  build_ledger();
  sql("INSERT INTO transfers (source, id, destination, currency, amount, status, source_shard,"
      " created_at, updated_at)"
      " VALUES ('c', 'forged', 'a', 'EUR', 40, 'pending', 0, now(), now())");
  const auto r = run();
  EXPECT_EQ(transfers_of(r), (std::vector<found>{{"c/forged pending", "debits", 1, 0}}));
  EXPECT_EQ(r.transfer_mismatches_total, 1U);
  EXPECT_TRUE(r.wallet_mismatches.empty());
  const currency_totals& eur = eur_totals(r);
  EXPECT_EQ(eur.in_flight, 65);
  EXPECT_EQ(eur.difference, 40) << "money in flight that no wallet paid";
  EXPECT_EQ(eur.transfer_difference, -40);
  EXPECT_FALSE(r.clean());
}

TEST_F(reconcile_test, a_transfer_completed_without_its_credit_is_reported) {
  build_ledger();
  sql("UPDATE transfers SET status = 'completed' WHERE source = 'a' AND id = 't3'");
  const auto r = run();
  EXPECT_EQ(transfers_of(r), (std::vector<found>{{"a/t3 completed", "credits", 1, 0}}));
  EXPECT_EQ(eur_totals(r).difference, -25) << "money lost";
  EXPECT_EQ(eur_totals(r).transfer_difference, 25);
}

TEST_F(reconcile_test, an_event_appended_behind_the_engine_is_reported) {
  build_ledger();
  const std::int64_t version = version_of("b");
  append_event("b", version + 1, "deposited", 5, R"({"amount": 5})");
  const auto r = run();
  EXPECT_EQ(wallets_of(r), (std::vector<found>{{"b", "balance", 1'100, 1'105},
                                               {"b", "version", version, version + 1}}));
  EXPECT_EQ(eur_totals(r).difference, -5) << "the log says 5 more came in than the balances hold";
}

TEST_F(reconcile_test, a_gap_in_the_sequence_is_reported) {
  build_ledger();
  const std::int64_t version = version_of("b");
  append_event("b", version + 2, "deposited", 5, R"({"amount": 5})");
  sql("UPDATE wallets SET version = version + 2, balance = balance + 5 WHERE id = 'b'");
  const auto r = run();
  EXPECT_EQ(wallets_of(r), (std::vector<found>{{"b", "sequence", version + 1, version + 2}}));
}

TEST_F(reconcile_test, a_row_without_events_and_events_without_a_row_are_reported) {
  build_ledger();
  sql("INSERT INTO wallets (id, shard, owner, currency, balance, held, status, version,"
      " overdraft_limit, created_at, updated_at)"
      " VALUES ('orphan', 0, 'o', 'EUR', 70, 0, 1, 1, 0, now(), now())");
  append_event("ghost", 1, "wallet_opened", 0,
               R"({"owner": "o", "currency": "EUR", "overdraft_limit": 0})");
  const auto r = run();
  EXPECT_EQ(wallets_of(r),
            (std::vector<found>{{"ghost", "row", 0, 1}, {"orphan", "events", 1, 0}}));
  EXPECT_EQ(r.wallets_checked, 5U);
  EXPECT_EQ(eur_totals(r).difference, 70);
}

TEST_F(reconcile_test, a_kyc_level_changed_behind_the_engine_is_reported) {
  pg_store store(store_settings());
  wallet_sim k("k");
  commit_ok(store, {k.handle(engine::open_wallet{"owner-1", eur(0).ccy, 0}, t0_),
                    k.handle(engine::set_kyc_level{engine::kyc::full, "verified"}, t0_ + 1us),
                    k.handle(engine::set_kyc_level{engine::kyc::basic, "expired"}, t0_ + 2us)});
  wallet_sim n("n");  // never verified: folds to none
  commit_ok(store, {n.handle(engine::open_wallet{"owner-2", eur(0).ccy, 0}, t0_)});
  EXPECT_TRUE(run().clean());
  sql("UPDATE wallets SET kyc_level = 2 WHERE id = 'k'");  // back to full without an event
  sql("UPDATE wallets SET kyc_level = 1 WHERE id = 'n'");
  const auto r = run();
  EXPECT_EQ(wallets_of(r),
            (std::vector<found>{{"k", "kyc_level", 2, 1}, {"n", "kyc_level", 1, 0}}));
  EXPECT_TRUE(eur_totals(r).balanced()) << "no money moved";
}

TEST_F(reconcile_test, a_changed_currency_is_reported_with_both_codes) {
  build_ledger();
  sql("UPDATE wallets SET currency = 'USD' WHERE id = 'b'");
  const auto r = run();
  ASSERT_EQ(wallets_of(r), (std::vector<found>{{"b", "currency", 0, 0}}));
  EXPECT_EQ(r.wallet_mismatches[0].detail, "stored USD, opened with EUR");
  ASSERT_EQ(r.currencies.size(), 2U) << "b's balance now counts as dollars";
  EXPECT_EQ(eur_totals(r).difference, -1'100);
  EXPECT_EQ(r.currencies[1].currency, "USD");
  EXPECT_EQ(r.currencies[1].difference, 1'100);
}

TEST_F(reconcile_test, the_shard_filter_limits_the_wallet_checks) {
  build_ledger();  // every wallet on shard 0 of 1
  sql("UPDATE wallets SET balance = balance + 1 WHERE id = 'b'");
  const auto other = run(reconcile_options{{1}, reconcile_mismatches_reported_max, 64});
  EXPECT_EQ(other.wallets_checked, 0U);
  EXPECT_FALSE(other.currencies_checked);
  EXPECT_TRUE(other.clean());
  const auto mine = run(reconcile_options{{0}, reconcile_mismatches_reported_max, 64});
  EXPECT_EQ(mine.wallets_checked, 3U);
  EXPECT_EQ(mine.transfers_checked, 3U);
  EXPECT_EQ(wallets_of(mine), (std::vector<found>{{"b", "balance", 1'101, 1'100}}));
  EXPECT_TRUE(mine.currencies.empty());
}

TEST_F(reconcile_test, the_listed_mismatches_are_capped_but_counted) {
  build_ledger();
  sql("UPDATE wallets SET balance = balance + 1, version = version + 1");
  const auto r = run(reconcile_options{{}, 3, 64});
  EXPECT_EQ(r.wallet_mismatches.size(), 3U);
  EXPECT_EQ(r.wallet_mismatches_total, 6U);
  EXPECT_EQ(r.wallets_mismatched, 3U);
  EXPECT_EQ(r.wallet_mismatches[0].wallet_id, "a");
}

TEST_F(reconcile_test, a_bad_work_mem_is_an_invalid_argument) {
  auto conn = connect();
  const auto r = reconcile(*conn, reconcile_options{{}, 10, 0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
}

TEST_F(reconcile_test, a_schema_without_its_tables_is_rejected) {
  sql("DROP TABLE transfers");
  auto conn = connect();
  const auto r = reconcile(*conn, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::rejected) << r.error().detail;
  EXPECT_NE(r.error().detail.find("transfers"), std::string::npos) << r.error().detail;
}

// ---- wallet-reconcile --------------------------------------------------------------------------

struct process_output {
  int status = -1;
  std::string text;  // stdout and stderr
};

process_output run_tool(const std::string& args) {
#ifdef WALLET_RECONCILE_BIN
  const std::string command = std::string("'") + WALLET_RECONCILE_BIN + "' " + args + " 2>&1";
  process_output out;
  FILE* pipe = ::popen(command.c_str(), "r");  // NOLINT(cert-env33-c): runs the tool under test
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return out;
  }
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.text.append(buffer, n);
  const int status = ::pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
#else
  (void)args;
  return {};
#endif
}

class reconcile_tool_test : public reconcile_test {
 protected:
  void SetUp() override {
#ifndef WALLET_RECONCILE_BIN
    GTEST_SKIP() << "wallet-reconcile is not part of this build (app/CMakeLists.txt has no "
                    "add_subdirectory(reconcile))";
#endif
    reconcile_test::SetUp();
    // The server trusts local connections, so any password works, and none may ever be printed.
    password_file_ = ::testing::TempDir() + database_ + ".password";
    std::ofstream(password_file_) << secret_ << "\n";
  }

  void TearDown() override {
    if (!password_file_.empty()) {
      std::remove(password_file_.c_str());
    }
    reconcile_test::TearDown();
  }

  [[nodiscard]] std::string flags(const std::string& url) const {
    return "'--postgres.url=" + url + "' '--postgres.password_file=" + password_file_ +
           "' --postgres.sslmode=disable";
  }

  const std::string secret_ = "pw-n0t-t0-be-printed";
  std::string password_file_;
};

TEST_F(reconcile_tool_test, exits_0_on_a_clean_database_and_1_on_a_tampered_one) {
  build_ledger();
  const auto clean = run_tool(flags(url_));
  EXPECT_EQ(clean.status, 0) << clean.text;
  EXPECT_NE(clean.text.find("result: clean"), std::string::npos) << clean.text;
  EXPECT_NE(clean.text.find("{\"reconcile\":{\"clean\":true"), std::string::npos) << clean.text;
  EXPECT_EQ(clean.text.find(secret_), std::string::npos) << clean.text;

  sql("UPDATE wallets SET balance = balance + 1 WHERE id = 'b'");
  const auto tampered = run_tool(flags(url_));
  EXPECT_EQ(tampered.status, 1) << tampered.text;
  EXPECT_NE(tampered.text.find("wallet b: balance stored 1101, folded from events 1100"),
            std::string::npos)
      << tampered.text;
  EXPECT_NE(tampered.text.find(R"("wallet_id":"b","what":"balance","stored":1101,"folded":1100)"),
            std::string::npos)
      << tampered.text;
  EXPECT_EQ(tampered.text.find(secret_), std::string::npos) << tampered.text;
}

TEST_F(reconcile_tool_test, exits_2_on_bad_configuration_and_3_when_unreachable) {
  const auto bad = run_tool("--postgres.sslmode=sometimes");
  EXPECT_EQ(bad.status, 2) << bad.text;
  const auto no_file = run_tool("'--postgres.password_file=" + ::testing::TempDir() + "missing'");
  EXPECT_EQ(no_file.status, 2) << no_file.text;

  const auto unreachable = run_tool(flags("postgresql://wallet@127.0.0.1:1/wallet"));
  EXPECT_EQ(unreachable.status, 3) << unreachable.text;
  EXPECT_NE(unreachable.text.find("\"error\":\"unavailable\""), std::string::npos)
      << unreachable.text;
  EXPECT_EQ(unreachable.text.find(secret_), std::string::npos) << unreachable.text;
}

// ---- scale -------------------------------------------------------------------------------------

// N EUR wallets written in bulk SQL (not through the store), about 5.8 events each: wallet i is
// opened, gets 1'000, places hold h1 (300), sends t<i> (100) to wallet i+1, withdraws 50; odd
// wallets receive their neighbour's transfer (even senders' transfers completed, odd ones'
// pending); every third wallet captures 100 of its hold and releases the rest.
constexpr const char* bulk_ledger[] = {
    "INSERT INTO wallets (id, shard, owner, currency, balance, held, status, version,"
    " overdraft_limit, created_at, updated_at)"
    " SELECT 'w' || i, i % 16, 'o', 'EUR', 850 + (i % 2) * 100 - (i % 3 = 0)::int * 100,"
    " CASE WHEN i % 3 = 0 THEN 0 ELSE 300 END, 1, 5 + i % 2 + (i % 3 = 0)::int, 0, now(), now()"
    " FROM generate_series(0, $1 - 1) AS i",

    "INSERT INTO wallet_events (wallet_id, seq, at, shard, type, delta, held_delta, data)"
    " SELECT 'w' || i, s.seq, now(), i % 16, s.type, s.delta, s.held_delta, s.data"
    " FROM generate_series(0, $1 - 1) AS i CROSS JOIN LATERAL (VALUES"
    "  (1, 'wallet_opened', 0, 0,"
    "   jsonb_build_object('owner', 'o', 'currency', 'EUR', 'overdraft_limit', 0)),"
    "  (2, 'deposited', 1000, 0, jsonb_build_object('amount', 1000)),"
    "  (3, 'hold_placed', 0, 300, jsonb_build_object('hold_id', 'h1', 'amount', 300,"
    "   'expires_at', '2100-01-01T00:00:00.000000Z')),"
    "  (4, 'transfer_debited', -100, 0, jsonb_build_object('transfer_id', 't' || i,"
    "   'destination', 'w' || ((i + 1) % $1), 'amount', 100)),"
    "  (5, 'withdrawn', -50, 0, jsonb_build_object('amount', 50))"
    " ) AS s(seq, type, delta, held_delta, data)"
    " UNION ALL"
    " SELECT 'w' || i, 6, now(), i % 16, 'transfer_credited', 100, 0,"
    "  jsonb_build_object('transfer_id', 't' || (i - 1), 'source', 'w' || (i - 1), 'amount', 100)"
    " FROM generate_series(0, $1 - 1) AS i WHERE i % 2 = 1"
    " UNION ALL"
    " SELECT 'w' || i, 6 + i % 2, now(), i % 16, 'hold_captured', -100, -300,"
    "  jsonb_build_object('hold_id', 'h1', 'captured', 100, 'released', 200)"
    " FROM generate_series(0, $1 - 1) AS i WHERE i % 3 = 0",

    "INSERT INTO wallet_holds (wallet_id, hold_id, amount, expires_at, shard)"
    " SELECT 'w' || i, 'h1', 300, '2100-01-01', i % 16"
    " FROM generate_series(0, $1 - 1) AS i WHERE i % 3 <> 0",

    "INSERT INTO transfers (source, id, destination, currency, amount, status, source_shard,"
    " created_at, updated_at)"
    " SELECT 'w' || i, 't' || i, 'w' || ((i + 1) % $1), 'EUR', 100,"
    " CASE WHEN i % 2 = 0 THEN 'completed' ELSE 'pending' END, i % 16, now(), now()"
    " FROM generate_series(0, $1 - 1) AS i",
};

std::int64_t bench_wallets() {
  const char* env = std::getenv("WALLET_RECONCILE_BENCH_WALLETS");
  const std::int64_t n = env != nullptr ? std::strtoll(env, nullptr, 10) : 10'000;
  return n - n % 6;  // whole cycles of the odd/even and every-third patterns
}

TEST_F(reconcile_test, a_bulk_ledger_reconciles_clean_and_a_single_wrong_wallet_is_found) {
  const std::int64_t n = bench_wallets();
  ASSERT_GE(n, 6);
  {
    auto conn = connect();
    pqxx::work tx(*conn);
    for (const char* statement : bulk_ledger) tx.exec_params(statement, n);
    tx.commit();
    pqxx::nontransaction(*conn).exec("ANALYZE wallets, wallet_events, wallet_holds, transfers");
  }
  const auto start = std::chrono::steady_clock::now();
  const auto r = run();
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::cout << "[ reconcile ] " << r.wallets_checked << " wallets, " << r.events_checked
            << " events, " << r.transfers_checked << " transfers in " << ms.count() << " ms\n";
  EXPECT_TRUE(r.clean()) << ::testing::PrintToString(wallets_of(r))
                         << ::testing::PrintToString(transfers_of(r));
  EXPECT_EQ(r.wallets_checked, static_cast<std::size_t>(n));
  EXPECT_EQ(r.events_checked, static_cast<std::size_t>(5 * n + n / 2 + n / 3));
  const currency_totals& eur = eur_totals(r);
  EXPECT_EQ(eur.deposits, 1'000 * n);
  EXPECT_EQ(eur.in_flight, 100 * (n / 2));
  EXPECT_EQ(eur.captured, 100 * (n / 3));

  sql("UPDATE wallets SET held = held - 1 WHERE id = 'w" + std::to_string(n / 2 + 1) + "'");
  const auto tampered = run();
  EXPECT_EQ(wallets_of(tampered),
            (std::vector<found>{{"w" + std::to_string(n / 2 + 1), "held", 299, 300}}));
}

}  // namespace
}  // namespace wallet::postgres::testing
