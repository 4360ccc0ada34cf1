// The PostgreSQL read pool: jobs carry a read (a function of a connection) and its callback; a
// worker runs the read on its connection, reconnecting once if the connection turns out dead.
#include "wallet/http/pg_reader.hpp"

#include <pqxx/pqxx>

#include "wallet/postgres/conninfo.hpp"
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
    held.reset();
    const std::string& conninfo = use_replica ? settings_.replica_conninfo : settings_.conninfo;
    try {
      // make_conninfo builds a URI: one more query parameter bounds the connect.
      const char separator = conninfo.find('?') == std::string::npos ? '?' : '&';
      auto c = std::make_unique<pqxx::connection>(
          conninfo + separator + "connect_timeout=" + std::to_string(read_connect_timeout_s));
      c->set_variable("statement_timeout", std::to_string(read_statement_timeout.count()));
      c->set_variable("default_transaction_read_only", "on");
      held = std::move(c);
      return held.get();
    } catch (const std::exception& e) {
      failed_(postgres::scrub_secret(std::string{"connecting to PostgreSQL"} +
                                         (use_replica ? " (replica): " : ": ") + e.what(),
                                     postgres::conninfo_password(conninfo)));
      return nullptr;
    }
  }

  const pg_reader_settings& settings_;
  const std::function<void(std::string_view)>& failed_;
  std::unique_ptr<pqxx::connection> primary_;
  std::unique_ptr<pqxx::connection> replica_;
};

pg_reader::pg_reader(pg_reader_settings settings, std::function<void(std::string_view)> failed)
    : settings_(std::move(settings)), failed_(std::move(failed)) {
  if (!failed_) failed_ = [](std::string_view) {};
  const std::size_t n = std::max<std::size_t>(settings_.connections, 1);
  for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

pg_reader::~pg_reader() { stop(); }

void pg_reader::stop() {
  std::deque<job> left;
  {
    const std::lock_guard lock{mutex_};
    if (stopping_) return;
    stopping_ = true;
    left.swap(queue_);
  }
  wake_.notify_all();
  for (job& j : left) j.stopped();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void pg_reader::work() {
  worker w{settings_, failed_};
  for (;;) {
    job next;
    {
      std::unique_lock lock{mutex_};
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    next.run(w);
  }
}

template <class T, class Read>
void pg_reader::enqueue(bool replica, Read read, read_callback<T> done) {
  job j;
  j.stopped = [done] { done(read_error{read_errc::unavailable, "the reader is stopping"}); };
  j.run = [replica, read = std::move(read), done](worker& w) {
    done(w.template run<T>(replica, read));
  };
  {
    const std::lock_guard lock{mutex_};
    if (!stopping_ && queue_.size() < settings_.queue_max) {
      queue_.push_back(std::move(j));
      wake_.notify_one();
      return;
    }
  }
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
