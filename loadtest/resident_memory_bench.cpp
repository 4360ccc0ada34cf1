// resident_memory_bench: the actor runtime's memory per resident wallet (issue 6's ≤ 2 KiB
// target, ADR 0010), in process over a store that keeps nothing, so that only the runtime's own
// memory grows: VmRSS before and after opening and funding N wallets. Figures only.
//   resident_memory_bench [--wallets=N] [--live-max=M] [--shards=S]
#include <caf/all.hpp>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "wallet/actors/runtime.hpp"
#include "wallet/engine/currency.hpp"

namespace wallet::loadtest {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t wallets_default = 100'000;
constexpr std::size_t batch = 1'000;  // commands in flight at once during set-up
constexpr auto settle = 2s;           // for the last wallets to report idle and go dormant

// Answers every load with an empty wallet and every commit with success, keeping nothing.
class null_store final : public actors::store_port {
 public:
  engine::result<actors::loaded_wallet, actors::store_error> load_wallet(
      const std::string& wallet_id, engine::timestamp /*keys_since*/,
      const engine::idempotency_bounds& /*bounds*/) override {
    actors::loaded_wallet out;
    out.state = engine::empty_wallet(wallet_id);
    return out;
  }
  engine::result<std::optional<engine::idempotency_record>, actors::store_error> find_key(
      const std::string& /*wallet_id*/, const std::string& /*key*/,
      engine::timestamp /*since*/) override {
    return std::optional<engine::idempotency_record>{};
  }
  std::optional<actors::store_error> commit(
      std::span<const actors::wallet_write> /*writes*/) override {
    return std::nullopt;
  }
  engine::result<std::vector<actors::transfer_record>, actors::store_error> pending_transfers(
      engine::timestamp /*older_than*/, std::size_t /*limit*/) override {
    return std::vector<actors::transfer_record>{};
  }
  engine::result<std::optional<actors::transfer_record>, actors::store_error> find_transfer(
      const std::string& /*source_wallet_id*/, const std::string& /*transfer_id*/) override {
    return std::optional<actors::transfer_record>{};
  }
  engine::result<std::vector<actors::due_hold>, actors::store_error> due_holds(
      engine::timestamp /*now*/, std::size_t /*limit*/) override {
    return std::vector<actors::due_hold>{};
  }
};

class dormant_count final : public actors::runtime_probe {
 public:
  explicit dormant_count(std::uint32_t shards) : per_shard_(shards) {}
  void wallets_dormant(std::uint32_t shard, std::size_t count) override {
    per_shard_.at(shard).store(count, std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t total() const {
    std::size_t sum = 0;
    for (const auto& c : per_shard_) sum += c.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  std::vector<std::atomic<std::size_t>> per_shard_;
};

// The process's resident set in KiB, from /proc/self/status.
std::size_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) {
      return std::stoul(line.substr(6));
    }
  }
  return 0;
}

std::optional<std::size_t> flag(std::string_view arg, std::string_view name) {
  if (!arg.starts_with(name)) return std::nullopt;
  arg.remove_prefix(name.size());
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), value);
  if (ec != std::errc{} || end != arg.data() + arg.size()) return std::nullopt;
  return value;
}

// Submits `make(i)` for every wallet, `batch` at a time; counts the commands not accepted.
template <class Make>
std::size_t submit_all(actors::runtime& rt, std::size_t wallets, Make make) {
  std::size_t failed = 0;
  std::vector<std::future<actors::submit_outcome>> futures;
  futures.reserve(batch);
  for (std::size_t first = 0; first < wallets; first += batch) {
    futures.clear();
    for (std::size_t i = first; i < std::min(wallets, first + batch); ++i) {
      futures.push_back(rt.submit(make(i)));
    }
    for (auto& f : futures) {
      if (!f.get().accepted()) ++failed;
    }
  }
  return failed;
}

int run(int argc, char** argv) {
  std::size_t wallets = wallets_default;
  actors::runtime_settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (auto v = flag(arg, "--wallets=")) {
      wallets = *v;
    } else if (auto l = flag(arg, "--live-max=")) {
      settings.wallets_live_max = *l;
    } else if (auto s = flag(arg, "--shards="); s && *s > 0) {
      settings.shards = static_cast<std::uint32_t>(*s);
    } else {
      std::fprintf(stderr, "usage: %s [--wallets=N] [--live-max=M] [--shards=S]\n", argv[0]);
      return 2;
    }
  }
  // No eviction: the limit is split evenly over the shards but the hash is not, and an evicted
  // wallet would come back empty from a store that keeps nothing.
  settings.wallets_resident_max = std::max(settings.wallets_resident_max, 2 * wallets);
  const auto eur = engine::currency::from_code("EUR").value();

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", std::size_t{2});
  caf::actor_system system{cfg};
  auto probe = std::make_shared<dormant_count>(settings.shards);
  actors::runtime rt{system, settings, [](std::uint32_t) { return std::make_unique<null_store>(); },
                     probe};
  std::this_thread::sleep_for(200ms);
  const std::size_t before = rss_kib();

  const auto id = [](std::size_t i) { return "w" + std::to_string(i); };
  std::size_t failed = submit_all(rt, wallets, [&](std::size_t i) {
    return engine::command{id(i), "open", engine::open_wallet{"owner", eur, 0}};
  });
  failed += submit_all(rt, wallets, [&](std::size_t i) {
    return engine::command{id(i), "fund", engine::deposit{engine::money{1'000, eur}}};
  });
  std::this_thread::sleep_for(settle);
  const std::size_t after = rss_kib();
  const double per_wallet =
      wallets == 0 ? 0.0
                   : static_cast<double>(after - before) * 1024.0 / static_cast<double>(wallets);
  std::printf(
      "wallets %zu  live_max %zu  shards %u  dormant %zu  not accepted %zu\n"
      "VmRSS before %zu KiB  after %zu KiB  growth %zu KiB  per wallet %.0f bytes (%.2f KiB)\n",
      wallets, settings.wallets_live_max, settings.shards, probe->total(), failed, before, after,
      after - before, per_wallet, per_wallet / 1024.0);
  rt.stop(5s);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace wallet::loadtest

int main(int argc, char** argv) { return wallet::loadtest::run(argc, argv); }
