// Commit throughput of pg_store: batches of 512 single-event writes on distinct wallets, the shape
// of a full store batch (store.batch_size_max). Prints events/s; asserts only a sanity floor.
// WALLET_PG_BENCH_BATCHES sets how many batches are timed (default 40).
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "pg_fixture.hpp"

namespace wallet::postgres::testing {
namespace {

using namespace std::chrono_literals;
using actors::wallet_write;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t batch_size = 512;

struct timing {
  std::vector<double> commit_ms;
  double events_per_s = 0;
};

timing run(pg_store& store, const std::vector<std::vector<wallet_write>>& batches) {
  timing t;
  const auto start = clock_type::now();
  for (const auto& batch : batches) {
    const auto begin = clock_type::now();
    const auto e = store.commit(batch);
    EXPECT_FALSE(e.has_value()) << describe(e);
    t.commit_ms.push_back(
        std::chrono::duration<double, std::milli>(clock_type::now() - begin).count());
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  t.events_per_s = static_cast<double>(batches.size() * batch_size) / seconds;
  std::sort(t.commit_ms.begin(), t.commit_ms.end());
  return t;
}

void report(const char* what, const timing& t) {
  const auto at = [&](double q) {
    return t.commit_ms[static_cast<std::size_t>(q * static_cast<double>(t.commit_ms.size() - 1))];
  };
  std::cout << "[ throughput ] " << what << ": " << static_cast<long long>(t.events_per_s)
            << " events/s over " << t.commit_ms.size() << " commits of " << batch_size
            << " (commit ms p50 " << at(0.5) << ", p99 " << at(0.99) << ", max "
            << t.commit_ms.back() << ")\n";
}

// `batches` batches of single-event writes on batch_size distinct wallets of one shard: the opening
// batch first, then deposits.
std::vector<std::vector<wallet_write>> make_batches(const std::vector<std::string>& ids,
                                                    std::size_t batches, engine::timestamp t0) {
  std::vector<wallet_sim> wallets(ids.begin(), ids.end());
  std::vector<std::vector<wallet_write>> out(batches + 1);
  for (auto& w : wallets) {
    out[0].push_back(w.handle(engine::open_wallet{"owner", eur(0).ccy, 0}, t0));
  }
  for (std::size_t b = 1; b <= batches; ++b) {
    for (auto& w : wallets) {
      out[b].push_back(w.handle(engine::deposit{eur(1)}, t0 + std::chrono::microseconds(b)));
    }
  }
  return out;
}

std::size_t batches_from_env(std::size_t fallback) {
  const char* env = std::getenv("WALLET_PG_BENCH_BATCHES");
  return env != nullptr ? std::strtoul(env, nullptr, 10) : fallback;
}

using throughput_test = pg_test;

TEST_F(throughput_test, commits_batches_of_512_single_event_writes) {
  db();
  const std::size_t batches = batches_from_env(40);
  ASSERT_GT(batches, 0U);
  // Prepared before timing: the engine's work is not the store's.
  auto all = make_batches(ids_on_shard("bench", 0, 1, batch_size), batches, now_us());
  const std::vector<std::vector<wallet_write>> opens(all.begin(), all.begin() + 1);
  const std::vector<std::vector<wallet_write>> deposits(all.begin() + 1, all.end());

  pg_store store(store_settings());
  ASSERT_FALSE(store.connect().has_value());
  report("new wallets (insert), 1 store", run(store, opens));
  const timing t = run(store, deposits);
  report("deposits on distinct wallets (update), 1 store", t);
  RecordProperty("events_per_s", static_cast<int>(t.events_per_s));
  EXPECT_GT(t.events_per_s, 1'000.0) << "far below what one connection should do";
  EXPECT_EQ(sql("SELECT sum(balance) FROM wallets")[0][0].as<std::size_t>(), batches * batch_size);
}

TEST_F(throughput_test, shards_commit_in_parallel) {
  db();
  constexpr std::uint32_t shards = 4;
  const std::size_t batches = batches_from_env(40) / shards + 1;
  std::vector<std::vector<std::vector<wallet_write>>> work;
  std::vector<std::unique_ptr<pg_store>> stores;
  for (std::uint32_t s = 0; s < shards; ++s) {
    work.push_back(make_batches(ids_on_shard("par", s, shards, batch_size), batches, now_us()));
    stores.push_back(std::make_unique<pg_store>(store_settings(s, shards)));
    ASSERT_FALSE(stores.back()->connect().has_value());
    ASSERT_FALSE(stores.back()->commit(work.back()[0]).has_value());  // open the wallets
  }
  const auto start = clock_type::now();
  std::vector<std::thread> threads;
  for (std::uint32_t s = 0; s < shards; ++s) {
    threads.emplace_back([&, s] {
      for (std::size_t b = 1; b <= batches; ++b) {
        const auto e = stores[s]->commit(work[s][b]);
        EXPECT_FALSE(e.has_value()) << describe(e);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const double rate = static_cast<double>(shards * batches * batch_size) / seconds;
  std::cout << "[ throughput ] deposits, " << shards
            << " stores in parallel: " << static_cast<long long>(rate) << " events/s\n";
  RecordProperty("parallel_events_per_s", static_cast<int>(rate));
}

}  // namespace
}  // namespace wallet::postgres::testing
