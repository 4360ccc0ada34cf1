// AML reviews on a caller's connection (migrations 0008 and 0010,
// docs/adr/0009-aml-review-holds.md): the reviewer's filtered pages and one review by id. The rows
// are written by pg_store's commit, in the transactions of their review hold's events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wallet/engine/result.hpp"
#include "wallet/engine/time.hpp"
#include "wallet/postgres/error.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace wallet::postgres {

struct review_row {
  std::string review_id;
  std::string wallet_id;
  std::string hold_id;
  std::string command;  // "withdraw" or "transfer_debit"
  std::string idempotency_key;
  std::int64_t amount = 0;  // minor units of `currency`
  std::string currency;
  std::string reasons;  // engine::reasons_text: "amount,velocity_count"
  std::string status;   // pending, approved, rejected, expired
  engine::timestamp opened_at;
  engine::timestamp expires_at;
  std::optional<engine::timestamp> decided_at;
  std::string decided_by;  // empty: none (pending, or expired)
  std::string decision_reason;
  // A transfer's review (migration 0010): the transfer's id on the source and its destination;
  // empty for a withdrawal's.
  std::string transfer_id;
  std::string destination;
};

// Every field set narrows the page; rows come oldest first (opened_at, then review_id), after the
// review `after` when it is set.
struct review_filter {
  std::string status;     // empty: any
  std::string wallet_id;  // empty: any
  std::string after;      // a review id: the last one of the previous page
  std::size_t limit = 100;
};

[[nodiscard]] engine::result<std::vector<review_row>, error> find_reviews(
    pqxx::connection_base& conn, const review_filter& filter);

[[nodiscard]] engine::result<std::optional<review_row>, error> find_review(
    pqxx::connection_base& conn, const std::string& review_id);

}  // namespace wallet::postgres
