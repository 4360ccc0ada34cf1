// The read port over PostgreSQL: a fixed pool of threads, each with its own connection to the
// primary (and to the replica, for history, when one is configured), fed by a bounded queue.
// Reads past the queue's bound are answered `overloaded` at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wallet/http/job_pool.hpp"
#include "wallet/http/read_port.hpp"

namespace wallet::http {

// A read is interactive: a statement that takes longer fails, and the client may retry.
inline constexpr std::chrono::milliseconds read_statement_timeout{5'000};
// libpq's connect_timeout for the readers' connections, in seconds.
inline constexpr int read_connect_timeout_s = 5;

struct pg_reader_settings {
  std::string conninfo;          // the primary's (holds the password: never logged)
  std::string replica_conninfo;  // empty: history reads the primary too
  std::size_t connections = 4;   // threads, each with its own connection(s)
  std::size_t queue_max = 1'024;
};

class pg_reader final : public read_port {
 public:
  // `failed` hears every database failure (scrubbed of the password), for logs and metrics.
  pg_reader(pg_reader_settings settings, std::function<void(std::string_view)> failed);
  ~pg_reader() override;  // stop()
  pg_reader(const pg_reader&) = delete;
  pg_reader& operator=(const pg_reader&) = delete;
  pg_reader(pg_reader&&) = delete;
  pg_reader& operator=(pg_reader&&) = delete;

  // Answers what is queued `unavailable`, lets running reads finish and joins the threads.
  void stop();

  void wallet(std::string wallet_id,
              read_callback<std::optional<engine::wallet_state>> done) override;
  void wallets_of(std::string owner, std::string after_id, std::size_t limit,
                  read_callback<std::vector<engine::wallet_state>> done) override;
  void history(std::string wallet_id, std::uint64_t after_seq, std::size_t limit,
               read_callback<std::vector<engine::event>> done) override;
  void outcome(std::string wallet_id, std::string key,
               read_callback<std::optional<postgres::stored_outcome>> done) override;
  void transfer(std::string source, std::string transfer_id,
                read_callback<std::optional<postgres::transfer_record>> done) override;
  void hold(std::string wallet_id, std::string hold_id,
            read_callback<std::vector<engine::event>> done) override;
  void schema_version(read_callback<int> done) override;

  class worker;  // one thread's connections

 private:
  template <class T, class Read>
  void enqueue(bool replica, Read read, read_callback<T> done);

  pg_reader_settings settings_;
  std::function<void(std::string_view)> failed_;
  job_pool<worker> pool_;  // last: its threads use the members above
};

}  // namespace wallet::http
