// Review ids and the reserved hold ids of AML reviews (ADR 0009).
#include "wallet/engine/review.hpp"

#include <algorithm>
#include <cstdint>

#include "wallet/engine/overloaded.hpp"

namespace wallet::engine {
namespace {

// FNV-1a, 64 bit, over length-prefixed fields ("ab"+"c" differs from "a"+"bc").
std::uint64_t digest(std::string_view a, std::string_view b) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto byte = [&h](unsigned char c) { h = (h ^ c) * 0x100000001b3ULL; };
  for (const std::string_view part : {a, b}) {
    for (int shift = 0; shift < 64; shift += 8) {
      byte(static_cast<unsigned char>(static_cast<std::uint64_t>(part.size()) >> shift));
    }
    for (const char c : part) byte(static_cast<unsigned char>(c));
  }
  return h;
}

}  // namespace

std::string review_id_of(std::string_view wallet_id, std::string_view idempotency_key) {
  constexpr std::string_view hex = "0123456789abcdef";
  std::uint64_t h = digest(wallet_id, idempotency_key);
  std::string out(review_id_length, '0');
  for (std::size_t i = review_id_length; i-- > 0;) {
    out[i] = hex[h & 0xfU];
    h >>= 4U;
  }
  return out;
}

bool is_review_id(std::string_view text) noexcept {
  return text.size() == review_id_length && std::ranges::all_of(text, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string review_hold_id(std::string_view review_id) {
  return std::string(review_hold_prefix) + std::string(review_id);
}

bool is_review_hold(std::string_view hold_id) noexcept {
  return hold_id.starts_with(review_hold_prefix);
}

std::string_view review_of_hold(std::string_view hold_id) noexcept {
  return is_review_hold(hold_id) ? hold_id.substr(review_hold_prefix.size()) : std::string_view{};
}

std::string review_decision_key(std::string_view review_id) {
  return std::string(review_decision_key_prefix) + std::string(review_id);
}

bool is_review_decision_key(std::string_view key) noexcept {
  return key.starts_with(review_decision_key_prefix) &&
         is_review_id(key.substr(review_decision_key_prefix.size()));
}

bool touches_review_hold_unduly(const command& c) noexcept {
  // The decision key names its review: it settles that review's hold and no other.
  const auto settles = [&c](std::string_view hold_id) {
    const std::string_view key = c.idempotency_key;
    return is_review_hold(hold_id) &&
           !(key.starts_with(review_decision_key_prefix) &&
             key.substr(review_decision_key_prefix.size()) == review_of_hold(hold_id));
  };
  return std::visit(overloaded{
                        [](const hold_place& h) { return is_review_hold(h.hold_id); },
                        [&](const hold_capture& h) { return settles(h.hold_id); },
                        [&](const hold_release& h) { return settles(h.hold_id); },
                        // A debit from a hold is only a review's approved transfer.
                        [&](const transfer_debit& t) {
                          return !t.from_hold.empty() &&
                                 (!is_review_hold(t.from_hold) || settles(t.from_hold));
                        },
                        [](const auto&) { return false; },
                    },
                    c.body);
}

}  // namespace wallet::engine
