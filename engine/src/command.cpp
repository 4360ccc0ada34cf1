// Command and event names, the content fingerprint, and identifier validation.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "wallet/engine/command.hpp"
#include "wallet/engine/event.hpp"
#include "wallet/engine/overloaded.hpp"

namespace wallet::engine {
namespace {

// FNV-1a, 64 bit. Every variable-length field is length-prefixed so "ab"+"c" != "a"+"bc".
class fnv1a {
 public:
  void bytes(const void* data, std::size_t size) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      hash_ = (hash_ ^ p[i]) * prime;
    }
  }
  void u64(std::uint64_t v) noexcept {
    for (int shift = 0; shift < 64; shift += 8) {
      const auto byte = static_cast<unsigned char>(v >> shift);
      bytes(&byte, 1);
    }
  }
  void i64(std::int64_t v) noexcept { u64(static_cast<std::uint64_t>(v)); }
  void text(std::string_view s) noexcept {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  void amount(const money& m) noexcept {
    text(m.ccy.code());
    i64(m.minor);
  }
  void time(timestamp t) noexcept { i64(t.time_since_epoch().count()); }
  [[nodiscard]] std::uint64_t value() const noexcept { return hash_; }

 private:
  static constexpr std::uint64_t prime = 0x100000001b3ULL;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

void hash_body(fnv1a& h, const command_body& body) noexcept {
  std::visit(overloaded{
                 [&](const open_wallet& c) {
                   h.text(c.owner);
                   h.text(c.ccy.code());
                   h.i64(c.overdraft_limit);
                 },
                 [&](const deposit& c) { h.amount(c.amount); },
                 [&](const withdraw& c) { h.amount(c.amount); },
                 [&](const transfer_debit& c) {
                   h.text(c.transfer_id);
                   h.text(c.destination);
                   h.amount(c.amount);
                   // Only when set: stored fingerprints of plain transfers stay as they were.
                   if (!c.from_hold.empty()) h.text(c.from_hold);
                 },
                 [&](const transfer_credit& c) {
                   h.text(c.transfer_id);
                   h.text(c.source);
                   h.amount(c.amount);
                 },
                 [&](const transfer_reversal& c) {
                   h.text(c.transfer_id);
                   h.amount(c.amount);
                 },
                 [&](const hold_place& c) {
                   h.text(c.hold_id);
                   h.amount(c.amount);
                   h.time(c.expires_at);
                 },
                 [&](const hold_capture& c) {
                   h.text(c.hold_id);
                   h.u64(c.amount.has_value() ? 1 : 0);
                   if (c.amount) {
                     h.amount(*c.amount);
                   }
                 },
                 [&](const hold_release& c) { h.text(c.hold_id); },
                 [&](const hold_expire& c) { h.text(c.hold_id); },
                 [&](const freeze& c) { h.text(c.reason); },
                 [&](const unfreeze& c) { h.text(c.reason); },
                 [&](const close_wallet&) {},
                 [&](const set_kyc_level& c) {
                   h.u64(static_cast<std::uint64_t>(c.level));
                   h.text(c.reason);
                 },
             },
             body);
}

}  // namespace

std::string_view command_name(const command_body& body) noexcept {
  return std::visit(
      overloaded{
          [](const open_wallet&) { return std::string_view{"open_wallet"}; },
          [](const deposit&) { return std::string_view{"deposit"}; },
          [](const withdraw&) { return std::string_view{"withdraw"}; },
          [](const transfer_debit&) { return std::string_view{"transfer_debit"}; },
          [](const transfer_credit&) { return std::string_view{"transfer_credit"}; },
          [](const transfer_reversal&) { return std::string_view{"transfer_reversal"}; },
          [](const hold_place&) { return std::string_view{"hold_place"}; },
          [](const hold_capture&) { return std::string_view{"hold_capture"}; },
          [](const hold_release&) { return std::string_view{"hold_release"}; },
          [](const hold_expire&) { return std::string_view{"hold_expire"}; },
          [](const freeze&) { return std::string_view{"freeze"}; },
          [](const unfreeze&) { return std::string_view{"unfreeze"}; },
          [](const close_wallet&) { return std::string_view{"close_wallet"}; },
          [](const set_kyc_level&) { return std::string_view{"set_kyc_level"}; },
      },
      body);
}

std::uint64_t fingerprint(const command& c) noexcept {
  fnv1a h;
  h.u64(c.body.index());
  h.text(c.wallet_id);
  hash_body(h, c.body);
  return h.value();
}

bool is_valid_id(std::string_view id, std::size_t length_max) noexcept {
  if (id.empty() || id.size() > length_max) {
    return false;
  }
  return std::ranges::all_of(id, [](const char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == ':' || ch == '-';
  });
}

std::string_view event_name(const event_body& body) noexcept {
  return std::visit(
      overloaded{
          [](const wallet_opened&) { return std::string_view{"wallet_opened"}; },
          [](const deposited&) { return std::string_view{"deposited"}; },
          [](const withdrawn&) { return std::string_view{"withdrawn"}; },
          [](const transfer_debited&) { return std::string_view{"transfer_debited"}; },
          [](const transfer_credited&) { return std::string_view{"transfer_credited"}; },
          [](const transfer_reversed&) { return std::string_view{"transfer_reversed"}; },
          [](const hold_placed&) { return std::string_view{"hold_placed"}; },
          [](const hold_captured&) { return std::string_view{"hold_captured"}; },
          [](const hold_released&) { return std::string_view{"hold_released"}; },
          [](const hold_expired&) { return std::string_view{"hold_expired"}; },
          [](const wallet_frozen&) { return std::string_view{"wallet_frozen"}; },
          [](const wallet_unfrozen&) { return std::string_view{"wallet_unfrozen"}; },
          [](const wallet_closed&) { return std::string_view{"wallet_closed"}; },
          [](const kyc_level_set&) { return std::string_view{"kyc_level_set"}; },
      },
      body);
}

std::int64_t balance_delta(const event_body& body) noexcept {
  return std::visit(overloaded{
                        [](const deposited& e) { return e.amount; },
                        [](const withdrawn& e) { return -e.amount; },
                        [](const transfer_debited& e) { return -e.amount; },
                        [](const transfer_credited& e) { return e.amount; },
                        [](const transfer_reversed& e) { return e.amount; },
                        [](const hold_captured& e) { return -e.captured; },
                        [](const auto&) { return std::int64_t{0}; },
                    },
                    body);
}

std::int64_t outgoing_amount(const event_body& body) noexcept {
  return std::visit(overloaded{
                        [](const withdrawn& e) { return e.amount; },
                        [](const transfer_debited& e) { return e.amount; },
                        [](const hold_captured& e) { return e.captured; },
                        [](const auto&) { return std::int64_t{0}; },
                    },
                    body);
}

}  // namespace wallet::engine
