// A load process for the crash test: runs the same runtime walletd runs, over PostgreSQL, opens
// and funds wallets, then submits transfers until it is killed. Prints "transfers N" as they
// commit. Usage: transfer_driver CONNINFO WALLETS SHARDS
#include <caf/all.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <pqxx/pqxx>
#include <random>
#include <semaphore>
#include <string>

#include "wallet/actors/runtime.hpp"
#include "wallet/postgres/database.hpp"
#include "wallet/postgres/pg_store.hpp"

namespace {

using namespace wallet;

constexpr std::int64_t opening_balance = 1'000'000;
constexpr std::ptrdiff_t in_flight_max = 256;

std::string wallet_id(long i) { return "k-" + std::to_string(i); }

// Submits until decided (transient refusals are retried with the same key).
actors::submit_outcome decide(actors::runtime& rt, const engine::command& c) {
  for (;;) {
    auto o = rt.submit(c).get();
    if (!o.error) return o;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: transfer_driver CONNINFO WALLETS SHARDS\n");
    return 2;
  }
  const std::string conninfo = argv[1];
  const long wallets = std::atol(argv[2]);
  const auto shards = static_cast<std::uint32_t>(std::atol(argv[3]));
  {
    pqxx::connection conn{conninfo};
    if (!postgres::migrate(conn).ok() || !postgres::ensure_shard_count(conn, shards).ok()) {
      std::fprintf(stderr, "database preparation failed\n");
      return 1;
    }
  }
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  actors::runtime_settings settings;
  settings.shards = shards;
  actors::runtime rt{system, settings,
                     [&](std::uint32_t shard) {
                       postgres::pg_store_settings s;
                       s.conninfo = conninfo;
                       s.shard_id = shard;
                       s.shard_count = shards;
                       return std::make_unique<postgres::pg_store>(s);
                     },
                     nullptr};
  const auto eur = *engine::currency::from_code("EUR");
  for (long i = 0; i < wallets; ++i) {
    decide(rt, {wallet_id(i), "open", engine::open_wallet{"owner", eur, 0}});
    decide(rt, {wallet_id(i), "fund", engine::deposit{{opening_balance, eur}}});
  }
  std::printf("ready\n");
  std::fflush(stdout);

  std::counting_semaphore<in_flight_max> slots{in_flight_max};
  std::atomic<long> committed{0};
  std::mt19937_64 rng{std::random_device{}()};
  for (long n = 0;; ++n) {
    const long a = static_cast<long>(rng() % static_cast<std::uint64_t>(wallets));
    const long b =
        (a + 1 + static_cast<long>(rng() % static_cast<std::uint64_t>(wallets - 1))) % wallets;
    const std::string tid = "x-" + std::to_string(n);
    engine::command c{wallet_id(a), tid,
                      engine::transfer_debit{
                          tid, wallet_id(b), {1 + static_cast<std::int64_t>(rng() % 1'000), eur}}};
    slots.acquire();
    rt.submit(std::move(c), [&](const actors::submit_outcome& o) {
      if (o.accepted()) {
        const long done = ++committed;
        if (done % 500 == 0) {
          std::printf("transfers %ld\n", done);
          std::fflush(stdout);
        }
      }
      slots.release();
    });
  }
}
