// What the database itself enforces: append-only events, (wallet_id, seq) uniqueness through
// wallet_commit, partitions created ahead (and none by default), CHECKs, transfer transitions,
// purge.
#include <map>
#include <string>
#include <vector>

#include "pg_fixture.hpp"
#include "wallet/postgres/database.hpp"

namespace wallet::postgres::testing {
namespace {

class schema_test : public pg_test {
 protected:
  // A call of wallet_commit with every part empty except those in `parts` (parameter name to array
  // literal): the parameter list is read from the function, so a test names only what it writes.
  std::string commit_call(const std::map<std::string, std::string>& parts) {
    const auto names =
        sql("SELECT unnest(proargnames) FROM pg_proc WHERE proname = 'wallet_commit'");
    std::string call = "SELECT wallet_commit(";
    for (pqxx::result::size_type i = 0; i < names.size(); ++i) {
      const auto name = names[i][0].as<std::string>();
      const auto part = parts.find(name);
      call += i == 0 ? "" : ", ";
      call += name == "p_shard" ? "0" : "'" + (part == parts.end() ? "{}" : part->second) + "'";
    }
    return call + ")";
  }

  // "" when the statement succeeds, else its SQLSTATE and the first line of its message.
  std::string refusal(const std::string& statement) {
    try {
      sql(statement);
      return "";
    } catch (const pqxx::sql_error& e) {
      std::string message = e.what();
      message = message.substr(0, message.find('\n'));
      const std::string prefix = "ERROR:  ";
      if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
      return e.sqlstate() + " " + message;
    }
  }
};

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
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_events")[0][0].as<int>(), 1);
}

TEST_F(schema_test, detaching_a_partition_is_the_way_to_archive) {
  db();
  sql(insert_event("w1", 1, "now()"));
  const auto partition = sql("SELECT " + month_partition(0))[0][0].as<std::string>();
  sql("ALTER TABLE wallet_events DETACH PARTITION " + partition);
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_events")[0][0].as<int>(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM " + partition)[0][0].as<int>(), 1) << "kept for archival";
  // Re-creating the month is refused while the archived table still has its name.
  const auto r = ensure_partitions(db(), now_us(), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("not a partition"), std::string::npos) << r.error().detail;
}

// The parts of a call that moves wallet `id` from version `expected` to `version` (0: opens it)
// and appends `events` to it: "wallet:seq" pairs at `at` (an array literal of timestamps' element).
std::map<std::string, std::string> wallet_move(const std::string& id, int expected, int version,
                                               const std::vector<std::string>& events,
                                               const std::string& at) {
  std::map<std::string, std::string> parts;
  const auto repeat = [](const std::string& value, std::size_t n) {
    std::string out = "{";
    for (std::size_t i = 0; i < n; ++i) out += (i == 0 ? "" : ",") + value;
    return out + "}";
  };
  const std::string v = "{" + std::to_string(version) + "}";
  if (expected == 0) {
    for (const auto& [name, value] : std::map<std::string, std::string>{{"c_owners", "o"},
                                                                        {"c_currencies", "EUR"},
                                                                        {"c_balances", "0"},
                                                                        {"c_helds", "0"},
                                                                        {"c_statuses", "1"},
                                                                        {"c_overdrafts", "0"},
                                                                        {"c_created", at},
                                                                        {"c_updated", at},
                                                                        {"c_kyc", "0"},
                                                                        {"c_days", "0"},
                                                                        {"c_outgoing", "0"}}) {
      parts[name] = "{\"" + value + "\"}";
    }
    parts["c_ids"] = "{" + id + "}";
    parts["c_versions"] = v;
  } else {
    for (const auto& [name, value] : std::map<std::string, std::string>{{"u_balances", "0"},
                                                                        {"u_helds", "0"},
                                                                        {"u_statuses", "1"},
                                                                        {"u_updated", at},
                                                                        {"u_kyc", "0"},
                                                                        {"u_days", "0"},
                                                                        {"u_outgoing", "0"}}) {
      parts[name] = "{\"" + value + "\"}";
    }
    parts["u_ids"] = "{" + id + "}";
    parts["u_expected"] = "{" + std::to_string(expected) + "}";
    parts["u_versions"] = v;
  }
  if (!events.empty()) {
    std::string wallets = "{";
    std::string seqs = "{";
    for (const auto& e : events) {
      const auto colon = e.find(':');
      wallets += (wallets.size() > 1 ? "," : "") + e.substr(0, colon);
      seqs += (seqs.size() > 1 ? "," : "") + e.substr(colon + 1);
    }
    const std::size_t n = events.size();
    parts["e_wallets"] = wallets + "}";
    parts["e_seqs"] = seqs + "}";
    parts["e_at"] = repeat("\"" + at + "\"", n);
    parts["e_types"] = repeat("deposited", n);
    parts["e_deltas"] = repeat("0", n);
    parts["e_held_deltas"] = repeat("0", n);
    parts["e_data"] = repeat("\"{}\"", n);
    parts["e_keys"] = repeat("NULL", n);
    parts["e_commands"] = repeat("NULL", n);
    parts["e_traces"] = repeat("NULL", n);
  }
  return parts;
}

// Since migration 0012 no side table holds the pairs (ADR 0013): a second writer of a move the
// fence already let through is refused, whichever month its events fall in.
TEST_F(schema_test, a_stale_writer_cannot_append_a_taken_seq_even_in_another_month) {
  db();
  EXPECT_TRUE(sql("SELECT to_regclass('wallet_event_seqs') IS NULL")[0][0].as<bool>());
  const auto now = sql("SELECT now()::text")[0][0].as<std::string>();
  const auto next_month = sql("SELECT (now() + interval '1 month')::text")[0][0].as<std::string>();
  ASSERT_EQ(refusal(commit_call(wallet_move("w", 0, 1, {"w:1"}, now))), "");
  ASSERT_EQ(refusal(commit_call(wallet_move("w", 1, 2, {"w:2"}, now))), "");
  // Seq 2 again in next month's partition, which no primary key compares with this month's.
  EXPECT_EQ(refusal(commit_call(wallet_move("w", 1, 2, {"w:2"}, next_month))),
            "WLF01 wallets not at the expected version (another writer): w");
  // Opening the wallet again (its seq 1) is refused the same way.
  EXPECT_EQ(refusal(commit_call(wallet_move("w", 0, 1, {"w:1"}, next_month))),
            "WLF01 new wallets already exist (another writer): w");
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_events WHERE wallet_id = 'w'")[0][0].as<int>(), 2);
  EXPECT_EQ(sql("SELECT count(*) FROM event_outbox")[0][0].as<int>(), 2) << "refusals roll back";
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
  // Room on each page for the updated version of a row, so balance updates stay HOT (0012).
  EXPECT_EQ(
      sql("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'wallets'")[0][0]
          .as<std::string>(),
      "fillfactor=60");
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
