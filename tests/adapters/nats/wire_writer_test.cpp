// Outcomes and events are written straight into their buffer (json_writer in wire.cpp): the text
// must be byte for byte what the codec wrote when it built a boost::json::object and serialized
// it. The reference below is that former encoder, kept here unchanged, and compared against the
// writer for every event type, status, refusal and rejection, currencies of every exponent,
// negative amounts, and strings that need escaping.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/overloaded.hpp"
#include "wallet/engine/review.hpp"
#include "wallet/nats/wire.hpp"

namespace wallet::nats {
namespace {

namespace json = boost::json;
using engine::overloaded;
using namespace std::chrono_literals;

// ---- the reference: the former json::object encoder ---------------------------------------

namespace reference {

std::string amount_text(std::int64_t minor, engine::currency ccy) {
  return engine::format_amount(minor, ccy.exponent());
}

std::int64_t subtract(std::int64_t a, std::int64_t b) {
  const auto difference = engine::checked_sub(a, b);
  WALLET_ASSERT(difference.has_value());
  return *difference;
}

std::int64_t held_delta(const engine::event_body& body) {
  return std::visit(overloaded{
                        [](const engine::hold_placed& e) { return e.amount; },
                        [](const engine::hold_captured& e) {
                          const auto total = engine::checked_add(e.captured, e.released);
                          WALLET_ASSERT(total.has_value());
                          return -*total;
                        },
                        [](const engine::hold_released& e) { return -e.amount; },
                        [](const engine::hold_expired& e) { return -e.amount; },
                        [](const engine::transfer_debited& e) {
                          return e.hold_id.empty() ? std::int64_t{0} : -e.amount;
                        },
                        [](const auto&) { return std::int64_t{0}; },
                    },
                    body);
}

void put_body(json::object& o, const engine::event_body& body, engine::currency ccy) {
  const auto money = [ccy](std::int64_t minor) { return amount_text(minor, ccy); };
  std::visit(overloaded{
                 [&](const engine::wallet_opened& e) {
                   o["owner"] = e.owner;
                   o["overdraft_limit"] = money(e.overdraft_limit);
                 },
                 [&](const engine::deposited& e) { o["amount"] = money(e.amount); },
                 [&](const engine::withdrawn& e) { o["amount"] = money(e.amount); },
                 [&](const engine::transfer_debited& e) {
                   o["transfer_id"] = e.transfer_id;
                   o["destination"] = e.destination;
                   o["amount"] = money(e.amount);
                   if (!e.hold_id.empty()) o["hold_id"] = e.hold_id;
                 },
                 [&](const engine::transfer_credited& e) {
                   o["transfer_id"] = e.transfer_id;
                   o["source"] = e.source;
                   o["amount"] = money(e.amount);
                 },
                 [&](const engine::transfer_reversed& e) {
                   o["transfer_id"] = e.transfer_id;
                   o["amount"] = money(e.amount);
                 },
                 [&](const engine::hold_placed& e) {
                   o["hold_id"] = e.hold_id;
                   o["amount"] = money(e.amount);
                   o["expires_at"] = format_rfc3339(e.expires_at);
                 },
                 [&](const engine::hold_captured& e) {
                   o["hold_id"] = e.hold_id;
                   o["captured"] = money(e.captured);
                   o["released"] = money(e.released);
                 },
                 [&](const engine::hold_released& e) {
                   o["hold_id"] = e.hold_id;
                   o["amount"] = money(e.amount);
                 },
                 [&](const engine::hold_expired& e) {
                   o["hold_id"] = e.hold_id;
                   o["amount"] = money(e.amount);
                 },
                 [&](const engine::wallet_frozen& e) { o["reason"] = e.reason; },
                 [&](const engine::wallet_unfrozen& e) { o["reason"] = e.reason; },
                 [&](const engine::wallet_closed&) {},
                 [&](const engine::kyc_level_set& e) {
                   o["level"] = engine::to_string(e.level);
                   o["reason"] = e.reason;
                 },
             },
             body);
}

engine::currency event_currency(const engine::event& e, engine::currency wallet_ccy) {
  if (const auto* opened = std::get_if<engine::wallet_opened>(&e.body)) return opened->ccy;
  return wallet_ccy;
}

json::object event_object(std::string_view wallet_id, const engine::event& e,
                          engine::currency wallet_ccy) {
  const engine::currency ccy = event_currency(e, wallet_ccy);
  json::object o;
  o["wallet_id"] = wallet_id;
  o["seq"] = e.seq;
  o["at"] = format_rfc3339(e.at);
  o["type"] = engine::event_name(e.body);
  o["currency"] = ccy.code();
  put_body(o, e.body, ccy);
  o["balance_delta"] = amount_text(engine::balance_delta(e.body), ccy);
  o["held_delta"] = amount_text(held_delta(e.body), ccy);
  return o;
}

bool retryable(actors::submit_errc e) {
  return e == actors::submit_errc::overloaded || e == actors::submit_errc::unavailable ||
         e == actors::submit_errc::shutting_down || e == actors::submit_errc::not_owner;
}

json::object error_object(std::string_view code, std::string_view message, bool can_retry) {
  json::object error;
  error["code"] = code;
  error["message"] = message;
  error["retryable"] = can_retry;
  return error;
}

void put_if_set(json::object& o, std::string_view key, std::string_view value) {
  if (!value.empty()) o[key] = value;
}

void put_balances(json::object& o, const engine::outcome& r, engine::currency ccy) {
  o["balance"] = amount_text(r.balance, ccy);
  o["held"] = amount_text(r.held, ccy);
  o["available"] = amount_text(subtract(r.balance, r.held), ccy);
  o["currency"] = ccy.code();
}

std::string encode_outcome(const outcome_view& view) {
  const actors::submit_outcome& out = view.outcome;
  json::object o;
  o["wallet_id"] = view.wallet_id;
  o["idempotency_key"] = view.idempotency_key;
  put_if_set(o, "command_id", view.command_id);
  if (out.error) {
    o["status"] = "refused";
    o["replayed"] = false;
    o["error"] = error_object(actors::to_string(*out.error), refusal_message(*out.error),
                              retryable(*out.error));
    return json::serialize(o);
  }
  const std::string_view review = review_of(out);
  o["status"] = out.result.rejected ? "rejected" : (review.empty() ? "accepted" : "pending_review");
  o["replayed"] = out.replayed;
  if (!review.empty()) o["review_id"] = review;
  o["version"] = out.result.seq;
  const engine::currency ccy = out.event ? event_currency(*out.event, view.ccy) : view.ccy;
  if (!ccy.is_none()) put_balances(o, out.result, ccy);
  if (out.result.rejected) {
    json::object rejection;
    rejection["code"] = engine::code(*out.result.rejected);
    rejection["message"] = rejection_message(*out.result.rejected);
    o["rejection"] = std::move(rejection);
  }
  if (out.event) o["event"] = event_object(view.wallet_id, *out.event, ccy);
  return json::serialize(o);
}

std::string encode_event(const std::string& wallet_id, const engine::event& e,
                         engine::currency ccy) {
  return json::serialize(event_object(wallet_id, e, ccy));
}

}  // namespace reference

// ---- the cases ---------------------------------------------------------------------------

engine::currency ccy(std::string_view code) { return engine::currency::from_code(code).value(); }

// Ids and texts as a client may send them (ids are checked by the engine, not the codec), and
// some that need escaping: quotes, backslashes, control characters, UTF-8 and stray bytes.
const std::vector<std::string>& texts() {
  static const std::vector<std::string> all{
      "w-1",
      "",
      "a-rather-long-wallet-identifier-of-sixty-four-bytes-0123456789ab",
      "quote\"d",
      "back\\slash",
      std::string("nul\0byte", 8),
      "tab\tnew\nline\rcr\bbs\fff\x01\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb6",
      "stray \xff\xfe byte",
      "</script>",
  };
  return all;
}

std::vector<engine::event_body> bodies(std::string_view text) {
  const std::string t{text};
  const engine::timestamp expiry =
      engine::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / 31}} + 23h + 59min +
      59s + 999'999us;
  return {
      engine::wallet_opened{t, ccy("EUR"), 0},
      engine::wallet_opened{t, ccy("JPY"), 5'000},
      engine::deposited{1},
      engine::deposited{100'000'000'000},
      engine::withdrawn{99},
      engine::transfer_debited{t, "w-2", 12'345},
      engine::transfer_debited{"t-1", t, 7, engine::review_hold_id("0123456789abcdef")},
      engine::transfer_credited{t, "w-0", 12'345},
      engine::transfer_reversed{t, 50},
      engine::hold_placed{t, 2'500, expiry},
      engine::hold_placed{engine::review_hold_id("00000000000000ff"), 10, expiry},
      engine::hold_captured{t, 1'000, 1'500},
      engine::hold_released{t, 2'500},
      engine::hold_expired{t, 2'500},
      engine::wallet_frozen{t},
      engine::wallet_unfrozen{t},
      engine::wallet_closed{},
      engine::kyc_level_set{engine::kyc::full, t},
      engine::kyc_level_set{engine::kyc::none, t},
  };
}

const std::vector<engine::currency>& currencies() {
  // Exponents 2, 0, 3 and 4, and none (a wallet not open yet).
  static const std::vector<engine::currency> all{ccy("EUR"), ccy("JPY"), ccy("BHD"), ccy("CLF"),
                                                 engine::currency{}};
  return all;
}

engine::event event_of(engine::event_body body, std::uint64_t seq) {
  return engine::event{seq,
                       engine::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 3 / 4}} +
                           5h + 6min + 7s + 89us,
                       std::move(body)};
}

// Every outcome a submitter can get, with texts in the wallet id, key and command id.
std::vector<actors::submit_outcome> outcomes(std::string_view text) {
  std::vector<actors::submit_outcome> all;
  for (std::uint8_t e = 0; e <= static_cast<std::uint8_t>(actors::submit_errc::not_owner); ++e) {
    all.push_back(actors::refused(static_cast<actors::submit_errc>(e)));
  }
  for (std::uint8_t r = 1; r <= engine::rejection_count; ++r) {
    actors::submit_outcome out;
    out.result = engine::outcome{static_cast<engine::rejection>(r), 7, -1'050, 200};
    out.replayed = r % 2 == 0;
    all.push_back(out);
  }
  std::uint64_t seq = 1;
  for (engine::event_body& body : bodies(text)) {
    actors::submit_outcome out;
    out.result = engine::outcome{std::nullopt, seq, 123'456'789, 2'500};
    out.event = event_of(std::move(body), seq++);
    all.push_back(out);
    // A repeat whose event was not found: balances only.
    actors::submit_outcome repeat = out;
    repeat.replayed = true;
    repeat.event.reset();
    all.push_back(repeat);
  }
  // Negative balances (an overdraft) and the largest amounts.
  actors::submit_outcome overdrawn;
  overdrawn.result = engine::outcome{std::nullopt, 9, -999'999, 0};
  all.push_back(overdrawn);
  actors::submit_outcome large;
  large.result = engine::outcome{std::nullopt, UINT64_MAX, INT64_MAX / 2, INT64_MAX / 4};
  all.push_back(large);
  return all;
}

TEST(wire_writer, outcomes_are_written_exactly_as_the_json_object_encoder_wrote_them) {
  std::size_t compared = 0;
  for (const std::string& text : texts()) {
    for (const actors::submit_outcome& out : outcomes(text)) {
      for (const engine::currency c : currencies()) {
        // An event of a currency-less wallet only exists for wallet_opened, which names its own.
        if (c.is_none() && out.event &&
            !std::holds_alternative<engine::wallet_opened>(out.event->body)) {
          continue;
        }
        for (const std::string_view command_id : {std::string_view{}, std::string_view{text}}) {
          const std::string key = "key-" + text;
          const outcome_view view{text, key, command_id, c, out};
          const std::string expected = reference::encode_outcome(view);
          ASSERT_EQ(encode_outcome(view), expected);
          // Appended after what a buffer already holds, nothing else changes.
          std::string body = "prefix";
          append_outcome(body, view);
          ASSERT_EQ(body, "prefix" + expected);
          // And one JSON object, when the texts in it are UTF-8 (the codec passes bytes on as
          // they are; the engine's ids are ASCII).
          boost::system::error_code ec;
          const json::value parsed = json::parse(expected, ec);
          ASSERT_TRUE((!ec && parsed.is_object()) || text.find('\xff') != std::string::npos);
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, 3'000U);
}

TEST(wire_writer, events_are_written_exactly_as_the_json_object_encoder_wrote_them) {
  std::size_t compared = 0;
  for (const std::string& text : texts()) {
    std::uint64_t seq = 1;
    for (engine::event_body& body : bodies(text)) {
      const engine::event e = event_of(std::move(body), seq++);
      for (const engine::currency c : currencies()) {
        if (c.is_none() && !std::holds_alternative<engine::wallet_opened>(e.body)) continue;
        ASSERT_EQ(encode_event(text, e, c), reference::encode_event(text, e, c));
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 500U);
}

}  // namespace
}  // namespace wallet::nats
