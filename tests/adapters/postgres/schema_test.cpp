// What the database itself enforces: append-only events, (wallet_id, seq) uniqueness across
// partitions, partitions created ahead (and none by default), CHECKs, transfer transitions, purge.
#include "pg_fixture.hpp"
#include "wallet/postgres/database.hpp"

namespace wallet::postgres::testing {
namespace {

using schema_test = pg_test;

// An INSERT of one raw event row at `at` (an SQL expression).
std::string insert_event(const std::string& wallet, int seq, const std::string& at) {
  return "INSERT INTO wallet_events (wallet_id, seq, at, shard, type, delta, held_delta, data)"
         " VALUES ('" +
         wallet + "', " + std::to_string(seq) + ", " + at +
         ", 0, 'deposited', 5, 0, '{\"amount\": 5}')";
}

std::string month_partition(int months_from_now) {
  return "'wallet_events_' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '" +
         std::to_string(months_from_now) + " month', 'YYYY_MM')";
}

TEST_F(schema_test, events_are_append_only) {
  db();
  sql(insert_event("w1", 1, "now()"));
  const auto partition = sql("SELECT " + month_partition(0))[0][0].as<std::string>();
  for (const std::string& table : {std::string("wallet_events"), partition}) {
    EXPECT_EQ(sqlstate_of("UPDATE " + table + " SET delta = 6"), "P0001") << table;
    EXPECT_EQ(sqlstate_of("DELETE FROM " + table), "P0001") << table;
    EXPECT_EQ(sqlstate_of("TRUNCATE " + table), "P0001") << table;
  }
  EXPECT_EQ(sqlstate_of("UPDATE wallet_event_seqs SET seq = 9"), "P0001");
  EXPECT_EQ(sqlstate_of("DELETE FROM wallet_event_seqs"), "P0001");
  EXPECT_EQ(sqlstate_of("TRUNCATE wallet_event_seqs"), "P0001");
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_events")[0][0].as<int>(), 1);
}

TEST_F(schema_test, detaching_a_partition_is_the_way_to_archive) {
  db();
  sql(insert_event("w1", 1, "now()"));
  const auto partition = sql("SELECT " + month_partition(0))[0][0].as<std::string>();
  sql("ALTER TABLE wallet_events DETACH PARTITION " + partition);
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_events")[0][0].as<int>(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM " + partition)[0][0].as<int>(), 1) << "kept for archival";
  EXPECT_EQ(sqlstate_of(insert_event("w1", 1, "now() + interval '1 month'")), "23505")
      << "the archived event's seq stays taken";
  // Re-creating the month is refused while the archived table still has its name.
  const auto r = ensure_partitions(db(), now_us(), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("not a partition"), std::string::npos) << r.error().detail;
}

TEST_F(schema_test, a_seq_is_unique_per_wallet_across_partitions) {
  db();
  sql(insert_event("w1", 1, "now()"));
  EXPECT_EQ(sqlstate_of(insert_event("w1", 1, "now()")), "23505");
  EXPECT_EQ(sqlstate_of(insert_event("w1", 1, "now() + interval '1 month'")), "23505")
      << "same seq, another month's partition";
  EXPECT_EQ(sqlstate_of(insert_event("w2", 1, "now() + interval '1 month'")), "");
  // A statement naming a partition itself is held to the same rule.
  const auto next_month = sql("SELECT " + month_partition(1))[0][0].as<std::string>();
  std::string direct = insert_event("w2", 1, "now() + interval '1 month'");
  direct.replace(direct.find("wallet_events"), std::string("wallet_events").size(), next_month);
  EXPECT_EQ(sqlstate_of(direct), "23505") << direct;
  direct = insert_event("w2", 2, "now() + interval '1 month'");
  direct.replace(direct.find("wallet_events"), std::string("wallet_events").size(), next_month);
  EXPECT_EQ(sqlstate_of(direct), "");
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_event_seqs WHERE wallet_id = 'w2'")[0][0].as<int>(), 2)
      << "recorded once, whichever table the statement names";
  // COPY goes through the same trigger.
  auto c = connect();
  pqxx::work tx(*c);
  const std::vector<std::string> columns{"wallet_id", "seq",   "at",         "shard",
                                         "type",      "delta", "held_delta", "data"};
  bool refused = false;
  try {
    pqxx::stream_to copy(tx, "wallet_events", columns);
    copy << std::make_tuple(std::string("w1"), 1, std::string("2030-01-01 00:00:00+00"), 0,
                            std::string("deposited"), 5, 0, std::string("{\"amount\": 5}"));
    copy.complete();
  } catch (const pqxx::sql_error&) {
    refused = true;
  }
  EXPECT_TRUE(refused);
}

TEST_F(schema_test, partitions_exist_for_this_month_and_three_ahead_and_no_default) {
  db();
  for (int month = 0; month <= 3; ++month) {
    EXPECT_EQ(
        sql("SELECT to_regclass(" + month_partition(month) + ") IS NOT NULL")[0][0].as<bool>(),
        true)
        << "month +" << month;
  }
  EXPECT_EQ(sql("SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
                " WHERE c.relname = 'wallet_events' AND p.partdefid <> 0")[0][0]
                .as<int>(),
            0);
  EXPECT_EQ(sqlstate_of(insert_event("w1", 1, "now() + interval '5 years'")), "23514")
      << "an event in a month without a partition fails loudly";
}

TEST_F(schema_test, ensure_partitions_creates_ahead_idempotently) {
  auto& c = db();
  const auto created = ensure_partitions(c, now_us(), 6);
  ASSERT_TRUE(created.ok()) << created.error().detail;
  EXPECT_EQ(created.value(), 3) << "months +4 to +6";
  const auto again = ensure_partitions(c, now_us(), 6);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), 0);
  EXPECT_EQ(sqlstate_of(insert_event("w1", 1, "now() + interval '6 months'")), "");
  EXPECT_EQ(sqlstate_of("TRUNCATE " + sql("SELECT " + month_partition(6))[0][0].as<std::string>()),
            "P0001")
      << "new partitions refuse TRUNCATE too";
  EXPECT_EQ(ensure_partitions(c, now_us(), 121).error().code, errc::invalid_argument);
  EXPECT_EQ(ensure_partitions(c, now_us(), -1).error().code, errc::invalid_argument);
}

TEST_F(schema_test, wallet_rows_are_checked) {
  db();
  const std::string insert =
      "INSERT INTO wallets (id, shard, owner, currency, balance, held, status, version,"
      " overdraft_limit, created_at, updated_at) VALUES ";
  const auto row = [&](const std::string& values) {
    return sqlstate_of(insert + "(" + values + ", now(), now())");
  };
  EXPECT_EQ(row("'ok', 0, 'o', 'EUR', 10, 10, 1, 1, 0"), "");
  EXPECT_EQ(row("'held', 0, 'o', 'EUR', 10, -1, 1, 1, 0"), "23514");
  EXPECT_EQ(row("'over', 0, 'o', 'EUR', -11, 0, 1, 1, 10"), "23514");
  EXPECT_EQ(row("'funds', 0, 'o', 'EUR', 10, 21, 1, 1, 10"), "23514");
  EXPECT_EQ(row("'version', 0, 'o', 'EUR', 0, 0, 1, 0, 0"), "23514");
  EXPECT_EQ(row("'status', 0, 'o', 'EUR', 0, 0, 7, 1, 0"), "23514");
  EXPECT_EQ(row("'ccy', 0, 'o', 'eur', 0, 0, 1, 1, 0"), "23514");
}

TEST_F(schema_test, transfers_move_only_from_pending) {
  db();
  sql("INSERT INTO transfers VALUES ('a', 't1', 'b', 'EUR', 5, 'pending', 0, now(), now())");
  EXPECT_EQ(sqlstate_of("UPDATE transfers SET amount = 6"), "P0001");
  EXPECT_EQ(sqlstate_of("UPDATE transfers SET status = 'completed'"), "");
  EXPECT_EQ(sqlstate_of("UPDATE transfers SET status = 'reversed'"), "P0001");
  EXPECT_EQ(sqlstate_of("UPDATE transfers SET status = 'pending'"), "P0001");
  EXPECT_EQ(sqlstate_of("INSERT INTO transfers VALUES ('a', 't1', 'c', 'EUR', 5, 'pending', 0,"
                        " now(), now())"),
            "23505");
  EXPECT_EQ(sqlstate_of("INSERT INTO transfers VALUES ('c', 't1', 'a', 'EUR', 5, 'pending', 0,"
                        " now(), now())"),
            "")
      << "ids are unique per source wallet only";
}

TEST_F(schema_test, purge_deletes_only_old_records_in_slices) {
  db();
  sql("INSERT INTO idempotency_records SELECT 'w', 'old' || n, 0, NULL, 0, 0, 0,"
      " now() - interval '2 days', 0 FROM generate_series(1, 5) AS n");
  sql("INSERT INTO idempotency_records VALUES ('w', 'new', 0, NULL, 0, 0, 0, now(), 0)");
  const engine::timestamp day_ago = now_us() - std::chrono::hours(24);
  const auto first = purge_idempotency(db(), day_ago, 3);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_EQ(first.value(), 3U);
  EXPECT_EQ(purge_idempotency(db(), day_ago, 3).value(), 2U);
  EXPECT_EQ(purge_idempotency(db(), day_ago, 3).value(), 0U);
  EXPECT_EQ(sql("SELECT string_agg(key, ',') FROM idempotency_records")[0][0].as<std::string>(),
            "new");
}

}  // namespace
}  // namespace wallet::postgres::testing
