// Read-only lookups for clients' queries (the NATS query service): a wallet as stored, and the
// recorded outcome of one idempotency key. They read committed rows on a caller's connection, so
// they work on any instance (or a read replica), whichever shard owns the wallet.
#pragma once

#include <optional>
#include <string>

#include "wallet/engine/event.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/wallet.hpp"
#include "wallet/postgres/error.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace wallet::postgres {

// The wallet's row and its open holds, read in one snapshot; std::nullopt when it was never
// opened. A row the engine could not have written (unknown currency or status) is `rejected`.
[[nodiscard]] engine::result<std::optional<engine::wallet_state>, error> find_wallet(
    pqxx::connection_base& conn, const std::string& wallet_id);

// What the engine remembers for one key of a wallet.
struct stored_outcome {
  engine::idempotency_record record;
  std::string currency;                // the wallet's ISO code; empty when it has no row
  std::optional<engine::event> event;  // the event the command appended, when it was accepted
};

// The record of `key` on `wallet_id` (std::nullopt when none: never seen, or purged), with the
// wallet's currency and the appended event, read in one snapshot.
[[nodiscard]] engine::result<std::optional<stored_outcome>, error> find_outcome(
    pqxx::connection_base& conn, const std::string& wallet_id, const std::string& key);

}  // namespace wallet::postgres
