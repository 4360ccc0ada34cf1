// The event codec and the text literals, without a server: exact round trips and strict decoding.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "failure.hpp"
#include "sql_text.hpp"
#include "wallet/postgres/event_codec.hpp"

namespace wallet::postgres {
namespace {

using namespace std::chrono_literals;

engine::currency eur() { return *engine::currency::from_code("EUR"); }

engine::timestamp at(std::int64_t us) { return engine::timestamp{engine::duration{us}}; }

std::vector<engine::event_body> one_of_each() {
  const std::string odd = "quote \" backslash \\ tab \t nul-free é€😀 {a,b} NULL";
  return {
      engine::wallet_opened{"owner-1", eur(), 250},
      engine::deposited{1'000},
      engine::withdrawn{std::numeric_limits<std::int64_t>::max()},
      engine::transfer_debited{"t-1", "w-2", 100},
      engine::transfer_credited{"t-1", "w-1", 100},
      engine::transfer_reversed{"t-2", 50},
      engine::hold_placed{"h-1", 300, at(1'796'000'000'123'456)},
      engine::hold_captured{"h-1", 120, 180},
      engine::hold_released{"h-2", 200},
      engine::hold_expired{"h-3", 10},
      engine::wallet_frozen{odd},
      engine::wallet_unfrozen{"ok"},
      engine::wallet_closed{},
      engine::kyc_level_set{engine::kyc::basic, "passport checked"},
  };
}

TEST(event_codec, every_type_round_trips_exactly) {
  const auto bodies = one_of_each();
  ASSERT_EQ(bodies.size(), std::variant_size_v<engine::event_body>) << "one of each type";
  for (const auto& body : bodies) {
    const event_row row = encode_event(body);
    EXPECT_EQ(row.type, engine::event_name(body));
    EXPECT_EQ(row.delta, engine::balance_delta(body));
    const auto decoded = decode_event(row.type, row.data);
    ASSERT_TRUE(decoded.ok()) << row.type << ": " << decoded.error() << " in " << row.data;
    EXPECT_EQ(decoded.value(), body) << row.data;
  }
}

TEST(event_codec, held_delta_follows_the_holds) {
  EXPECT_EQ(held_delta(engine::hold_placed{"h", 300, at(0)}), 300);
  EXPECT_EQ(held_delta(engine::hold_captured{"h", 120, 180}), -300);
  EXPECT_EQ(held_delta(engine::hold_released{"h", 7}), -7);
  EXPECT_EQ(held_delta(engine::hold_expired{"h", 8}), -8);
  EXPECT_EQ(held_delta(engine::deposited{5}), 0);
}

// An approved transfer under AML review (ADR 0009) names the hold it took; other debits do not,
// and their stored data stays as it was.
TEST(event_codec, a_debit_from_a_review_hold_names_it_and_ends_it) {
  const engine::transfer_debited plain{"t-1", "w-2", 100};
  const engine::transfer_debited from_hold{"t-1", "w-2", 100, "aml:0123456789abcdef"};
  EXPECT_EQ(encode_event(plain).data, R"({"transfer_id":"t-1","destination":"w-2","amount":100})");
  const event_row row = encode_event(from_hold);
  EXPECT_EQ(
      row.data,
      R"({"transfer_id":"t-1","destination":"w-2","amount":100,"hold_id":"aml:0123456789abcdef"})");
  EXPECT_EQ(row.delta, -100);
  EXPECT_EQ(row.held_delta, -100);
  EXPECT_EQ(held_delta(plain), 0);
  const auto decoded = decode_event(row.type, row.data);
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded.value(), engine::event_body{from_hold});
  const auto old = decode_event("transfer_debited", encode_event(plain).data);
  ASSERT_TRUE(old) << old.error();
  EXPECT_EQ(old.value(), engine::event_body{plain});
  EXPECT_FALSE(decode_event("transfer_debited",
                            R"({"transfer_id":"t","destination":"w","amount":1,"hold_id":7})"))
      << "a hold_id that is not a string";
}

TEST(event_codec, data_is_plain_json) {
  EXPECT_EQ(encode_event(engine::wallet_opened{"o", eur(), 0}).data,
            R"({"owner":"o","currency":"EUR","overdraft_limit":0})");
  EXPECT_EQ(encode_event(engine::hold_placed{"h", 5, at(1'796'000'000'123'456)}).data,
            R"({"hold_id":"h","amount":5,"expires_at":"2026-11-30T00:53:20.123456Z"})");
  EXPECT_EQ(encode_event(engine::wallet_frozen{"a\"b\\c\x01"}).data,
            R"({"reason":"a\"b\\c\u0001"})");
  EXPECT_EQ(encode_event(engine::wallet_closed{}).data, "{}");
  EXPECT_EQ(encode_event(engine::kyc_level_set{engine::kyc::full, "ok"}).data,
            R"({"level":"full","reason":"ok"})");
}

TEST(event_codec, a_kyc_level_is_stored_by_name_and_an_unknown_one_is_refused) {
  const auto decoded = decode_event("kyc_level_set", R"({"level":"none","reason":"expired"})");
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded.value(),
            (engine::event_body{engine::kyc_level_set{engine::kyc::none, "expired"}}));
  const auto unknown = decode_event("kyc_level_set", R"({"level":"gold","reason":"r"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("not a KYC level: gold"), std::string::npos) << unknown.error();
  EXPECT_FALSE(decode_event("kyc_level_set", R"({"level":2,"reason":"r"})").ok());
  EXPECT_FALSE(decode_event("kyc_level_set", R"({"level":"full"})").ok());
}

TEST(event_codec, decoding_is_strict) {
  EXPECT_FALSE(decode_event("exploded", "{}").ok());
  EXPECT_FALSE(decode_event("deposited", "[1]").ok());
  EXPECT_FALSE(decode_event("deposited", "{").ok());
  EXPECT_FALSE(decode_event("deposited", "{}").ok());
  EXPECT_FALSE(decode_event("deposited", R"({"amount":"5"})").ok());
  EXPECT_FALSE(decode_event("deposited", R"({"amount":5.5})").ok());
  EXPECT_FALSE(decode_event("deposited", R"({"amount":18446744073709551615})").ok());
  EXPECT_FALSE(
      decode_event("wallet_opened", R"({"owner":"o","currency":"XYZ","overdraft_limit":0})").ok());
  EXPECT_FALSE(
      decode_event("hold_placed", R"({"hold_id":"h","amount":1,"expires_at":"2026-11-30"})").ok());
  const auto missing = decode_event("transfer_debited", R"({"transfer_id":"t","amount":1})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("destination"), std::string::npos) << missing.error();
  // Unknown fields are ignored (a later writer may add some); spacing as jsonb prints it is fine.
  const auto extra = decode_event("deposited", R"({"amount": 5, "note": "x"})");
  ASSERT_TRUE(extra.ok());
  EXPECT_EQ(extra.value(), engine::event_body{engine::deposited{5}});
}

TEST(iso_timestamp, round_trips_across_the_range) {
  for (const std::int64_t us :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1'796'000'000'123'456},
        std::int64_t{253'402'300'799'999'999} /* 9999-12-31T23:59:59.999999 */,
        std::int64_t{253'402'300'800'000'000}, std::int64_t{-62'167'219'200'000'001},
        std::int64_t{7'258'118'400'000'000} /* 2200 */}) {
    const std::string text = format_iso_timestamp(at(us));
    const auto parsed = parse_iso_timestamp(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error();
    EXPECT_EQ(parsed.value(), at(us)) << text;
  }
  EXPECT_EQ(format_iso_timestamp(at(0)), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_iso_timestamp(at(-1)), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_iso_timestamp(at(253'402'300'800'000'000)), "+010000-01-01T00:00:00.000000Z");
}

TEST(iso_timestamp, refuses_anything_else) {
  for (const char* text : {"", "2026-11-30", "2026-11-30T03:33:20Z", "2026-11-30T03:33:20.123Z",
                           "2026-11-30 03:33:20.123456Z", "2026-11-30T03:33:20.123456+00:00",
                           "2026-02-30T00:00:00.000000Z", "2026-11-30T24:00:00.000000Z",
                           "2026-11-30T00:53:20.123456Zx", "+2026-11-30T03:33:20.123456Z",
                           "2026-1-30T03:33:20.123456Z", "-2026-11-30T00:53:20.123456Z"}) {
    EXPECT_FALSE(parse_iso_timestamp(text).ok()) << text;
  }
}

TEST(sql_text, array_literals_quote_every_text) {
  detail::array_literal a;
  a.add_text("plain");
  a.add_text("q\"uote\\back");
  a.add_text("NULL");
  a.add_text("");
  a.add_text("{a,b}");
  a.add_null();
  a.add_int(-42);
  EXPECT_EQ(a.size(), 7U);
  EXPECT_EQ(std::move(a).finish(), R"({"plain","q\"uote\\back","NULL","","{a,b}",NULL,-42})");
  EXPECT_EQ(detail::array_literal{}.finish(), "{}");
}

TEST(sql_text, timestamp_literals_are_utc_with_microseconds) {
  EXPECT_EQ(detail::timestamp_literal(at(1'796'000'000'123'456)), "2026-11-30 00:53:20.123456+00");
  EXPECT_EQ(detail::timestamp_literal(at(0)), "1970-01-01 00:00:00.000000+00");
  // Astronomical year 0 is 1 BC.
  EXPECT_EQ(detail::timestamp_literal(at(-62'167'219'200'000'000)),
            "0001-01-01 00:00:00.000000+00 BC");
}

// The digits written by hand (years 1 to 9999) read as the ISO form's, which snprintf writes.
TEST(sql_text, timestamp_literals_agree_with_the_iso_form_over_the_years) {
  std::mt19937_64 random{20261201};
  // 0001-01-01 .. 9999-12-31 23:59:59.999999, in microseconds since the epoch.
  std::uniform_int_distribution<std::int64_t> us{-62'135'596'800'000'000, 253'402'300'799'999'999};
  for (int i = 0; i < 20'000; ++i) {
    const engine::timestamp t = at(us(random));
    std::string expected = format_iso_timestamp(t);
    expected[10] = ' ';
    expected.replace(expected.size() - 1, 1, "+00");
    ASSERT_EQ(detail::timestamp_literal(t), expected);
    detail::array_literal a;
    a.add_timestamp(t);
    ASSERT_EQ(std::move(a).finish(), "{\"" + expected + "\"}");
  }
  EXPECT_EQ(detail::timestamp_literal(at(253'402'300'799'999'999)),
            "9999-12-31 23:59:59.999999+00");
  EXPECT_EQ(detail::timestamp_literal(at(253'402'300'800'000'000)),
            "10000-01-01 00:00:00.000000+00");
  EXPECT_EQ(detail::timestamp_literal(at(-62'135'596'800'000'000)),
            "0001-01-01 00:00:00.000000+00");
}

TEST(sql_text, array_literal_integers_cover_the_int64_range) {
  detail::array_literal a;
  a.add_int(std::numeric_limits<std::int64_t>::min());
  a.add_int(0);
  a.add_int(std::numeric_limits<std::int64_t>::max());
  a.add_text("\\\"");
  a.add_text("a\"b\\c\"");
  EXPECT_EQ(std::move(a).finish(),
            R"({-9223372036854775808,0,9223372036854775807,"\\\"","a\"b\\c\""})");
}

TEST(failure, sqlstates_split_into_retry_and_refusal) {
  using detail::classify_sqlstate;
  for (const char* state :
       {"08006", "08001", "57P01", "57P03", "57014", "53300", "40001", "40P01", "55P03", "25P03"}) {
    EXPECT_EQ(classify_sqlstate(state), errc::unavailable) << state;
  }
  for (const char* state : {"23505", "23514", "P0001", "22021", "42P01", "XX000", ""}) {
    EXPECT_EQ(classify_sqlstate(state), errc::rejected) << state;
  }
}

// pg_store answers a refusal raised by wallet_commit (migration 0011) with the raised words alone.
TEST(failure, primary_message_is_the_first_line_after_the_severity) {
  using detail::primary_message;
  EXPECT_EQ(primary_message("ERROR:  transfer ids already used: a/t1\n"
                            "CONTEXT:  PL/pgSQL function wallet_commit(integer) line 7 at RAISE\n"),
            "transfer ids already used: a/t1");
  EXPECT_EQ(primary_message("FEHLER:  wallets not at the expected version (another writer): w\n"),
            "wallets not at the expected version (another writer): w")
      << "the severity may be translated";
  EXPECT_EQ(primary_message("ERROR:  a: b:  c\nDETAIL:  d"), "a: b:  c") << "only the first cut";
  EXPECT_EQ(primary_message("no severity here"), "no severity here");
  EXPECT_EQ(primary_message(""), "");
}

}  // namespace
}  // namespace wallet::postgres
