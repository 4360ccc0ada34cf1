// Integration-test support: a fresh database per test, so that test processes can run in parallel.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "wallet/actors/store_port.hpp"
#include "wallet/postgres/pg_store.hpp"
#include "wallet_sim.hpp"

namespace wallet::postgres::testing {

// Each test gets its own database, created from WALLET_PG_URL's server and dropped afterwards.
// WALLET_PG_URL unset is a failure, not a skip: these tests are the adapter's proof.
class pg_test : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new connection to the test database.
  [[nodiscard]] std::unique_ptr<pqxx::connection> connect() const;
  // A connection to the migrated test database (migrations applied once per test on first use).
  pqxx::connection& db();
  // Runs one statement on a fresh connection; returns its result.
  pqxx::result sql(const std::string& statement);
  // The SQLSTATE a statement fails with, or "" when it succeeds.
  std::string sqlstate_of(const std::string& statement);

  [[nodiscard]] pg_store_settings store_settings(std::uint32_t shard_id = 0,
                                                 std::uint32_t shard_count = 1) const;

  std::string url_;       // the test database
  std::string database_;  // its name

 private:
  std::string server_url_;  // WALLET_PG_URL
  std::unique_ptr<pqxx::connection> db_;
};

}  // namespace wallet::postgres::testing
