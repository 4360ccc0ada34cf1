// The reads the HTTP API makes, as a port: PostgreSQL answers them in walletd (pg_reader), an
// in-memory fake in unit tests. Asynchronous, so that no server thread ever waits on a database.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wallet/engine/event.hpp"
#include "wallet/engine/result.hpp"
#include "wallet/engine/wallet.hpp"
#include "wallet/postgres/queries.hpp"

namespace wallet::http {

enum class read_errc : std::uint8_t {
  unavailable,  // the database cannot be reached or failed the read: retry later
  overloaded,   // too many reads are waiting (http.read_queue_max): retry later
};

struct read_error {
  read_errc code = read_errc::unavailable;
  std::string detail;  // for the log; never holds a password
};

template <class T>
using read_result = engine::result<T, read_error>;
template <class T>
using read_callback = std::function<void(read_result<T>)>;

// Each call returns at once and calls `done` exactly once, possibly on another thread.
class read_port {
 public:
  read_port() = default;
  read_port(const read_port&) = delete;
  read_port& operator=(const read_port&) = delete;
  read_port(read_port&&) = delete;
  read_port& operator=(read_port&&) = delete;
  virtual ~read_port() = default;

  // The wallet as committed, with its open holds; nullopt when it was never opened.
  virtual void wallet(std::string wallet_id,
                      read_callback<std::optional<engine::wallet_state>> done) = 0;
  // A page of an owner's wallets in id order, after `after_id` ("" from the first).
  virtual void wallets_of(std::string owner, std::string after_id, std::size_t limit,
                          read_callback<std::vector<engine::wallet_state>> done) = 0;
  // Up to `limit` events with seq > after_seq, in order (from the replica when one is set).
  virtual void history(std::string wallet_id, std::uint64_t after_seq, std::size_t limit,
                       read_callback<std::vector<engine::event>> done) = 0;
  virtual void outcome(std::string wallet_id, std::string key,
                       read_callback<std::optional<postgres::stored_outcome>> done) = 0;
  virtual void transfer(std::string source, std::string transfer_id,
                        read_callback<std::optional<postgres::transfer_record>> done) = 0;
  // The latest placement of a hold and what ended it (postgres::hold_events).
  virtual void hold(std::string wallet_id, std::string hold_id,
                    read_callback<std::vector<engine::event>> done) = 0;
  // The highest applied migration: readiness compares it with this binary's.
  virtual void schema_version(read_callback<int> done) = 0;
};

}  // namespace wallet::http
