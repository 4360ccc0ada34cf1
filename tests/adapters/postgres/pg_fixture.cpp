// A database per test and a wallet simulator for the PostgreSQL adapter's integration tests.
#include "pg_fixture.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "wallet/postgres/database.hpp"

namespace wallet::postgres::testing {
namespace {

// `url` with its database (the URI path) replaced by `database`.
std::string with_database(const std::string& url, const std::string& database) {
  const std::size_t authority = url.find("://");
  if (authority == std::string::npos) {
    return url;
  }
  const std::size_t path = url.find('/', authority + 3);
  const std::size_t query = url.find('?', authority + 3);
  const std::size_t cut = std::min(path, query);
  std::string out = url.substr(0, cut);
  out.append("/").append(database);
  if (query != std::string::npos) {
    out.append(url.substr(query));
  }
  return out;
}

std::string unique_database_name() {
  static std::atomic<int> counter{0};
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", random());
  return "wallet_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
         suffix;
}

}  // namespace

void pg_test::SetUp() {
  const char* url = std::getenv("WALLET_PG_URL");
  ASSERT_TRUE(url != nullptr && *url != '\0')
      << "WALLET_PG_URL is not set. These integration tests need PostgreSQL: run\n"
         "  bash scripts/services.sh start && eval \"$(bash scripts/services.sh env)\"\n"
         "or `bash scripts/services.sh run -- ctest -L integration`.";
  server_url_ = url;
  database_ = unique_database_name();
  url_ = with_database(server_url_, database_);
  pqxx::connection admin(server_url_);
  pqxx::nontransaction tx(admin);
  tx.exec("CREATE DATABASE " + tx.quote_name(database_));
}

void pg_test::TearDown() {
  db_.reset();
  if (database_.empty() || server_url_.empty()) {
    return;
  }
  // Not WITH (FORCE): that would also try to terminate an autovacuum worker busy in the database,
  // which only a superuser may. A plain DROP asks autovacuum to leave; a test's own sessions are
  // closed by now but may take a moment to go away on the server.
  std::string last_error;
  for (int attempt = 0; attempt < 20; ++attempt) {
    try {
      pqxx::connection admin(server_url_);
      pqxx::nontransaction tx(admin);
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(database_));
      return;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ADD_FAILURE() << "could not drop test database " << database_ << ": " << last_error;
}

std::unique_ptr<pqxx::connection> pg_test::connect() const {
  return std::make_unique<pqxx::connection>(url_);
}

pqxx::connection& pg_test::db() {
  if (!db_) {
    db_ = connect();
    const auto applied = migrate(*db_);
    EXPECT_TRUE(applied.ok()) << (applied.ok() ? "" : applied.error().detail);
  }
  return *db_;
}

pqxx::result pg_test::sql(const std::string& statement) {
  auto c = connect();
  pqxx::nontransaction tx(*c);
  return tx.exec(statement);
}

std::string pg_test::sqlstate_of(const std::string& statement) {
  try {
    sql(statement);
    return "";
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate();
  }
}

pg_store_settings pg_test::store_settings(std::uint32_t shard_id, std::uint32_t shard_count) const {
  pg_store_settings s;
  s.conninfo = url_;
  s.shard_id = shard_id;
  s.shard_count = shard_count;
  s.application_name = database_;
  return s;
}

}  // namespace wallet::postgres::testing
