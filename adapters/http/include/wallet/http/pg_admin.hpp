// The admin port over PostgreSQL: one thread with its own read-write connection to the primary,
// fed by a bounded queue (admin traffic is light; it must not take the read pool's connections,
// which are read-only). Calls past the bound are answered `overloaded` at once.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "wallet/http/admin_port.hpp"
#include "wallet/http/job_pool.hpp"

namespace wallet::http {

// Admin calls waiting for the connection; more are refused `overloaded`.
inline constexpr std::size_t admin_queue_max = 256;

class pg_admin final : public admin_port {
 public:
  // `conninfo` holds the password: never logged. `failed` hears every database failure, scrubbed
  // of the password and never holding profile data, for logs and metrics.
  pg_admin(std::string conninfo, std::function<void(std::string_view)> failed);
  ~pg_admin() override;  // stop()
  pg_admin(const pg_admin&) = delete;
  pg_admin& operator=(const pg_admin&) = delete;
  pg_admin(pg_admin&&) = delete;
  pg_admin& operator=(pg_admin&&) = delete;

  // Answers what is queued `unavailable`, lets the running call finish and joins the thread.
  void stop();

  void audit(postgres::audit_filter filter,
             read_callback<std::vector<postgres::audit_row>> done) override;
  void append_audit(actors::audit_entry entry, read_callback<std::int64_t> done) override;
  void put_profile(postgres::owner_profile profile, actors::audit_entry entry,
                   read_callback<postgres::owner_profile> done) override;
  void profile(std::string owner_id,
               read_callback<std::optional<postgres::owner_profile>> done) override;
  void erase_profile(std::string owner_id, actors::audit_entry entry,
                     read_callback<postgres::erasure> done) override;
  void reviews(postgres::review_filter filter,
               read_callback<std::vector<postgres::review_row>> done) override;
  void review(std::string review_id,
              read_callback<std::optional<postgres::review_row>> done) override;

  class connection;

 private:
  template <class T, class Call>
  void enqueue(Call call, read_callback<T> done);

  std::string conninfo_;
  std::function<void(std::string_view)> failed_;
  job_pool<connection> pool_{admin_queue_max};  // last: its thread uses the members above
};

}  // namespace wallet::http
