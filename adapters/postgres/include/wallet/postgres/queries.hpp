// Read-only lookups for clients' queries (the NATS query service, the HTTP API): a wallet as
// stored, an owner's wallets, the recorded outcome of one idempotency key, a transfer, a hold's
// events and the schema version. They read committed rows on a caller's connection, so they work
// on any instance (or a read replica), whichever shard owns the wallet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wallet/engine/event.hpp"
#include "wallet/engine/idempotency.hpp"
#include "wallet/engine/money.hpp"
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

// One page of the wallets of `owner` in id order, each with its open holds: those with an id
// after `after_id` ("" starts at the first), at most `limit` of them, read in one snapshot.
[[nodiscard]] engine::result<std::vector<engine::wallet_state>, error> list_wallets(
    pqxx::connection_base& conn, const std::string& owner, const std::string& after_id,
    std::size_t limit);

// A transfer saga's record (the `transfers` table): keyed by its source and its id. A transfer
// held for an AML review has no saga record until it is approved: its review stands in for it
// (ADR 0009) as pending_review, then review_rejected or review_expired if it never leaves.
enum class transfer_status : std::uint8_t {
  pending,
  completed,
  reversed,
  pending_review,
  review_rejected,
  review_expired
};

[[nodiscard]] std::string_view to_string(transfer_status s) noexcept;

struct transfer_record {
  std::string source;
  std::string id;
  std::string destination;
  engine::money amount;
  transfer_status status = transfer_status::pending;
  engine::timestamp created_at;
  engine::timestamp updated_at;
  std::string review_id = {};  // the AML review standing in for it (review statuses); or empty
};

// The transfer `transfer_id` out of `source`: its saga record, or else the newest AML review of
// a transfer with that id that was not approved (an approved one has its saga record, written in
// the same transaction); std::nullopt when there is neither.
[[nodiscard]] engine::result<std::optional<transfer_record>, error> find_transfer(
    pqxx::connection_base& conn, const std::string& source, const std::string& transfer_id);

// The events of the latest placement of hold `hold_id` on the wallet, in seq order: its
// hold_placed, then what ended it (captured, released or expired) if anything has. Empty when the
// wallet never placed such a hold. A hold id may be placed again once its hold has ended.
[[nodiscard]] engine::result<std::vector<engine::event>, error> hold_events(
    pqxx::connection_base& conn, const std::string& wallet_id, const std::string& hold_id);

// The highest applied migration version (0 when none is): readiness compares it with the
// embedded migrations.
[[nodiscard]] engine::result<int, error> schema_version(pqxx::connection_base& conn);

}  // namespace wallet::postgres
