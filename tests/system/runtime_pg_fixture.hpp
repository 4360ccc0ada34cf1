// The system tests' fixture: the actor runtime over the real PostgreSQL store, in a fresh
// database, with helpers to drive duplicated load and to check the database afterwards.
#pragma once

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <atomic>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "pg_fixture.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/postgres/database.hpp"
#include "wallet/postgres/pg_store.hpp"

namespace wallet::system_test {

using namespace std::chrono_literals;
using actors::submit_errc;
using actors::submit_outcome;

inline const engine::currency eur = *engine::currency::from_code("EUR");
inline constexpr std::int64_t opening_balance = 100'000;

struct planned {
  engine::command cmd;
  std::optional<submit_outcome> outcome;  // the decided outcome, once known
};

class runtime_pg_test : public postgres::testing::pg_test {
 protected:
  void start_runtime(actors::runtime_settings settings = {}) {
    ASSERT_TRUE(postgres::migrate(db()).ok());
    settings.shards = shards_;
    settings.recovery_scan_interval = 1s;
    settings.restart.initial = 20ms;
    settings.restart.max = 500ms;
    settings.circuit = actors::circuit_breaker_settings{3, 200ms};
    ASSERT_TRUE(postgres::ensure_shard_count(db(), shards_).ok());
    cfg_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(cfg_);
    const auto base = store_settings(0, shards_);
    runtime_ = std::make_unique<actors::runtime>(
        *system_, settings,
        [base](std::uint32_t shard) {
          auto s = base;
          s.shard_id = shard;
          return std::make_unique<postgres::pg_store>(s);
        },
        nullptr);
  }

  void TearDown() override {
    if (runtime_) {
      runtime_->stop(5s);
    }
    if (system_) {
      system_->await_all_actors_done();
    }
    runtime_.reset();
    system_.reset();
    pg_test::TearDown();
  }

  // Submits until the runtime decides (a client retries transient refusals with the same key).
  submit_outcome decide(const engine::command& c) {
    for (int attempt = 0;; ++attempt) {
      auto f = runtime_->submit(c);
      if (f.wait_for(30s) != std::future_status::ready) {
        ADD_FAILURE() << "no answer within 30 s for " << c.idempotency_key;
        return actors::refused(submit_errc::unavailable);
      }
      submit_outcome o = f.get();
      if (!o.error) {
        ++decided_;
        return o;
      }
      ++refusals_;
      EXPECT_TRUE(*o.error == submit_errc::unavailable || *o.error == submit_errc::overloaded)
          << actors::to_string(*o.error);
      EXPECT_LT(attempt, 2'000) << "never decided: " << c.idempotency_key;
      if (attempt >= 2'000) {
        return o;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{5 + 5 * std::min(attempt, 20)});
    }
  }

  void open_wallets(int count) {
    std::vector<std::future<void>> done;
    for (int t = 0; t < 8; ++t) {
      done.push_back(std::async(std::launch::async, [this, t, count] {
        for (int i = t; i < count; i += 8) {
          const std::string id = wallet(i);
          EXPECT_TRUE(decide({id, "open", engine::open_wallet{"owner", eur, 0}}).accepted());
          EXPECT_TRUE(decide({id, "fund", engine::deposit{{opening_balance, eur}}}).accepted());
        }
      }));
    }
    for (auto& d : done) d.get();
  }

  static std::string wallet(int i) { return "w-" + std::to_string(i); }

  std::vector<planned> random_commands(int wallets, int count, std::uint64_t seed) {
    std::mt19937_64 rng{seed};
    std::vector<planned> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      const int a = static_cast<int>(rng() % static_cast<std::uint64_t>(wallets));
      int b = static_cast<int>(rng() % static_cast<std::uint64_t>(wallets - 1));
      if (b >= a) ++b;
      const std::int64_t amount = 1 + static_cast<std::int64_t>(rng() % 20'000);
      const std::string key = "c-" + std::to_string(i);
      const auto kind = rng() % 10;
      engine::command c;
      if (kind < 6) {
        c = {wallet(a), key,
             engine::transfer_debit{"t-" + std::to_string(i), wallet(b), {amount, eur}}};
      } else if (kind < 8) {
        c = {wallet(a), key, engine::deposit{{amount, eur}}};
      } else {
        c = {wallet(a), key, engine::withdraw{{amount, eur}}};
      }
      out.push_back(planned{std::move(c), std::nullopt});
    }
    return out;
  }

  // `submitters` threads; every command is submitted twice (at once for even indexes, one after
  // the other for odd ones), and both answers must agree.
  void run_twice(std::vector<planned>& plan, int submitters) {
    std::atomic<std::size_t> next{0};
    std::vector<std::future<void>> threads;
    for (int t = 0; t < submitters; ++t) {
      threads.push_back(std::async(std::launch::async, [&] {
        for (std::size_t i = next++; i < plan.size(); i = next++) {
          const engine::command& c = plan[i].cmd;
          submit_outcome first;
          submit_outcome second;
          if (i % 2 == 0) {
            auto f = std::async(std::launch::async, [&] { return decide(c); });
            second = decide(c);
            first = f.get();
          } else {
            first = decide(c);
            second = decide(c);
          }
          EXPECT_EQ(first.result, second.result) << c.idempotency_key;
          EXPECT_TRUE(first.replayed || second.replayed) << c.idempotency_key;
          plan[i].outcome = first.replayed ? second : first;
        }
      }));
    }
    for (auto& t : threads) t.get();
  }

  bool transfers_settled(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (sql("SELECT count(*) FROM transfers WHERE status = 'pending'")[0][0].as<long>() == 0) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // Every answered success is in the database, exactly once; nothing else of the clients is.
  void expect_applied_exactly_once(const std::vector<planned>& plan) {
    std::map<std::pair<std::string, std::string>, long> events;
    for (const auto& row : sql("SELECT wallet_id, idempotency_key, count(*) FROM wallet_events "
                               "WHERE idempotency_key LIKE 'c-%' GROUP BY 1, 2")) {
      events[{row[0].as<std::string>(), row[1].as<std::string>()}] = row[2].as<long>();
    }
    std::size_t accepted = 0;
    for (const auto& p : plan) {
      ASSERT_TRUE(p.outcome.has_value()) << p.cmd.idempotency_key;
      const auto it = events.find({p.cmd.wallet_id, p.cmd.idempotency_key});
      const long stored = it == events.end() ? 0 : it->second;
      if (p.outcome->accepted()) {
        ++accepted;
        EXPECT_EQ(stored, 1) << p.cmd.idempotency_key;
      } else {
        EXPECT_EQ(stored, 0) << p.cmd.idempotency_key;
      }
    }
    EXPECT_EQ(events.size(), accepted);
  }

  // The invariants a reconciliation checks, straight in SQL.
  void expect_reconciled(std::int64_t deposited_total) {
    EXPECT_EQ(sql("SELECT count(*) FROM wallets WHERE balance < -overdraft_limit")[0][0].as<long>(),
              0);
    const auto folded = sql(
        "SELECT count(*) FROM wallets w LEFT JOIN (SELECT wallet_id, sum(delta) AS d, "
        "sum(held_delta) AS h, max(seq) AS m, count(*) AS n FROM wallet_events GROUP BY 1) e "
        "ON e.wallet_id = w.id WHERE w.balance <> coalesce(e.d, 0) OR w.held <> coalesce(e.h, 0) "
        "OR w.version <> coalesce(e.m, 0) OR w.version <> coalesce(e.n, 0)");
    EXPECT_EQ(folded[0][0].as<long>(), 0) << "a wallet differs from the fold of its events";
    const auto totals =
        sql("SELECT coalesce(sum(balance), 0), (SELECT coalesce(sum(amount), 0) FROM transfers "
            "WHERE status = 'pending') FROM wallets");
    EXPECT_EQ(totals[0][0].as<std::int64_t>() + totals[0][1].as<std::int64_t>(), deposited_total)
        << "money was created or lost";
  }

  std::int64_t net_deposits(const std::vector<planned>& plan, int wallets) {
    std::int64_t total = opening_balance * wallets;
    for (const auto& p : plan) {
      if (!p.outcome || !p.outcome->accepted()) continue;
      if (const auto* d = std::get_if<engine::deposit>(&p.cmd.body)) total += d->amount.minor;
      if (const auto* w = std::get_if<engine::withdraw>(&p.cmd.body)) total -= w->amount.minor;
    }
    return total;
  }

  std::atomic<long> refusals_{0};  // transient refusals seen (and retried)
  std::atomic<long> decided_{0};   // commands answered with an outcome
  std::uint32_t shards_ = 4;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<actors::runtime> runtime_;
};

}  // namespace wallet::system_test
