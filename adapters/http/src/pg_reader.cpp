// The PostgreSQL read pool: jobs carry a read (a function of a connection) and its callback; a
// worker runs the read on its connection, reconnecting once if the connection turns out dead.
#include "wallet/http/pg_reader.hpp"

#include <pqxx/pqxx>

#include "pg_connect.hpp"
#include "wallet/postgres/database.hpp"

namespace wallet::http {

class pg_reader::worker {
 public:
  worker(const pg_reader_settings& s, const std::function<void(std::string_view)>& failed)
      : settings_(s), failed_(failed) {}

  // Runs `read` on the primary's (or the replica's) connection; a connection found dead is
  // reopened and the read tried once more: reads are idempotent.
  template <class T, class Read>
  read_result<T> run(bool replica, const Read& read) {
    for (int attempt = 1;; ++attempt) {
      pqxx::connection* c = connection(replica);
      if (c == nullptr) return read_error{read_errc::unavailable, "not connected"};
      auto found = read(*c);
      if (found) return std::move(found).value();
      const bool lost = !c->is_open();
      failed_(found.error().detail);
      if (found.error().code == postgres::errc::unavailable || lost) slot(replica).reset();
      if (!lost || attempt == 2) return read_error{read_errc::unavailable, found.error().detail};
    }
  }

 private:
  // History goes to the replica when there is one; everything else reads its own writes.
  std::unique_ptr<pqxx::connection>& slot(bool replica) {
    return replica && !settings_.replica_conninfo.empty() ? replica_ : primary_;
  }

  pqxx::connection* connection(bool replica) {
    const bool use_replica = replica && !settings_.replica_conninfo.empty();
    auto& held = slot(replica);
    if (held && held->is_open()) return held.get();
    held.reset();  // a dead connection goes before its replacement comes
    held = open_connection(use_replica ? settings_.replica_conninfo : settings_.conninfo,
                           use_replica ? " (replica)" : "",
                           {{"default_transaction_read_only", "on"}}, failed_);
    return held.get();
  }

  const pg_reader_settings& settings_;
  const std::function<void(std::string_view)>& failed_;
  std::unique_ptr<pqxx::connection> primary_;
  std::unique_ptr<pqxx::connection> replica_;
};

pg_reader::pg_reader(pg_reader_settings settings, std::function<void(std::string_view)> failed)
    : settings_(std::move(settings)), failed_(std::move(failed)), pool_(settings_.queue_max) {
  if (!failed_) failed_ = [](std::string_view) {};
  pool_.start(settings_.connections, [this] { return worker{settings_, failed_}; });
}

pg_reader::~pg_reader() { stop(); }

void pg_reader::stop() { pool_.stop(); }

template <class T, class Read>
void pg_reader::enqueue(bool replica, Read read, read_callback<T> done) {
  job_pool<worker>::job j;
  j.stopped = [done] { done(read_error{read_errc::unavailable, "the reader is stopping"}); };
  j.run = [replica, read = std::move(read), done](worker& w) {
    done(w.template run<T>(replica, read));
  };
  if (pool_.push(std::move(j))) return;
  done(read_error{read_errc::overloaded, "http.read_queue_max reads are waiting"});
}

void pg_reader::wallet(std::string wallet_id,
                       read_callback<std::optional<engine::wallet_state>> done) {
  enqueue<std::optional<engine::wallet_state>>(
      false,
      [id = std::move(wallet_id)](pqxx::connection& c) { return postgres::find_wallet(c, id); },
      std::move(done));
}

void pg_reader::wallets_of(std::string owner, std::string after_id, std::size_t limit,
                           read_callback<std::vector<engine::wallet_state>> done) {
  enqueue<std::vector<engine::wallet_state>>(
      false,
      [owner = std::move(owner), after = std::move(after_id), limit](pqxx::connection& c) {
        return postgres::list_wallets(c, owner, after, limit);
      },
      std::move(done));
}

void pg_reader::history(std::string wallet_id, std::uint64_t after_seq, std::size_t limit,
                        read_callback<std::vector<engine::event>> done) {
  enqueue<std::vector<engine::event>>(
      true,
      [id = std::move(wallet_id), after_seq, limit](pqxx::connection& c) {
        return postgres::read_events(c, id, after_seq, limit);
      },
      std::move(done));
}

void pg_reader::outcome(std::string wallet_id, std::string key,
                        read_callback<std::optional<postgres::stored_outcome>> done) {
  enqueue<std::optional<postgres::stored_outcome>>(
      false,
      [id = std::move(wallet_id), key = std::move(key)](pqxx::connection& c) {
        return postgres::find_outcome(c, id, key);
      },
      std::move(done));
}

void pg_reader::transfer(std::string source, std::string transfer_id,
                         read_callback<std::optional<postgres::transfer_record>> done) {
  enqueue<std::optional<postgres::transfer_record>>(
      false,
      [source = std::move(source), id = std::move(transfer_id)](pqxx::connection& c) {
        return postgres::find_transfer(c, source, id);
      },
      std::move(done));
}

void pg_reader::hold(std::string wallet_id, std::string hold_id,
                     read_callback<std::vector<engine::event>> done) {
  enqueue<std::vector<engine::event>>(
      false,
      [id = std::move(wallet_id), hold = std::move(hold_id)](pqxx::connection& c) {
        return postgres::hold_events(c, id, hold);
      },
      std::move(done));
}

void pg_reader::schema_version(read_callback<int> done) {
  enqueue<int>(
      false, [](pqxx::connection& c) { return postgres::schema_version(c); }, std::move(done));
}

}  // namespace wallet::http
