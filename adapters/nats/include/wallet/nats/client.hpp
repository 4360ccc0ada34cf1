// A connection to NATS with its JetStream context (NATS.c 3.4), and the idempotent set-up of the
// engine's streams and consumers. The C library's objects are owned here and nowhere else.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wallet/engine/result.hpp"
#include "wallet/nats/settings.hpp"

namespace wallet::nats {

// A failed NATS call: what was being done, and the library's status and last error text.
struct nats_error {
  std::string message;
  bool transient = true;  // connection trouble (retry later) rather than a refused request
};

// "<doing>: <status text>[ (<last error>)]", read right after the failing call on its thread.
[[nodiscard]] nats_error failure(std::string_view doing, natsStatus status);

struct msg_deleter {
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};
using msg_ptr = std::unique_ptr<natsMsg, msg_deleter>;

// Connection events, called on a library thread; the closure outlives the connection.
struct connection_events {
  std::function<void(bool connected)> on_change;
  std::function<void(std::string_view error)> on_error;
};

struct connection_deleter {
  void operator()(natsConnection* c) const noexcept { natsConnection_Destroy(c); }
};
using connection_ptr = std::unique_ptr<natsConnection, connection_deleter>;

class client {
 public:
  // Connects (retrying in the background if the server is not there yet: `connected()` tells) and
  // creates the JetStream context. Fails on bad options or credentials.
  static engine::result<std::unique_ptr<client>, nats_error> connect(const nats_settings& settings,
                                                                     connection_events events);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  client(client&&) = delete;
  client& operator=(client&&) = delete;

  [[nodiscard]] natsConnection* connection() const noexcept { return conn_; }
  [[nodiscard]] jsCtx* jetstream() const noexcept { return js_; }
  [[nodiscard]] bool connected() const noexcept;
  [[nodiscard]] const nats_settings& settings() const noexcept { return settings_; }

  // A further connection to the same server under the same identity (name suffixed by `role`)
  // that never reconnects: once it breaks it stays closed and every publish on it fails. Nothing
  // published after a break can therefore reach the server through it, ahead of something lost in
  // the break (the event publisher pipelines a wallet's events on such a connection, ADR 0011).
  [[nodiscard]] engine::result<connection_ptr, nats_error> connect_once(
      std::string_view role) const;

  // Publishes `msg` on a stream and waits for the stream's acknowledgement (a duplicate by
  // Nats-Msg-Id counts as stored).
  [[nodiscard]] std::optional<nats_error> publish_stored(natsMsg* msg) const;

 private:
  client(nats_settings settings, std::shared_ptr<connection_events> events)
      : settings_(std::move(settings)), events_(std::move(events)) {}

  nats_settings settings_;
  std::shared_ptr<connection_events> events_;  // kept alive past the connection (nats.c #735)
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Creates or updates the command, event and dead-letter streams to match the settings.
[[nodiscard]] std::optional<nats_error> ensure_streams(const client& c);

// Creates or updates the durable pull consumer of one shard's commands (or of all commands when
// not partitioned) and returns its name. `system`: the consumer of the engine's own commands
// (system_filter) instead of the clients' (command_filter); NATS 2.9 allows one filter subject per
// consumer, hence two.
[[nodiscard]] engine::result<std::string, nats_error> ensure_command_consumer(const client& c,
                                                                              std::uint32_t shard,
                                                                              bool system = false);

// A message with `subject`, `data` and no reply subject.
[[nodiscard]] msg_ptr make_msg(const std::string& subject, std::string_view data);

// A header's value, empty when absent.
[[nodiscard]] std::string header_of(natsMsg* msg, const char* key);

}  // namespace wallet::nats
