// The query lookups against a real PostgreSQL: what pg_store committed is found again exactly
// (state, holds, records with their events), and what was never written is std::nullopt.
#include "wallet/postgres/queries.hpp"
#include "pg_fixture.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::wallet_write;

class queries_test : public pg_test {
 protected:
  void SetUp() override {
    pg_test::SetUp();
    if (!HasFatalFailure()) {
      db();
    }
  }

  void commit_ok(std::vector<wallet_write> writes) {
    pg_store store(store_settings());
    const auto e = store.commit(writes);
    ASSERT_FALSE(e.has_value()) << describe(e);
  }

  static engine::command_body open(std::int64_t overdraft = 0) {
    return engine::open_wallet{"owner-1", eur(0).ccy, overdraft};
  }

  const engine::timestamp t0_ = now_us();
};

TEST_F(queries_test, a_committed_wallet_is_found_with_its_open_holds) {
  wallet_sim w("w-1");
  commit_ok({w.handle(open(500), t0_), w.handle(engine::deposit{eur(10'000)}, t0_ + 1us),
             w.handle(engine::hold_place{"h1", eur(1'500), t0_ + 1h}, t0_ + 2us),
             w.handle(engine::hold_place{"h2", eur(2'500), t0_ + 2h}, t0_ + 3us)});
  commit_ok({w.handle(engine::hold_release{"h1"}, t0_ + 4us),
             w.handle(engine::freeze{"audit"}, t0_ + 5us)});

  const auto found = find_wallet(db(), "w-1");
  ASSERT_TRUE(found.ok()) << found.error().detail;
  ASSERT_TRUE(found.value().has_value());
  EXPECT_EQ(*found.value(), w.state());
  EXPECT_EQ(found.value()->holds.size(), 1U);
  EXPECT_EQ(found.value()->status, engine::wallet_status::frozen);
}

TEST_F(queries_test, a_wallet_never_opened_is_not_found) {
  const auto found = find_wallet(db(), "nobody");
  ASSERT_TRUE(found.ok()) << found.error().detail;
  EXPECT_FALSE(found.value().has_value());
}

TEST_F(queries_test, an_accepted_command_is_found_with_its_event_and_currency) {
  wallet_sim w("w-2");
  std::vector<wallet_write> batch{w.handle(open(), t0_, "open-1"),
                                  w.handle(engine::deposit{eur(1'234)}, t0_ + 1us, "dep-1")};
  commit_ok(batch);

  const auto found = find_outcome(db(), "w-2", "dep-1");
  ASSERT_TRUE(found.ok()) << found.error().detail;
  ASSERT_TRUE(found.value().has_value());
  const stored_outcome& o = *found.value();
  EXPECT_EQ(o.record, batch[1].record);
  EXPECT_EQ(o.currency, "EUR");
  ASSERT_TRUE(o.event.has_value());
  EXPECT_EQ(*o.event, batch[1].events.at(0));
  EXPECT_EQ(o.record.result.balance, 1'234);

  const auto opened = find_outcome(db(), "w-2", "open-1");
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  ASSERT_TRUE(opened.value().has_value());
  ASSERT_TRUE(opened.value()->event.has_value());
  EXPECT_EQ(opened.value()->event->seq, 1U);
}

TEST_F(queries_test, a_rejected_command_is_found_without_an_event) {
  wallet_sim w("w-3");
  std::vector<wallet_write> batch{w.handle(open(), t0_),
                                  w.handle(engine::withdraw{eur(5)}, t0_ + 1us, "wd-1")};
  commit_ok(batch);

  const auto found = find_outcome(db(), "w-3", "wd-1");
  ASSERT_TRUE(found.ok()) << found.error().detail;
  ASSERT_TRUE(found.value().has_value());
  EXPECT_EQ(found.value()->record, batch[1].record);
  EXPECT_EQ(found.value()->record.result.rejected, engine::rejection::insufficient_funds);
  EXPECT_FALSE(found.value()->event.has_value());
  EXPECT_EQ(found.value()->currency, "EUR");
}

TEST_F(queries_test, a_rejection_on_a_wallet_never_opened_has_no_currency) {
  wallet_sim w("w-none");
  commit_ok({w.handle(engine::deposit{eur(5)}, t0_, "dep-0")});

  const auto found = find_outcome(db(), "w-none", "dep-0");
  ASSERT_TRUE(found.ok()) << found.error().detail;
  ASSERT_TRUE(found.value().has_value());
  EXPECT_EQ(found.value()->record.result.rejected, engine::rejection::wallet_not_found);
  EXPECT_TRUE(found.value()->currency.empty());
  EXPECT_FALSE(found.value()->event.has_value());
}

TEST_F(queries_test, an_unknown_key_or_wallet_is_not_found) {
  wallet_sim w("w-4");
  commit_ok({w.handle(open(), t0_, "open-1")});
  const auto key = find_outcome(db(), "w-4", "never-sent");
  ASSERT_TRUE(key.ok()) << key.error().detail;
  EXPECT_FALSE(key.value().has_value());
  // The key exists, but on another wallet.
  const auto wallet = find_outcome(db(), "w-other", "open-1");
  ASSERT_TRUE(wallet.ok()) << wallet.error().detail;
  EXPECT_FALSE(wallet.value().has_value());
}

TEST_F(queries_test, a_lost_connection_is_unavailable) {
  const auto lost = [this] {
    auto c = connect();
    pqxx::nontransaction(*c).exec("SELECT 1");
    sql("SELECT pg_terminate_backend(" + std::to_string(c->backendpid()) + ")");
    return c;
  };
  const auto wallet = find_wallet(*lost(), "w-1");
  ASSERT_FALSE(wallet.ok());
  EXPECT_EQ(wallet.error().code, errc::unavailable) << wallet.error().detail;
  const auto outcome = find_outcome(*lost(), "w-1", "k");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, errc::unavailable) << outcome.error().detail;
}

}  // namespace
}  // namespace wallet::postgres::testing
