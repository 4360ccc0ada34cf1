// The admin port's thread: jobs carry a call (a function of the connection) and its callback.
// Only reads are retried after a lost connection; a write whose outcome is unknown is reported
// unavailable (the admin retries; erasure and profile writes are idempotent).
#include "wallet/http/pg_admin.hpp"

#include <pqxx/pqxx>

#include "pg_connect.hpp"

namespace wallet::http {

class pg_admin::connection {
 public:
  connection(const std::string& conninfo, const std::function<void(std::string_view)>& failed)
      : conninfo_(conninfo), failed_(failed) {}

  template <class T, class Call>
  read_result<T> run(const Call& call) {
    pqxx::connection* c = get();
    if (c == nullptr) return read_error{read_errc::unavailable, "not connected"};
    auto done = call(*c);
    if (done) return std::move(done).value();
    failed_(done.error().detail);
    if (done.error().code == postgres::errc::unavailable || !c->is_open()) held_.reset();
    return read_error{read_errc::unavailable, done.error().detail};
  }

 private:
  pqxx::connection* get() {
    if (held_ && held_->is_open()) return held_.get();
    held_.reset();  // a dead connection goes before its replacement comes
    held_ = open_connection(conninfo_, " (admin)", {{"TimeZone", "'UTC'"}}, failed_);
    return held_.get();
  }

  const std::string& conninfo_;
  const std::function<void(std::string_view)>& failed_;
  std::unique_ptr<pqxx::connection> held_;
};

pg_admin::pg_admin(std::string conninfo, std::function<void(std::string_view)> failed)
    : conninfo_(std::move(conninfo)), failed_(std::move(failed)) {
  if (!failed_) failed_ = [](std::string_view) {};
  // One thread: admin traffic is light.
  pool_.start(1, [this] { return connection{conninfo_, failed_}; });
}

pg_admin::~pg_admin() { stop(); }

void pg_admin::stop() { pool_.stop(); }

template <class T, class Call>
void pg_admin::enqueue(Call call, read_callback<T> done) {
  job_pool<connection>::job j;
  j.stopped = [done] { done(read_error{read_errc::unavailable, "the admin pool is stopping"}); };
  j.run = [call = std::move(call), done](connection& c) { done(c.template run<T>(call)); };
  if (pool_.push(std::move(j))) return;
  done(read_error{read_errc::overloaded, "admin calls are waiting (admin_queue_max)"});
}

void pg_admin::audit(postgres::audit_filter filter,
                     read_callback<std::vector<postgres::audit_row>> done) {
  enqueue<std::vector<postgres::audit_row>>(
      [f = std::move(filter)](pqxx::connection& c) { return postgres::find_audit(c, f); },
      std::move(done));
}

void pg_admin::append_audit(actors::audit_entry entry, read_callback<std::int64_t> done) {
  enqueue<std::int64_t>(
      [e = std::move(entry)](pqxx::connection& c) { return postgres::append_audit(c, e); },
      std::move(done));
}

void pg_admin::put_profile(postgres::owner_profile profile, actors::audit_entry entry,
                           read_callback<postgres::owner_profile> done) {
  enqueue<postgres::owner_profile>(
      [p = std::move(profile), e = std::move(entry)](pqxx::connection& c) {
        return postgres::put_profile(c, p, e);
      },
      std::move(done));
}

void pg_admin::profile(std::string owner_id,
                       read_callback<std::optional<postgres::owner_profile>> done) {
  enqueue<std::optional<postgres::owner_profile>>(
      [id = std::move(owner_id)](pqxx::connection& c) { return postgres::find_profile(c, id); },
      std::move(done));
}

void pg_admin::erase_profile(std::string owner_id, actors::audit_entry entry,
                             read_callback<postgres::erasure> done) {
  enqueue<postgres::erasure>([id = std::move(owner_id), e = std::move(entry)](
                                 pqxx::connection& c) { return postgres::erase_profile(c, id, e); },
                             std::move(done));
}

void pg_admin::reviews(postgres::review_filter filter,
                       read_callback<std::vector<postgres::review_row>> done) {
  enqueue<std::vector<postgres::review_row>>(
      [f = std::move(filter)](pqxx::connection& c) { return postgres::find_reviews(c, f); },
      std::move(done));
}

void pg_admin::review(std::string review_id,
                      read_callback<std::optional<postgres::review_row>> done) {
  enqueue<std::optional<postgres::review_row>>(
      [id = std::move(review_id)](pqxx::connection& c) { return postgres::find_review(c, id); },
      std::move(done));
}

}  // namespace wallet::http
