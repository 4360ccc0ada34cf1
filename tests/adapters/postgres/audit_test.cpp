// The audit trail and owner profiles against a real PostgreSQL: the table refuses UPDATE, DELETE
// and TRUNCATE; a wallet command's record commits with its events or not at all; the auditor's
// filters and pages; profiles stored, replaced and erased with a record that holds no personal
// data.
#include "wallet/postgres/audit.hpp"
#include "pg_fixture.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::wallet_write;

class audit_test : public pg_test {
 protected:
  void SetUp() override {
    pg_test::SetUp();
    if (!HasFatalFailure()) db();
  }

  std::int64_t count(const std::string& query) { return sql(query)[0][0].as<std::int64_t>(); }

  static actors::audit_entry entry(std::string principal, std::string action, std::string target) {
    return actors::audit_entry{
        std::move(principal), std::move(action), std::move(target), "a reason", "", {}};
  }

  const engine::timestamp t0_ = now_us();
};

TEST_F(audit_test, the_database_refuses_to_change_or_remove_a_record) {
  ASSERT_TRUE(append_audit(db(), entry("admin", "freeze", "w-1")).ok());
  EXPECT_EQ(sqlstate_of("UPDATE audit_log SET reason = 'rewritten'"), "P0001");
  EXPECT_EQ(sqlstate_of("DELETE FROM audit_log"), "P0001");
  EXPECT_EQ(sqlstate_of("TRUNCATE audit_log"), "P0001");
  EXPECT_EQ(sqlstate_of("UPDATE audit_log SET at = at"), "P0001") << "not even a no-op update";
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE reason = 'a reason'"), 1);
}

TEST_F(audit_test, the_table_refuses_records_without_a_reason_or_with_a_bad_trace_id) {
  EXPECT_EQ(sqlstate_of("INSERT INTO audit_log (principal, action, target, reason)"
                        " VALUES ('a', 'freeze', 'w', '')"),
            "23514");
  EXPECT_EQ(sqlstate_of("INSERT INTO audit_log (principal, action, target, reason)"
                        " VALUES ('a', 'freeze', 'w', repeat('r', 257))"),
            "23514");
  EXPECT_EQ(sqlstate_of("INSERT INTO audit_log (principal, action, target, reason)"
                        " VALUES ('a', 'freeze', 'w', E'two\\nlines')"),
            "23514");
  EXPECT_EQ(sqlstate_of("INSERT INTO audit_log (principal, action, target, reason, trace_id)"
                        " VALUES ('a', 'freeze', 'w', 'r', 'not-hex')"),
            "23514");
}

TEST_F(audit_test, the_time_of_a_record_is_the_databases_clock) {
  sql("INSERT INTO audit_log (principal, action, target, reason, at)"
      " VALUES ('a', 'freeze', 'w', 'r', '2001-01-01T00:00:00Z')");
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE at > now() - interval '1 hour'"), 1)
      << "a writer cannot back-date a record";
}

TEST_F(audit_test, a_commands_record_commits_with_its_event) {
  pg_store store(store_settings());
  wallet_sim w("w-1");
  ASSERT_FALSE(store.commit(std::vector{w.handle(engine::open_wallet{"o", eur(0).ccy, 0}, t0_)}));
  wallet_write freeze = w.handle(engine::freeze{"fraud review"}, t0_, "k-freeze");
  freeze.audit = actors::audit_entry{"admin-1",
                                     "freeze",
                                     "w-1",
                                     "fraud review",
                                     "0af7651916cd43dd8448eb211c80319c",
                                     {{"idempotency_key", "k-freeze"}}};
  ASSERT_FALSE(store.commit(std::vector{freeze}));
  const auto rows =
      sql("SELECT principal, action, target, reason, trace_id, details->>'outcome',"
          " (details->>'seq')::bigint, at <= now() FROM audit_log");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][0].as<std::string>(), "admin-1");
  EXPECT_EQ(rows[0][1].as<std::string>(), "freeze");
  EXPECT_EQ(rows[0][2].as<std::string>(), "w-1");
  EXPECT_EQ(rows[0][3].as<std::string>(), "fraud review");
  EXPECT_EQ(rows[0][4].as<std::string>(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(rows[0][5].as<std::string>(), "applied");
  EXPECT_EQ(rows[0][6].as<std::int64_t>(),
            count("SELECT seq FROM wallet_events WHERE type = 'wallet_frozen'"));
  EXPECT_TRUE(rows[0][7].as<bool>());
}

TEST_F(audit_test, a_failed_commit_leaves_no_record) {
  pg_store store(store_settings());
  wallet_sim w("w-1");
  ASSERT_FALSE(store.commit(std::vector{w.handle(engine::open_wallet{"o", eur(0).ccy, 0}, t0_)}));
  wallet_write freeze = w.handle(engine::freeze{"fraud review"}, t0_, "k-freeze");
  freeze.audit = entry("admin-1", "freeze", "w-1");
  freeze.expected_version = 7;  // another writer's version: the fence fails the whole batch
  freeze.after.version = 8;
  freeze.events.front().seq = 8;
  const auto e = store.commit(std::vector{freeze});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, actors::store_errc::fence_conflict);
  EXPECT_EQ(count("SELECT count(*) FROM audit_log"), 0) << "nothing audited that did not happen";
}

TEST_F(audit_test, a_refused_record_fails_the_commit_of_its_command) {
  pg_store store(store_settings());
  wallet_sim w("w-1");
  ASSERT_FALSE(store.commit(std::vector{w.handle(engine::open_wallet{"o", eur(0).ccy, 0}, t0_)}));
  wallet_write freeze = w.handle(engine::freeze{"fraud review"}, t0_, "k-freeze");
  freeze.audit = entry("admin-1", "freeze", "w-1");
  freeze.audit->reason.clear();  // the table's check refuses it
  const auto e = store.commit(std::vector{freeze});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, actors::store_errc::rejected);
  EXPECT_EQ(count("SELECT count(*) FROM wallet_events WHERE type = 'wallet_frozen'"), 0)
      << "nothing happened that is not audited";
}

TEST_F(audit_test, the_auditor_filters_and_pages_in_id_order) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(append_audit(db(), entry("alice", "freeze", "w-" + std::to_string(i % 2))).ok());
    ASSERT_TRUE(append_audit(db(), entry("bob", "unfreeze", "w-1")).ok());
  }
  audit_filter f;
  f.principal = "alice";
  f.limit = 2;
  auto page = find_audit(db(), f);
  ASSERT_TRUE(page.ok()) << page.error().detail;
  ASSERT_EQ(page.value().size(), 2U);
  std::vector<std::int64_t> ids{page.value()[0].id, page.value()[1].id};
  f.after_id = page.value().back().id;
  auto rest = find_audit(db(), f);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest.value().size(), 2U);
  f.after_id = rest.value().back().id;
  EXPECT_EQ(find_audit(db(), f).value().size(), 1U) << "five of alice's in all";
  EXPECT_LT(ids[0], ids[1]);

  audit_filter by_target;
  by_target.target = "w-1";
  by_target.action = "freeze";
  const auto w1 = find_audit(db(), by_target);
  ASSERT_TRUE(w1.ok());
  EXPECT_EQ(w1.value().size(), 2U) << "alice froze w-1 at i = 1 and 3";
  for (const auto& row : w1.value()) {
    EXPECT_EQ(row.principal, "alice");
    EXPECT_EQ(row.details, "{}");
  }

  audit_filter future;
  future.from = now_us() + 1h;
  EXPECT_TRUE(find_audit(db(), future).value().empty());
  audit_filter past;
  past.to = now_us() - 1h;
  EXPECT_TRUE(find_audit(db(), past).value().empty());
  audit_filter now_window;
  now_window.from = now_us() - 1h;
  now_window.to = now_us() + 1h;
  EXPECT_EQ(find_audit(db(), now_window).value().size(), 10U);
}

TEST_F(audit_test, profiles_are_stored_replaced_and_erased_with_a_record_free_of_them) {
  owner_profile p{"owner-7", "Ada Lovelace", "ada@example.test", {}, {}};
  // put_profile names the action itself: created, then updated.
  auto stored = put_profile(db(), p, entry("dpo", "", "owner-7"));
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  p.email = "ada@analytical.test";
  auto replaced = put_profile(db(), p, entry("dpo", "", "owner-7"));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced.value().created_at, stored.value().created_at);
  EXPECT_EQ(find_profile(db(), "owner-7").value()->email, "ada@analytical.test");
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE target = 'owner-7' AND principal = 'dpo'"
                  " AND action = 'profile_created'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE target = 'owner-7' AND principal = 'dpo'"
                  " AND action = 'profile_updated'"),
            1);

  actors::audit_entry e = entry("dpo", "profile_erased", "owner-7");
  const auto erased = erase_profile(db(), "owner-7", e);
  ASSERT_TRUE(erased.ok()) << erased.error().detail;
  EXPECT_TRUE(erased.value().existed);
  EXPECT_FALSE(find_profile(db(), "owner-7").value().has_value());
  EXPECT_EQ(
      count("SELECT count(*) FROM audit_log WHERE id = " + std::to_string(erased.value().audit_id) +
            " AND target = 'owner-7' AND details->>'existed' = 'true'"),
      1);
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE audit_log::text ILIKE '%lovelace%'"
                  " OR audit_log::text ILIKE '%ada@%'"),
            0);
  const auto again = erase_profile(db(), "owner-7", e);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value().existed) << "erasure is idempotent, and each request recorded";
}

TEST_F(audit_test, a_refused_profile_is_reported_without_its_data) {
  const owner_profile bad{"owner-8", "", "grace@example.test", {}, {}};  // empty name: refused
  const auto r = put_profile(db(), bad, entry("dpo", "", "owner-8"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::rejected);
  EXPECT_EQ(r.error().detail.find("grace"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("23514"), std::string::npos) << r.error().detail;
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE target = 'owner-8'"), 0)
      << "a refused profile left an audit record";
}

}  // namespace
}  // namespace wallet::postgres::testing
