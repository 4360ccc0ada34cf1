// Test support without a server: a wallet simulator that produces store writes exactly as a wallet
// actor does (through engine::wallet_aggregate), and small helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wallet/actors/store_port.hpp"
#include "wallet/engine/idempotency.hpp"

namespace wallet::postgres::testing {

// Readable failures without linking the actors library (which defines actors::to_string).
std::string describe(actors::store_errc code);
std::string describe(const std::optional<actors::store_error>& error);

// The current time, in the engine's resolution.
engine::timestamp now_us();

// The first `count` wallet ids "<prefix>-<n>" that land on `shard` of `shard_count`.
std::vector<std::string> ids_on_shard(const std::string& prefix, std::uint32_t shard,
                                      std::uint32_t shard_count, std::size_t count);

// One wallet driven through engine::wallet_aggregate, producing the write a wallet actor would
// hand to its store for each command.
class wallet_sim {
 public:
  explicit wallet_sim(std::string id);

  // Handles the command; it must not be a replay or a transient rejection (asserted by the test).
  actors::wallet_write handle(engine::command_body body, engine::timestamp at,
                              std::string key = {});

  // A withdrawal of `amount` the AML screening sent to review (ADR 0009): its review hold.
  actors::wallet_write hold_for_review(engine::money amount, engine::timestamp at, std::string key,
                                       engine::timestamp until);
  // A transfer the AML screening sent to review: its review hold, with the transfer's id and
  // destination as the wallet actor passes them to the store.
  actors::wallet_write transfer_for_review(engine::transfer_debit transfer, engine::timestamp at,
                                           std::string key, engine::timestamp until);

  [[nodiscard]] const engine::wallet_state& state() const { return aggregate_.state(); }
  [[nodiscard]] const std::string& id() const { return id_; }
  // The keys the aggregate remembers, oldest first, as load_wallet returns them.
  [[nodiscard]] const std::vector<std::pair<std::string, engine::idempotency_record>>& keys()
      const {
    return keys_;
  }

 private:
  actors::wallet_write write_of(std::uint64_t before, const engine::handled& h,
                                const std::string& key);

  std::string id_;
  engine::wallet_aggregate aggregate_;
  std::vector<std::pair<std::string, engine::idempotency_record>> keys_;
  std::uint64_t next_key_ = 1;
};

// Money in a test currency.
engine::money eur(std::int64_t minor);

}  // namespace wallet::postgres::testing
