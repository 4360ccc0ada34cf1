// What the admin routes need of the database, as a port: the audit trail (pages, direct records),
// owner profiles with their erasure, and AML reviews. PostgreSQL answers in walletd (pg_admin), a
// fake in unit tests. Asynchronous like read_port: no server thread waits on a database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wallet/actors/audit.hpp"
#include "wallet/http/read_port.hpp"
#include "wallet/postgres/audit.hpp"
#include "wallet/postgres/reviews.hpp"

namespace wallet::http {

// Each call returns at once and calls `done` exactly once, possibly on another thread.
class admin_port {
 public:
  admin_port() = default;
  admin_port(const admin_port&) = delete;
  admin_port& operator=(const admin_port&) = delete;
  admin_port(admin_port&&) = delete;
  admin_port& operator=(admin_port&&) = delete;
  virtual ~admin_port() = default;

  virtual void audit(postgres::audit_filter filter,
                     read_callback<std::vector<postgres::audit_row>> done) = 0;
  virtual void append_audit(actors::audit_entry entry, read_callback<std::int64_t> done) = 0;
  // Stores the profile and records `entry` in one transaction (postgres::put_profile).
  virtual void put_profile(postgres::owner_profile profile, actors::audit_entry entry,
                           read_callback<postgres::owner_profile> done) = 0;
  virtual void profile(std::string owner_id,
                       read_callback<std::optional<postgres::owner_profile>> done) = 0;
  // Deletes the profile and records `entry` in one transaction (postgres::erase_profile).
  virtual void erase_profile(std::string owner_id, actors::audit_entry entry,
                             read_callback<postgres::erasure> done) = 0;
  // AML reviews (postgres::find_reviews, find_review).
  virtual void reviews(postgres::review_filter filter,
                       read_callback<std::vector<postgres::review_row>> done) = 0;
  virtual void review(std::string review_id,
                      read_callback<std::optional<postgres::review_row>> done) = 0;
};

}  // namespace wallet::http
