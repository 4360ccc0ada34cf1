// Migrations (idempotent, concurrent, checksum-guarded) and the recorded shard count.
#include <thread>

#include "pg_fixture.hpp"
#include "wallet/postgres/database.hpp"

namespace wallet::postgres::testing {
namespace {

class migrate_test : public pg_test {
 protected:
  std::int64_t count(const std::string& query) { return sql(query)[0][0].as<std::int64_t>(); }
};

// Advisory locks held in the test's own database (other tests run in parallel on the server).
constexpr const char* advisory_locks_here =
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

TEST_F(migrate_test, applies_every_migration_once) {
  auto c = connect();
  const auto first = migrate(*c);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  std::vector<int> all;
  for (const migration& m : embedded_migrations()) {
    all.push_back(m.version);
  }
  EXPECT_EQ(first.value(), all);

  const auto second = migrate(*c);
  ASSERT_TRUE(second.ok()) << second.error().detail;
  EXPECT_TRUE(second.value().empty());
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), static_cast<std::int64_t>(all.size()));
}

TEST_F(migrate_test, records_the_sha256_of_each_file) {
  auto c = connect();
  ASSERT_TRUE(migrate(*c).ok());
  for (const migration& m : embedded_migrations()) {
    pqxx::work tx(*c);
    const auto row = tx.exec_params1(
        "SELECT checksum, name, encode(sha256(convert_to($2, 'UTF8')), 'hex')"
        " FROM schema_migrations WHERE version = $1",
        m.version, std::string(m.sql));
    EXPECT_EQ(row[0].as<std::string>(), m.checksum);
    EXPECT_EQ(row[1].as<std::string>(), m.name);
    EXPECT_EQ(row[2].as<std::string>(), m.checksum)
        << "the embedded SQL is the file, byte for byte";
  }
}

TEST_F(migrate_test, concurrent_starts_apply_each_migration_once) {
  constexpr std::size_t starts = 4;
  std::vector<std::unique_ptr<pqxx::connection>> connections;
  connections.reserve(starts);
  for (std::size_t i = 0; i < starts; ++i) {
    connections.push_back(connect());
  }
  std::vector<engine::result<std::vector<int>, error>> results(
      starts, engine::result<std::vector<int>, error>(error{}));
  std::vector<std::thread> threads;
  threads.reserve(starts);
  for (std::size_t i = 0; i < starts; ++i) {
    threads.emplace_back([&, i] { results[i] = migrate(*connections[i]); });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::size_t applied = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().detail;
    applied += r.value().size();
  }
  EXPECT_EQ(applied, embedded_migrations().size()) << "exactly one start applied them";
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(embedded_migrations().size()));
  EXPECT_EQ(count(advisory_locks_here), 0) << "the migration lock is released";
}

TEST_F(migrate_test, refuses_an_applied_migration_whose_checksum_changed) {
  ASSERT_TRUE(migrate(db()).ok());
  sql("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
  const auto again = migrate(*connect());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, errc::migration_mismatch);
  EXPECT_NE(again.error().detail.find("0001_init"), std::string::npos) << again.error().detail;
  EXPECT_NE(again.error().detail.find("checksum edited"), std::string::npos)
      << again.error().detail;
  EXPECT_NE(again.error().detail.find(std::string(embedded_migrations()[0].checksum)),
            std::string::npos)
      << again.error().detail;
}

TEST_F(migrate_test, refuses_an_edited_file_and_applies_nothing) {
  std::vector<migration> first{{1, "one", "aaaa", "CREATE TABLE one (x int)"}};
  ASSERT_TRUE(migrate(*connect(), first).ok());
  std::vector<migration> edited{{1, "one", "bbbb", "CREATE TABLE one (x bigint)"},
                                {2, "two", "cccc", "CREATE TABLE two (x int)"}};
  const auto r = migrate(*connect(), edited);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::migration_mismatch);
  EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE tablename = 'two'"), 0);
}

TEST_F(migrate_test, refuses_a_database_migrated_by_a_newer_binary) {
  std::vector<migration> newer{{1, "one", "aaaa", "CREATE TABLE one (x int)"},
                               {2, "two", "bbbb", "CREATE TABLE two (x int)"}};
  ASSERT_TRUE(migrate(*connect(), newer).ok());
  const auto older = migrate(*connect(), std::span(newer).first(1));
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, errc::migration_mismatch);
  EXPECT_NE(older.error().detail.find("0002_two"), std::string::npos) << older.error().detail;
  EXPECT_NE(older.error().detail.find("does not know"), std::string::npos) << older.error().detail;
}

TEST_F(migrate_test, applies_only_the_missing_ones_in_order) {
  std::vector<migration> list{{1, "one", "aaaa", "CREATE TABLE one (x int)"}};
  ASSERT_TRUE(migrate(*connect(), list).ok());
  list.push_back({2, "two", "bbbb", "INSERT INTO one VALUES (2)"});
  list.push_back({3, "three", "cccc", "INSERT INTO one VALUES (3)"});
  const auto r = migrate(*connect(), list);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r.value(), (std::vector<int>{2, 3}));
  EXPECT_EQ(count("SELECT count(*) FROM one"), 2);
}

TEST_F(migrate_test, a_failing_migration_is_rolled_back_and_named) {
  std::vector<migration> list{{1, "one", "aaaa", "CREATE TABLE one (x int)"},
                              {2, "broken", "bbbb", "CREATE TABLE two (x int); SELEC 1"}};
  auto c = connect();
  const auto r = migrate(*c, list);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::rejected);
  EXPECT_NE(r.error().detail.find("0002_broken"), std::string::npos) << r.error().detail;
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 1) << "0001 stays applied";
  EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE tablename = 'two'"), 0);
  EXPECT_EQ(count(advisory_locks_here), 0);
  list[1].sql = "CREATE TABLE two (x int)";
  EXPECT_TRUE(migrate(*c, list).ok()) << "the same connection can migrate again";
}

TEST_F(migrate_test, records_the_shard_count_and_refuses_another) {
  auto& c = db();
  const auto first = ensure_shard_count(c, 16);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_TRUE(ensure_shard_count(c, 16).ok());
  const auto other = ensure_shard_count(c, 8);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, errc::shard_count_mismatch);
  EXPECT_NE(other.error().detail.find("16 shards"), std::string::npos) << other.error().detail;
  EXPECT_NE(other.error().detail.find("with 8"), std::string::npos) << other.error().detail;
  EXPECT_EQ(ensure_shard_count(c, 0).error().code, errc::invalid_argument);
}

TEST_F(migrate_test, an_unreachable_server_is_unavailable) {
  auto c = connect();
  pqxx::nontransaction(*c).exec("SELECT 1");
  const int pid = c->backendpid();
  sql("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  const auto r = ensure_shard_count(*c, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::unavailable) << r.error().detail;
}

}  // namespace
}  // namespace wallet::postgres::testing
