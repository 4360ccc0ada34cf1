// Trace Context parsing (W3C, level 1) and random ids from a per-thread generator.
#include "wallet/http/trace.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>

namespace wallet::http {
namespace {

constexpr std::size_t traceparent_length = 55;  // version 00: 2 + 1 + 32 + 1 + 16 + 1 + 2

bool is_lower_hex(std::string_view text) {
  return std::ranges::all_of(
      text, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view text) {
  return text.find_first_not_of('0') == std::string_view::npos;
}

// Ids need to be unique, not secret: a per-thread Mersenne Twister seeded from the OS.
std::string random_hex(std::size_t digits) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  constexpr std::array<char, 16> hex{'0', '1', '2', '3', '4', '5', '6', '7',
                                     '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    std::uint64_t bits = generator();
    for (int i = 0; i < 16 && out.size() < digits; ++i, bits >>= 4U) {
      out.push_back(hex[bits & 0xfU]);
    }
  }
  // An all-zero id is invalid; 2^-64 is not worth a loop, but correctness is cheap.
  if (all_zero(out)) out.back() = '1';
  return out;
}

}  // namespace

std::string trace_context::traceparent() const {
  return "00-" + trace_id + "-" + span_id + "-" + flags;
}

std::optional<parsed_traceparent> parse_traceparent(std::string_view header) {
  if (header.size() < traceparent_length) return std::nullopt;
  const std::string_view version = header.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  // Version 00 has exactly four fields; a later version may add fields after a '-'.
  if (version == "00" && header.size() != traceparent_length) return std::nullopt;
  if (header.size() > traceparent_length && header[traceparent_length] != '-') return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  parsed_traceparent p{std::string(header.substr(3, 32)), std::string(header.substr(36, 16)),
                       std::string(header.substr(53, 2))};
  if (!is_lower_hex(p.trace_id) || !is_lower_hex(p.parent_id) || !is_lower_hex(p.flags) ||
      all_zero(p.trace_id) || all_zero(p.parent_id)) {
    return std::nullopt;
  }
  return p;
}

trace_context trace_for(std::string_view header) {
  if (auto p = parse_traceparent(header)) {
    return trace_context{std::move(p->trace_id), random_hex(16), std::move(p->flags)};
  }
  return trace_context{random_hex(32), random_hex(16), "01"};
}

}  // namespace wallet::http
