// Settings of the NATS adapter, filled by app/ from the configuration (config/ documents them), and
// the subjects they imply. docs/asyncapi.yaml is the contract these names belong to.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wallet::nats {

struct stream_limits {
  std::chrono::seconds max_age{0};  // 0: kept until other limits remove them
  std::int64_t max_bytes = -1;      // -1: unlimited
};

struct nats_settings {
  std::string url = "nats://127.0.0.1:54222";  // the local services' port
  std::string credentials_file;                // user JWT + NKey seed; empty: none
  std::string connection_name = "walletd";
  std::string prefix = "wallet";  // every subject starts with it

  // Partitioned: the server maps <prefix>.cmd.<wallet> onto <prefix>.cmdp.<shard>.<wallet>
  // (docs/nats.md), so that each instance consumes only its shards' commands.
  bool partitioned = false;
  std::uint32_t shards = 16;
  std::vector<std::uint32_t> owned_shards;  // this instance's shards (partitioned mode)

  std::string command_stream = "WALLET_COMMANDS";
  std::string event_stream = "WALLET_EVENTS";
  std::string dead_letter_stream = "WALLET_DEAD_LETTERS";
  stream_limits command_limits{std::chrono::hours{24}, -1};
  stream_limits event_limits{std::chrono::hours{24 * 30}, -1};
  stream_limits dead_letter_limits{std::chrono::hours{24 * 30}, -1};
  std::int64_t replicas = 1;
  bool memory_storage = false;
  // Nats-Msg-Id deduplication window of the command and event streams.
  std::chrono::seconds duplicate_window{120};

  std::int32_t message_bytes_max = 65'536;     // larger commands are dead-lettered
  std::chrono::seconds ack_wait{30};           // redelivery after this long without an ack
  std::int64_t deliveries_max = 10;            // then the command is dead-lettered
  std::int64_t ack_pending_max = 4'096;        // commands in flight per consumer
  int fetch_batch = 256;                       // messages per pull request
  std::chrono::milliseconds nak_delay{1'000};  // redelivery delay while unavailable, stopping
  // The first redelivery delay after `overloaded`, doubled at each further one up to nak_delay.
  std::chrono::milliseconds overloaded_nak_delay{50};
  std::chrono::milliseconds request_timeout{5'000};  // JetStream API and publish acks
  // The main connection writes each publish (a command's reply and ack, a pull request) to the
  // socket at once, instead of leaving it to NATS.c's flusher thread, which sends about 1 ms after
  // a wake-up (walletd's nats.send_asap). Off by default, the library's own default: on this
  // 2-core machine the A/B runs of session 8 did not show it helping (loadtest/README.md).
  bool send_asap = false;
};

// Where clients publish a wallet's commands.
[[nodiscard]] std::string command_subject(std::string_view prefix, std::string_view wallet_id);
// Where the server's partition mapping puts them (partitioned mode).
[[nodiscard]] std::string partition_subject(std::string_view prefix, std::uint32_t shard,
                                            std::string_view wallet_id);
// The commands one consumer reads: all of them, or one shard's.
[[nodiscard]] std::string command_filter(const nats_settings& s, std::uint32_t shard);
// Where an instance sends the engine's own commands (transfer legs) for a wallet another instance
// owns: <prefix>.sys.<wallet>, which the server maps onto <prefix>.sysp.<shard>.<wallet> in
// partitioned mode, like client commands. Only walletd may publish there (docs/nats.md).
[[nodiscard]] std::string system_subject(std::string_view prefix, std::string_view wallet_id);
// The engine's own commands one consumer reads: all of them, or one shard's.
[[nodiscard]] std::string system_filter(const nats_settings& s, std::uint32_t shard);
[[nodiscard]] std::string event_subject(std::string_view prefix, std::string_view wallet_id);
[[nodiscard]] std::string dead_letter_subject(std::string_view prefix);
[[nodiscard]] std::string wallet_query_subject(std::string_view prefix, std::string_view wallet_id);
[[nodiscard]] std::string outcome_query_subject(std::string_view prefix,
                                                std::string_view wallet_id);

// A wallet id as a subject token ('.' written '~', engine::subject_dot), and back.
[[nodiscard]] std::string subject_token(std::string_view wallet_id);
[[nodiscard]] std::string wallet_of_token(std::string_view token);

// The wallet id a subject names (its last token, decoded), empty when there is none.
[[nodiscard]] std::string wallet_of_subject(std::string_view subject);

// Text fits in one subject token: not empty, no '.', '*', '>' or white space.
[[nodiscard]] bool is_subject_token(std::string_view text) noexcept;

// Message headers the engine reads and writes.
namespace header {
inline constexpr const char* msg_id = "Nats-Msg-Id";
inline constexpr const char* reply_to = "Wallet-Reply-To";  // where the outcome goes
inline constexpr const char* traceparent = "traceparent";   // W3C trace context
inline constexpr const char* idempotency_key = "Wallet-Idempotency-Key";
inline constexpr const char* command_id = "Wallet-Command-Id";
inline constexpr const char* dead_reason = "Wallet-Dead-Reason";
inline constexpr const char* dead_detail = "Wallet-Dead-Detail";
inline constexpr const char* source_subject = "Wallet-Source-Subject";
inline constexpr const char* source_stream = "Wallet-Source-Stream";
inline constexpr const char* source_sequence = "Wallet-Source-Sequence";
inline constexpr const char* deliveries = "Wallet-Deliveries";
}  // namespace header

}  // namespace wallet::nats
