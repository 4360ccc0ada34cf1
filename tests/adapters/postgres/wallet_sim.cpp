// The wallet simulator and helpers shared by the adapter's tests.
#include "wallet_sim.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "wallet/engine/shard.hpp"

namespace wallet::postgres::testing {

std::string describe(actors::store_errc code) {
  switch (code) {
    case actors::store_errc::unavailable:
      return "unavailable";
    case actors::store_errc::fence_conflict:
      return "fence_conflict";
    case actors::store_errc::rejected:
      return "rejected";
  }
  return "unknown";
}

std::string describe(const std::optional<actors::store_error>& error) {
  return error ? describe(error->code) + ": " + error->detail : std::string("ok");
}

engine::timestamp now_us() {
  return std::chrono::floor<engine::duration>(std::chrono::system_clock::now());
}

std::vector<std::string> ids_on_shard(const std::string& prefix, std::uint32_t shard,
                                      std::uint32_t shard_count, std::size_t count) {
  std::vector<std::string> ids;
  for (std::size_t n = 0; ids.size() < count; ++n) {
    std::string id = prefix + "-" + std::to_string(n);
    if (engine::shard_of(id, shard_count) == shard) {
      ids.push_back(std::move(id));
    }
  }
  return ids;
}

wallet_sim::wallet_sim(std::string id)
    : id_(id), aggregate_(std::move(id), std::chrono::hours(24)) {}

actors::wallet_write wallet_sim::handle(engine::command_body body, engine::timestamp at,
                                        std::string key) {
  if (key.empty()) {
    key = id_ + ".k" + std::to_string(next_key_++);
  }
  const std::uint64_t before = aggregate_.state().version;
  // No KYC limits and every flag on: the adapter's tests are about storing what was decided.
  const engine::handled h = aggregate_.handle(engine::command{id_, key, std::move(body)}, at,
                                              engine::policy::unlimited(), engine::feature_flags{});
  return write_of(before, h, key);
}

actors::wallet_write wallet_sim::hold_for_review(engine::money amount, engine::timestamp at,
                                                 std::string key, engine::timestamp until) {
  const std::uint64_t before = aggregate_.state().version;
  const engine::handled h =
      aggregate_.hold_for_review(engine::command{id_, key, engine::withdraw{amount}}, at,
                                 engine::policy::unlimited(), engine::feature_flags{}, until);
  return write_of(before, h, key);
}

actors::wallet_write wallet_sim::transfer_for_review(engine::transfer_debit transfer,
                                                     engine::timestamp at, std::string key,
                                                     engine::timestamp until) {
  const std::uint64_t before = aggregate_.state().version;
  std::string transfer_id = transfer.transfer_id;
  std::string destination = transfer.destination;
  const engine::handled h =
      aggregate_.hold_for_review(engine::command{id_, key, std::move(transfer)}, at,
                                 engine::policy::unlimited(), engine::feature_flags{}, until);
  actors::wallet_write w = write_of(before, h, key);
  w.review_transfer_id = std::move(transfer_id);
  w.review_destination = std::move(destination);
  return w;
}

actors::wallet_write wallet_sim::write_of(std::uint64_t before, const engine::handled& h,
                                          const std::string& key) {
  EXPECT_FALSE(h.replayed) << id_ << " " << key;
  actors::wallet_write w;
  w.wallet_id = id_;
  w.expected_version = before;
  w.after = aggregate_.state();
  if (h.appended) {
    w.events.push_back(*h.appended);
  }
  w.idempotency_key = key;
  if (const engine::idempotency_record* record = aggregate_.window().find(key)) {
    w.record = *record;
    keys_.emplace_back(key, *record);
  } else {
    ADD_FAILURE() << id_ << " " << key << ": not remembered (a transient rejection?)";
  }
  return w;
}

engine::money eur(std::int64_t minor) {
  return engine::money{minor, *engine::currency::from_code("EUR")};
}

}  // namespace wallet::postgres::testing
