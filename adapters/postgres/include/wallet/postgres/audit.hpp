// The audit trail and the owners' personal data on a caller's connection (migration 0007,
// docs/adr/0006-audit-trail.md): records written directly (file reloads, erasures), the auditor's
// filtered pages, and owner profiles with their erasure. Wallet commands' records are written by
// pg_store's commit instead, in the command's own transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wallet/actors/audit.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/time.hpp"
#include "wallet/postgres/error.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace wallet::postgres {

struct audit_row {
  std::int64_t id = 0;
  engine::timestamp at;  // the database's clock when the record was written
  std::string principal;
  std::string action;
  std::string target;
  std::string reason;
  std::string trace_id;  // empty when none
  std::string details;   // a JSON object, as text
};

// Every field set narrows the page; rows come in id order after `after_id`.
struct audit_filter {
  std::string principal;  // empty: any
  std::string action;
  std::string target;
  std::optional<engine::timestamp> from;  // at >= from
  std::optional<engine::timestamp> to;    // at < to
  std::int64_t after_id = 0;
  std::size_t limit = 100;
};

// Appends one record in its own transaction; returns its id. The entry must pass the table's
// checks (actors::is_valid_reason, a non-empty principal and target): `rejected` otherwise.
[[nodiscard]] engine::result<std::int64_t, error> append_audit(pqxx::connection_base& conn,
                                                               const actors::audit_entry& entry);

// One page of records matching `filter`, read in one snapshot.
[[nodiscard]] engine::result<std::vector<audit_row>, error> find_audit(pqxx::connection_base& conn,
                                                                       const audit_filter& filter);

struct owner_profile {
  std::string owner_id;
  std::string display_name;
  std::string email;
  engine::timestamp created_at;
  engine::timestamp updated_at;
};

// Creates or replaces the profile of `profile.owner_id` (its created_at is kept on a
// replacement) and appends `entry` as its audit record in the same transaction, with the action
// `profile_created` or `profile_updated` (the record names the owner id, never the personal
// fields); returns the stored row. Errors never carry the personal fields: their detail is the
// operation and the SQLSTATE.
[[nodiscard]] engine::result<owner_profile, error> put_profile(pqxx::connection_base& conn,
                                                               const owner_profile& profile,
                                                               actors::audit_entry entry);

[[nodiscard]] engine::result<std::optional<owner_profile>, error> find_profile(
    pqxx::connection_base& conn, const std::string& owner_id);

struct erasure {
  bool existed = false;       // whether there was a profile to erase
  std::int64_t audit_id = 0;  // the erasure's audit record
};

// Deletes the profile of `owner_id` and appends `entry` (its details gain "existed") in one
// transaction: an erasure is never done without its record, nor recorded without being done.
[[nodiscard]] engine::result<erasure, error> erase_profile(pqxx::connection_base& conn,
                                                           const std::string& owner_id,
                                                           actors::audit_entry entry);

}  // namespace wallet::postgres
