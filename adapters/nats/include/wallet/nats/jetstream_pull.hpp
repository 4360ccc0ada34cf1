// The JetStream pull-consumer protocol, spoken by the engine itself rather than through NATS.c's
// natsSubscription_Fetch (ADR 0008): the pull request, the acknowledgements, the status messages,
// and the delivery metadata of a message's reply subject. Pure functions: no NATS, no clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wallet::nats::pull {

// What JetStream says about one delivery, from the message's "$JS.ACK..." reply subject.
struct delivery {
  std::string stream;
  std::string consumer;
  std::uint64_t deliveries = 0;  // 1 on the first delivery
  std::uint64_t stream_sequence = 0;
  std::uint64_t consumer_sequence = 0;
  std::uint64_t timestamp_ns = 0;  // when the stream stored the message, ns since the Unix epoch
  std::uint64_t pending = 0;       // messages left for the consumer after this one
};

// Reads both layouts: "$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>" and
// the newer one with a domain and an account hash before the stream (and a random token after).
// Nothing when `reply` is not a JetStream acknowledgement subject or a number does not parse.
[[nodiscard]] std::optional<delivery> parse_ack_subject(std::string_view reply);

// The subject a pull request for `consumer` of `stream` is published to.
[[nodiscard]] std::string next_subject(std::string_view stream, std::string_view consumer);

// A pull request for up to `batch` messages, held open by the server for `expires`.
[[nodiscard]] std::string request_body(int batch, std::chrono::milliseconds expires);

// Acknowledgement bodies, published to a message's reply subject.
inline constexpr std::string_view ack_body = "+ACK";
inline constexpr std::string_view term_body = "+TERM";
// A negative acknowledgement asking for redelivery after `delay`.
[[nodiscard]] std::string nak_body(std::chrono::milliseconds delay);

// A status message the server sends to the request's reply subject instead of a stream message
// (header line "NATS/1.0 <code> <description>", which NATS.c lifts into a "Status" header).
enum class status : std::uint8_t {
  heartbeat,        // 100: idle heartbeat or flow control; nothing ended
  no_messages,      // 404: a no-wait request found nothing; the request is over
  request_timeout,  // 408: the request expired; it is over
  conflict,         // 409: the server refused or cut the request (limits, consumer deleted, ...)
  other,            // any other code: treated as the end of the request
};
[[nodiscard]] status classify_status(std::string_view code) noexcept;

}  // namespace wallet::nats::pull
