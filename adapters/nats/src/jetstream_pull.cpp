// The JetStream pull protocol's texts: subjects, request and acknowledgement bodies, metadata.
#include "wallet/nats/jetstream_pull.hpp"

#include <array>
#include <charconv>

namespace wallet::nats::pull {
namespace {

constexpr std::string_view ack_prefix = "$JS.ACK.";
// Tokens after "$JS.ACK.": stream, consumer and five numbers in the first layout; a domain and an
// account hash first (and possibly more tokens after) in the second.
constexpr std::size_t v1_tokens = 7;
constexpr std::size_t v2_tokens_min = 9;
constexpr std::size_t tokens_max = 12;

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<delivery> parse_ack_subject(std::string_view reply) {
  if (!reply.starts_with(ack_prefix)) return std::nullopt;
  reply.remove_prefix(ack_prefix.size());
  std::array<std::string_view, tokens_max> tokens{};
  std::size_t count = 0;
  for (;;) {
    if (count == tokens.size()) return std::nullopt;
    const std::size_t dot = reply.find('.');
    tokens.at(count++) = reply.substr(0, dot);
    if (dot == std::string_view::npos) break;
    reply.remove_prefix(dot + 1);
  }
  std::size_t first = 0;  // the stream's token
  if (count == v1_tokens) {
    first = 0;
  } else if (count >= v2_tokens_min) {
    first = 2;
  } else {
    return std::nullopt;
  }
  delivery d;
  d.stream = tokens.at(first);
  d.consumer = tokens.at(first + 1);
  const auto delivered = number(tokens.at(first + 2));
  const auto sseq = number(tokens.at(first + 3));
  const auto cseq = number(tokens.at(first + 4));
  const auto timestamp = number(tokens.at(first + 5));
  const auto pending = number(tokens.at(first + 6));
  if (d.stream.empty() || d.consumer.empty() || !delivered || !sseq || !cseq || !pending ||
      !timestamp) {
    return std::nullopt;
  }
  d.deliveries = *delivered;
  d.stream_sequence = *sseq;
  d.consumer_sequence = *cseq;
  d.timestamp_ns = *timestamp;
  d.pending = *pending;
  return d;
}

std::string next_subject(std::string_view stream, std::string_view consumer) {
  std::string s{"$JS.API.CONSUMER.MSG.NEXT."};
  s.append(stream).append(".").append(consumer);
  return s;
}

std::string request_body(int batch, std::chrono::milliseconds expires) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(expires).count();
  return R"({"batch":)" + std::to_string(batch) + R"(,"expires":)" + std::to_string(ns) + "}";
}

std::string nak_body(std::chrono::milliseconds delay) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count();
  return R"(-NAK {"delay":)" + std::to_string(ns) + "}";
}

status classify_status(std::string_view code) noexcept {
  if (code == "100") return status::heartbeat;
  if (code == "404") return status::no_messages;
  if (code == "408") return status::request_timeout;
  if (code == "409") return status::conflict;
  return status::other;
}

}  // namespace wallet::nats::pull
