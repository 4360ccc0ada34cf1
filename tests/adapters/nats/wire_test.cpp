// The NATS wire codec: commands decode to the exact engine commands or to precise problems;
// outcomes, events and wallets encode to what docs/schemas declare and docs/wire.md shows.
#include "wallet/nats/wire.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <variant>

#include "wallet/engine/limits.hpp"

namespace wallet::nats {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using std::chrono::sys_days;

engine::currency ccy(std::string_view code) { return engine::currency::from_code(code).value(); }
engine::money eur(std::int64_t minor) { return {minor, ccy("EUR")}; }

// 2026-12-01T10:00:00Z
constexpr engine::timestamp dec_1_10h =
    engine::timestamp{sys_days{std::chrono::year{2026} / 12 / 1}} + 10h;

decoded_command decode_ok(std::string_view text, origin from = origin::client) {
  auto decoded = decode_command(text, from);
  if (!decoded) {
    ADD_FAILURE() << "refused: " << decoded.error().message << "\n  input: " << text;
    return {};
  }
  return std::move(decoded).value();
}

decode_error decode_fails(std::string_view text, origin from = origin::client) {
  auto decoded = decode_command(text, from);
  if (decoded) {
    ADD_FAILURE() << "accepted: " << text;
    return {};
  }
  return decoded.error();
}

std::vector<field_problem> problems_of(std::string_view text, origin from = origin::client) {
  const decode_error error = decode_fails(text, from);
  EXPECT_EQ(error.kind, decode_errc::invalid) << error.message;
  return error.fields;
}

// Commands have no operator==: the fingerprint covers every field but the key, exactly.
void expect_command(const engine::command& actual, const engine::command& expected) {
  EXPECT_EQ(actual.wallet_id, expected.wallet_id);
  EXPECT_EQ(actual.idempotency_key, expected.idempotency_key);
  EXPECT_EQ(engine::command_name(actual.body), engine::command_name(expected.body));
  EXPECT_EQ(engine::fingerprint(actual), engine::fingerprint(expected));
}

engine::command cmd(engine::command_body body) { return {"w-1", "k-1", std::move(body)}; }

// {"wallet_id":"w-1","idempotency_key":"k-1", <rest>}
std::string message(std::string_view rest) {
  return std::string(R"({"wallet_id":"w-1","idempotency_key":"k-1",)") + std::string(rest) + "}";
}

// ---- commands that decode ------------------------------------------------------------------

TEST(WireDecode, EveryClientTypeDecodesToItsEngineCommand) {
  expect_command(
      decode_ok(message(R"("type":"open_wallet","owner":"alice","currency":"EUR")")).command,
      cmd(engine::open_wallet{"alice", ccy("EUR"), 0}));
  expect_command(decode_ok(message(R"("type":"open_wallet","owner":"bob","currency":"EUR",)"
                                   R"("overdraft_limit":"250.5")"))
                     .command,
                 cmd(engine::open_wallet{"bob", ccy("EUR"), 25050}));
  expect_command(
      decode_ok(message(R"("type":"deposit","amount":"12.34","currency":"EUR")")).command,
      cmd(engine::deposit{eur(1234)}));
  expect_command(decode_ok(message(R"("type":"withdraw","amount":"5","currency":"JPY")")).command,
                 cmd(engine::withdraw{{5, ccy("JPY")}}));
  expect_command(decode_ok(message(R"("type":"transfer","transfer_id":"t-1","destination":"w-2",)"
                                   R"("amount":"0.01","currency":"EUR")"))
                     .command,
                 cmd(engine::transfer_debit{"t-1", "w-2", eur(1)}));
  expect_command(decode_ok(message(R"("type":"hold_place","hold_id":"h-1","amount":"3.5",)"
                                   R"("currency":"EUR","expires_at":"2026-12-01T10:00:00Z")"))
                     .command,
                 cmd(engine::hold_place{"h-1", eur(350), dec_1_10h}));
  expect_command(decode_ok(message(R"("type":"hold_capture","hold_id":"h-1")")).command,
                 cmd(engine::hold_capture{"h-1", std::nullopt}));
  expect_command(
      decode_ok(message(R"("type":"hold_capture","hold_id":"h-1","amount":"1","currency":"EUR")"))
          .command,
      cmd(engine::hold_capture{"h-1", eur(100)}));
  expect_command(decode_ok(message(R"("type":"hold_release","hold_id":"h-1")")).command,
                 cmd(engine::hold_release{"h-1"}));
  expect_command(decode_ok(message(R"("type":"freeze","reason":"fraud check")")).command,
                 cmd(engine::freeze{"fraud check"}));
  expect_command(decode_ok(message(R"("type":"unfreeze","reason":"cleared")")).command,
                 cmd(engine::unfreeze{"cleared"}));
  expect_command(decode_ok(message(R"("type":"close_wallet")")).command,
                 cmd(engine::close_wallet{}));
  expect_command(
      decode_ok(message(R"("type":"set_kyc_level","level":"basic","reason":"id checked")")).command,
      cmd(engine::set_kyc_level{engine::kyc::basic, "id checked"}));
  expect_command(
      decode_ok(message(R"("type":"set_kyc_level","level":"full","reason":"r")")).command,
      cmd(engine::set_kyc_level{engine::kyc::full, "r"}));
}

TEST(WireDecode, SetKycLevelNamesItsLevelExactly) {
  EXPECT_EQ(problems_of(message(R"("type":"set_kyc_level","level":"gold","reason":"r")")),
            (std::vector<field_problem>{{"level", "unknown_kyc_level"}}));
  EXPECT_EQ(problems_of(message(R"("type":"set_kyc_level","level":"Basic","reason":"r")")),
            (std::vector<field_problem>{{"level", "unknown_kyc_level"}}));
  EXPECT_EQ(problems_of(message(R"("type":"set_kyc_level","level":2,"reason":"r")")),
            (std::vector<field_problem>{{"level", "not_a_string"}}));
  EXPECT_EQ(problems_of(message(R"("type":"set_kyc_level")")),
            (std::vector<field_problem>{{"level", "missing"}, {"reason", "missing"}}));
  EXPECT_EQ(
      problems_of(message(R"("type":"set_kyc_level","level":"none","reason":"r","amount":"1")")),
      (std::vector<field_problem>{{"amount", "unknown_field"}}));
}

TEST(WireDecode, CommandIdIsEchoedAndOptional) {
  EXPECT_EQ(decode_ok(message(R"("type":"close_wallet","command_id":"req-7")")).command_id,
            "req-7");
  EXPECT_EQ(decode_ok(message(R"("type":"close_wallet")")).command_id, "");
  EXPECT_EQ(problems_of(message(R"("type":"close_wallet","command_id":")" +
                                std::string(command_id_length_max + 1, 'x') + "\"")),
            (std::vector<field_problem>{{"command_id", "too_long"}}));
}

TEST(WireDecode, InternalTypesOnlyFromTheEngine) {
  const std::string credit = message(R"("type":"transfer_credit","transfer_id":"t-1",)"
                                     R"("source":"w-9","amount":"2","currency":"EUR")");
  const std::string reversal =
      message(R"("type":"transfer_reversal","transfer_id":"t-1","amount":"2","currency":"EUR")");
  const std::string expire = message(R"("type":"hold_expire","hold_id":"h-1")");
  for (const auto& text : {credit, reversal, expire}) {
    EXPECT_EQ(problems_of(text, origin::client),
              (std::vector<field_problem>{{"type", "unknown_type"}}))
        << text;
  }
  expect_command(decode_ok(credit, origin::engine).command,
                 cmd(engine::transfer_credit{"t-1", "w-9", eur(200)}));
  expect_command(decode_ok(reversal, origin::engine).command,
                 cmd(engine::transfer_reversal{"t-1", eur(200)}));
  expect_command(decode_ok(expire, origin::engine).command, cmd(engine::hold_expire{"h-1"}));
  // The engine's origin does not open the engine's C++ names to the wire.
  EXPECT_EQ(problems_of(message(R"("type":"transfer_debit","transfer_id":"t","destination":"d",)"
                                R"("amount":"1","currency":"EUR")"),
                        origin::engine),
            (std::vector<field_problem>{{"type", "unknown_type"}}));
}

TEST(WireInternal, EncodedLegsDecodeWithTheEnginesOrigin) {
  const std::vector<engine::command> legs = {
      {"w-2", "sys:credit:3:w-1:t-1", engine::transfer_credit{"t-1", "w-1", {1234, ccy("KWD")}}},
      {"w-1", "sys:reversal:t-1", engine::transfer_reversal{"t-1", eur(5)}},
      {"w-3", "sys:expire:h-1", engine::hold_expire{"h-1"}},
  };
  for (const auto& leg : legs) {
    expect_command(decode_ok(encode_internal_command(leg), origin::engine).command, leg);
  }
}

TEST(WireInternal, OutcomesReadBackAsTheSagaNeedsThem) {
  const auto round_trip = [](const actors::submit_outcome& out) {
    return decode_internal_outcome(encode_outcome({.wallet_id = "w-1",
                                                   .idempotency_key = "k",
                                                   .command_id = {},
                                                   .ccy = ccy("EUR"),
                                                   .outcome = out}));
  };
  EXPECT_TRUE(round_trip(actors::submit_outcome{}).accepted());
  actors::submit_outcome rejected;
  rejected.result.rejected = engine::rejection::currency_mismatch;
  rejected.replayed = true;
  const auto back = round_trip(rejected);
  EXPECT_FALSE(back.error);
  EXPECT_EQ(back.result.rejected, engine::rejection::currency_mismatch);
  EXPECT_TRUE(back.replayed);
  EXPECT_EQ(round_trip(actors::refused(actors::submit_errc::write_refused)).error,
            actors::submit_errc::write_refused);
  // What cannot be read says only "retry".
  for (const char* text :
       {"", "[]", R"({"status":"rejected","rejection":{"code":"nope"}})", R"({"status":"odd"})"}) {
    EXPECT_EQ(decode_internal_outcome(text).error, actors::submit_errc::unavailable) << text;
  }
}

// Amount zero is the engine's call (amount_invalid), like every other business rule; a sign is a
// form error the codec can see.
TEST(WireDecode, ZeroPassesToTheEngineButASignDoesNot) {
  expect_command(decode_ok(message(R"("type":"deposit","amount":"0","currency":"EUR")")).command,
                 cmd(engine::deposit{eur(0)}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"-1","currency":"EUR")")),
            (std::vector<field_problem>{{"amount", "sign"}}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"+1","currency":"EUR")")),
            (std::vector<field_problem>{{"amount", "sign"}}));
}

TEST(WireDecode, IdsAreNotJudgedHereBeyondTheirLength) {
  // The engine answers a bad id with id_invalid; the codec only bounds what it copies.
  expect_command(
      decode_ok(R"({"wallet_id":"has space","idempotency_key":"","type":"close_wallet"})").command,
      engine::command{"has space", "", engine::close_wallet{}});
  const std::string long_id(wire_string_length_max + 1, 'a');
  EXPECT_EQ(problems_of(R"({"wallet_id":")" + long_id +
                        R"(","idempotency_key":"k","type":"close_wallet"})"),
            (std::vector<field_problem>{{"wallet_id", "too_long"}}));
  const std::string longest(wire_string_length_max, 'a');
  expect_command(decode_ok(message(R"("type":"freeze","reason":")" + longest + "\"")).command,
                 cmd(engine::freeze{longest}));
}

// ---- commands that do not ------------------------------------------------------------------

TEST(WireDecode, MalformedJsonCarriesTheParserMessage) {
  const decode_error error = decode_fails(R"({"wallet_id": "w-1",)");
  EXPECT_EQ(error.kind, decode_errc::malformed);
  EXPECT_NE(error.message.find("malformed JSON at byte"), std::string::npos) << error.message;
  EXPECT_TRUE(error.fields.empty());
  EXPECT_EQ(decode_fails(R"({"type":"close_wallet"} trailing)").kind, decode_errc::malformed);
  EXPECT_EQ(decode_fails("").kind, decode_errc::malformed);
}

TEST(WireDecode, NotAnObject) {
  EXPECT_EQ(problems_of(R"(["deposit"])"), (std::vector<field_problem>{{"", "not_an_object"}}));
  EXPECT_EQ(problems_of("42"), (std::vector<field_problem>{{"", "not_an_object"}}));
}

TEST(WireDecode, EveryMissingFieldIsReported) {
  EXPECT_EQ(problems_of("{}"),
            (std::vector<field_problem>{
                {"wallet_id", "missing"}, {"idempotency_key", "missing"}, {"type", "missing"}}));
  EXPECT_EQ(problems_of(message(R"("type":"transfer")")),
            (std::vector<field_problem>{{"transfer_id", "missing"},
                                        {"destination", "missing"},
                                        {"currency", "missing"},
                                        {"amount", "missing"}}));
  EXPECT_EQ(problems_of(message(R"("type":"hold_place","hold_id":"h","amount":"1",)"
                                R"("currency":"EUR")")),
            (std::vector<field_problem>{{"expires_at", "missing"}}));
}

TEST(WireDecode, UnknownFieldsAreRefusedByName) {
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"1","currency":"EUR","amuont":"2")")),
            (std::vector<field_problem>{{"amuont", "unknown_field"}}));
  // A field of another type is unknown for this one.
  EXPECT_EQ(problems_of(message(R"("type":"close_wallet","reason":"bye","owner":"x")")),
            (std::vector<field_problem>{{"reason", "unknown_field"}, {"owner", "unknown_field"}}));
  // With an unknown type no other key can be judged: only the type is reported.
  EXPECT_EQ(problems_of(message(R"("type":"depost","amount":"1")")),
            (std::vector<field_problem>{{"type", "unknown_type"}}));
}

TEST(WireDecode, WrongJsonTypes) {
  EXPECT_EQ(problems_of(R"({"wallet_id":7,"idempotency_key":null,"type":"deposit",)"
                        R"("amount":12.34,"currency":["EUR"],"command_id":{}})"),
            (std::vector<field_problem>{{"wallet_id", "not_a_string"},
                                        {"idempotency_key", "not_a_string"},
                                        {"command_id", "not_a_string"},
                                        {"currency", "not_a_string"},
                                        {"amount", "not_a_string"}}));
  EXPECT_EQ(problems_of(message(R"("type":1)")),
            (std::vector<field_problem>{{"type", "not_a_string"}}));
}

TEST(WireDecode, AmountsAreReadAgainstTheCurrency) {
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"1.234","currency":"EUR")")),
            (std::vector<field_problem>{{"amount", "too_many_decimals"}}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"1.0","currency":"JPY")")),
            (std::vector<field_problem>{{"amount", "too_many_decimals"}}));
  expect_command(
      decode_ok(message(R"("type":"deposit","amount":"1.234","currency":"KWD")")).command,
      cmd(engine::deposit{{1234, ccy("KWD")}}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"1e3","currency":"EUR")")),
            (std::vector<field_problem>{{"amount", "exponent_notation"}}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"1,000","currency":"EUR")")),
            (std::vector<field_problem>{{"amount", "not_a_number"}}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"","currency":"EUR")")),
            (std::vector<field_problem>{{"amount", "empty"}}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"99999999999999999999",)"
                                R"("currency":"JPY")")),
            (std::vector<field_problem>{{"amount", "overflow"}}));
  EXPECT_EQ(problems_of(message(R"("type":"open_wallet","owner":"o","currency":"EUR",)"
                                R"("overdraft_limit":"-5")")),
            (std::vector<field_problem>{{"overdraft_limit", "sign"}}));
}

TEST(WireDecode, UnknownCurrencyStillChecksTheAmountsForm) {
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"1.234","currency":"EURO")")),
            (std::vector<field_problem>{{"currency", "unknown_currency"}}));
  EXPECT_EQ(
      problems_of(message(R"("type":"deposit","amount":"x","currency":"eur")")),
      (std::vector<field_problem>{{"currency", "unknown_currency"}, {"amount", "not_a_number"}}));
  EXPECT_EQ(problems_of(message(R"("type":"deposit","amount":"1","currency":"XAU")")),
            (std::vector<field_problem>{{"currency", "unknown_currency"}}));
}

TEST(WireDecode, BadTimestampsAreNamed) {
  const auto expiring = [](std::string_view at) {
    return message(R"("type":"hold_place","hold_id":"h","amount":"1","currency":"EUR",)"
                   R"("expires_at":")" +
                   std::string(at) + "\"");
  };
  EXPECT_EQ(problems_of(expiring("2026-12-01T10:00:00+01:00")),
            (std::vector<field_problem>{{"expires_at", "not_utc"}}));
  EXPECT_EQ(problems_of(expiring("2026-02-30T10:00:00Z")),
            (std::vector<field_problem>{{"expires_at", "invalid_date"}}));
  EXPECT_EQ(problems_of(expiring("tomorrow")),
            (std::vector<field_problem>{{"expires_at", "not_rfc3339"}}));
  EXPECT_EQ(
      std::get<engine::hold_place>(decode_ok(expiring("2026-12-01T10:00:00.5+00:00")).command.body)
          .expires_at,
      dec_1_10h + 500ms);
}

TEST(WireDecode, HoldCaptureTakesAmountAndCurrencyTogether) {
  EXPECT_EQ(problems_of(message(R"("type":"hold_capture","hold_id":"h","amount":"1")")),
            (std::vector<field_problem>{{"currency", "required_with_amount"}}));
  EXPECT_EQ(problems_of(message(R"("type":"hold_capture","hold_id":"h","currency":"EUR")")),
            (std::vector<field_problem>{{"amount", "required_with_currency"}}));
  // The amount alone is still read for its form.
  EXPECT_EQ(problems_of(message(R"("type":"hold_capture","hold_id":"h","amount":"-1")")),
            (std::vector<field_problem>{{"currency", "required_with_amount"}, {"amount", "sign"}}));
}

TEST(WireDecode, RefusalKeepsTheCommonFieldsForCorrelation) {
  const decode_error error =
      decode_fails(message(R"("type":"deposit","command_id":"c-1","currency":"EUR")"));
  EXPECT_EQ(error.wallet_id, "w-1");
  EXPECT_EQ(error.idempotency_key, "k-1");
  EXPECT_EQ(error.command_id, "c-1");
  EXPECT_EQ(error.message, "invalid command: amount: missing");
}

// ---- timestamps ----------------------------------------------------------------------------

TEST(Rfc3339, FormatAlwaysWritesMicroseconds) {
  EXPECT_EQ(format_rfc3339(dec_1_10h), "2026-12-01T10:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(dec_1_10h + 123456us), "2026-12-01T10:00:00.123456Z");
  EXPECT_EQ(format_rfc3339(engine::timestamp{}), "1970-01-01T00:00:00.000000Z");
  // Before the epoch the day still comes first: no negative time of day.
  EXPECT_EQ(format_rfc3339(engine::timestamp{} - 1us), "1969-12-31T23:59:59.999999Z");
}

TEST(Rfc3339, RoundTrips) {
  for (const engine::timestamp t :
       {dec_1_10h, dec_1_10h + 1us, engine::timestamp{} - 1us,
        engine::timestamp{sys_days{std::chrono::year{2028} / 2 / 29}} + 23h + 59min + 59s,
        engine::timestamp{sys_days{std::chrono::year{0} / 1 / 1}},
        engine::timestamp{sys_days{std::chrono::year{9999} / 12 / 31}} + 86'399'999'999us}) {
    const auto parsed = parse_rfc3339(format_rfc3339(t));
    ASSERT_TRUE(parsed) << format_rfc3339(t);
    EXPECT_EQ(parsed.value(), t);
  }
}

TEST(Rfc3339, AcceptsShortFractionsAndTheZeroOffset) {
  EXPECT_EQ(parse_rfc3339("2026-12-01T10:00:00Z").value(), dec_1_10h);
  EXPECT_EQ(parse_rfc3339("2026-12-01T10:00:00+00:00").value(), dec_1_10h);
  EXPECT_EQ(parse_rfc3339("2026-12-01T10:00:00.1Z").value(), dec_1_10h + 100ms);
  EXPECT_EQ(parse_rfc3339("2026-12-01T10:00:00.000007Z").value(), dec_1_10h + 7us);
}

TEST(Rfc3339, RejectionsAreNamed) {
  const std::map<std::string_view, time_error> cases = {
      {"", time_error::not_rfc3339},
      {"2026-12-01", time_error::not_rfc3339},
      {"2026-12-01 10:00:00Z", time_error::not_rfc3339},
      {"2026-12-01t10:00:00z", time_error::not_rfc3339},
      {"2026-12-01T10:00:00", time_error::not_rfc3339},
      {"2026-12-01T10:00:00.Z", time_error::not_rfc3339},
      {"2026-12-01T10:00:00ZZ", time_error::not_rfc3339},
      {"2026-12-1T10:00:00Z", time_error::not_rfc3339},
      {"+2026-12-01T10:00:00Z", time_error::not_rfc3339},
      {"2026-12-01T10:00:00+0000", time_error::not_rfc3339},
      {"2026-12-01T10:00:00+01:00", time_error::not_utc},
      {"2026-12-01T10:00:00-00:00", time_error::not_utc},
      {"2026-12-01T10:00:00.1234567Z", time_error::too_precise},
      {"2026-02-30T10:00:00Z", time_error::invalid_date},
      {"2027-02-29T10:00:00Z", time_error::invalid_date},
      {"2026-13-01T10:00:00Z", time_error::invalid_date},
      {"2026-00-01T10:00:00Z", time_error::invalid_date},
      {"2026-12-00T10:00:00Z", time_error::invalid_date},
      {"2026-12-01T24:00:00Z", time_error::invalid_time},
      {"2026-12-01T10:60:00Z", time_error::invalid_time},
      {"2026-12-31T23:59:60Z", time_error::invalid_time},
  };
  for (const auto& [text, expected] : cases) {
    const auto parsed = parse_rfc3339(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(to_string(parsed.error()), to_string(expected)) << text;
  }
}

// ---- encodings -----------------------------------------------------------------------------

json::object parse_object(const std::string& text) {
  const json::value v = json::parse(text);
  EXPECT_TRUE(v.is_object()) << text;
  return v.is_object() ? v.get_object() : json::object{};
}

engine::event deposited_event() {
  return engine::event{7, dec_1_10h + 123456us, engine::deposited{1234}};
}

TEST(WireEncode, AcceptedOutcomeWithItsEvent) {
  actors::submit_outcome out;
  out.result = engine::outcome{std::nullopt, 7, 1234, 500};
  out.event = deposited_event();
  const json::object o = parse_object(encode_outcome({.wallet_id = "w-1",
                                                      .idempotency_key = "k-1",
                                                      .command_id = "c-1",
                                                      .ccy = ccy("EUR"),
                                                      .outcome = out}));
  EXPECT_EQ(o.at("wallet_id"), "w-1");
  EXPECT_EQ(o.at("idempotency_key"), "k-1");
  EXPECT_EQ(o.at("command_id"), "c-1");
  EXPECT_EQ(o.at("status"), "accepted");
  EXPECT_EQ(o.at("replayed"), false);
  EXPECT_EQ(o.at("version").to_number<std::int64_t>(), 7);
  EXPECT_EQ(o.at("balance"), "12.34");
  EXPECT_EQ(o.at("held"), "5.00");
  EXPECT_EQ(o.at("available"), "7.34");
  EXPECT_EQ(o.at("currency"), "EUR");
  EXPECT_FALSE(o.contains("rejection"));
  EXPECT_FALSE(o.contains("error"));
  const json::object& e = o.at("event").as_object();
  EXPECT_EQ(e.at("type"), "deposited");
  EXPECT_EQ(e.at("amount"), "12.34");
  EXPECT_EQ(e.at("at"), "2026-12-01T10:00:00.123456Z");
}

TEST(WireEncode, RejectedAndReplayedOutcomes) {
  actors::submit_outcome out;
  out.result = engine::outcome{engine::rejection::insufficient_funds, 3, -100, 0};
  out.replayed = true;
  const json::object o = parse_object(encode_outcome({.wallet_id = "w-1",
                                                      .idempotency_key = "k-1",
                                                      .command_id = {},
                                                      .ccy = ccy("JPY"),
                                                      .outcome = out}));
  EXPECT_EQ(o.at("status"), "rejected");
  EXPECT_EQ(o.at("replayed"), true);
  EXPECT_FALSE(o.contains("command_id"));
  EXPECT_FALSE(o.contains("event"));
  EXPECT_EQ(o.at("balance"), "-100");
  EXPECT_EQ(o.at("available"), "-100");
  EXPECT_EQ(o.at("rejection").at("code"), "insufficient_funds");
  EXPECT_FALSE(o.at("rejection").at("message").as_string().empty());
}

TEST(WireEncode, RejectionOfAWalletWithoutCurrencyOmitsAmounts) {
  actors::submit_outcome out;
  out.result = engine::outcome{engine::rejection::wallet_not_found, 0, 0, 0};
  const json::object o = parse_object(encode_outcome(
      {.wallet_id = "w-1", .idempotency_key = "k-1", .command_id = {}, .ccy = {}, .outcome = out}));
  EXPECT_EQ(o.at("status"), "rejected");
  EXPECT_EQ(o.at("version").to_number<std::int64_t>(), 0);
  EXPECT_FALSE(o.contains("balance"));
  EXPECT_FALSE(o.contains("currency"));
}

TEST(WireEncode, OpenWalletTakesTheCurrencyFromItsEvent) {
  actors::submit_outcome out;
  out.result = engine::outcome{std::nullopt, 1, 0, 0};
  out.event = engine::event{1, dec_1_10h, engine::wallet_opened{"alice", ccy("BHD"), 1500}};
  const json::object o = parse_object(encode_outcome(
      {.wallet_id = "w-1", .idempotency_key = "k-1", .command_id = {}, .ccy = {}, .outcome = out}));
  EXPECT_EQ(o.at("currency"), "BHD");
  EXPECT_EQ(o.at("balance"), "0.000");
  EXPECT_EQ(o.at("event").at("overdraft_limit"), "1.500");
}

TEST(WireEncode, RefusalsSayWhetherToRetry) {
  const std::map<actors::submit_errc, bool> cases = {
      {actors::submit_errc::overloaded, true},    {actors::submit_errc::unavailable, true},
      {actors::submit_errc::shutting_down, true}, {actors::submit_errc::invalid_wallet, false},
      {actors::submit_errc::reserved_key, false}, {actors::submit_errc::write_refused, false},
      {actors::submit_errc::not_owner, true},
  };
  for (const auto& [errc, retry] : cases) {
    const actors::submit_outcome out = actors::refused(errc);
    const json::object o = parse_object(encode_outcome({.wallet_id = "w-1",
                                                        .idempotency_key = "k",
                                                        .command_id = {},
                                                        .ccy = ccy("EUR"),
                                                        .outcome = out}));
    EXPECT_EQ(o.at("status"), "refused");
    EXPECT_EQ(o.at("error").at("code").as_string(), actors::to_string(errc));
    EXPECT_EQ(o.at("error").at("retryable"), retry) << actors::to_string(errc);
    EXPECT_FALSE(o.contains("version"));
    EXPECT_FALSE(o.contains("balance"));
  }
}

TEST(WireEncode, DecodeErrorsBecomeRefusals) {
  const json::object invalid = parse_object(encode_decode_error(
      decode_fails(message(R"("type":"deposit","amount":"1.234","currency":"EUR")"))));
  EXPECT_EQ(invalid.at("status"), "refused");
  EXPECT_EQ(invalid.at("wallet_id"), "w-1");
  EXPECT_EQ(invalid.at("error").at("code"), "invalid");
  EXPECT_EQ(invalid.at("error").at("retryable"), false);
  const json::array& fields = invalid.at("error").at("fields").as_array();
  ASSERT_EQ(fields.size(), 1U);
  EXPECT_EQ(fields[0].at("field"), "amount");
  EXPECT_EQ(fields[0].at("problem"), "too_many_decimals");

  const json::object malformed = parse_object(encode_decode_error(decode_fails("{")));
  EXPECT_EQ(malformed.at("error").at("code"), "malformed");
  EXPECT_FALSE(malformed.contains("wallet_id"));
  EXPECT_FALSE(malformed.at("error").as_object().contains("fields"));
}

TEST(WireEncode, EventCarriesAmountsAsDecimalsAndBothDeltas) {
  const engine::event e{9, dec_1_10h, engine::hold_captured{"h-1", 250, 50}};
  const json::object o = parse_object(encode_event("w-1", e, ccy("EUR")));
  EXPECT_EQ(o.at("wallet_id"), "w-1");
  EXPECT_EQ(o.at("seq").to_number<std::int64_t>(), 9);
  EXPECT_EQ(o.at("at"), "2026-12-01T10:00:00.000000Z");
  EXPECT_EQ(o.at("type"), "hold_captured");
  EXPECT_EQ(o.at("currency"), "EUR");
  EXPECT_EQ(o.at("hold_id"), "h-1");
  EXPECT_EQ(o.at("captured"), "2.50");
  EXPECT_EQ(o.at("released"), "0.50");
  EXPECT_EQ(o.at("balance_delta"), "-2.50");
  EXPECT_EQ(o.at("held_delta"), "-3.00");

  const json::object placed = parse_object(encode_event(
      "w-1", engine::event{3, dec_1_10h, engine::hold_placed{"h-2", 7, dec_1_10h + 1h}},
      ccy("JPY")));
  EXPECT_EQ(placed.at("expires_at"), "2026-12-01T11:00:00.000000Z");
  EXPECT_EQ(placed.at("held_delta"), "7");
  EXPECT_EQ(placed.at("balance_delta"), "0");
}

// An approved transfer under AML review (ADR 0009) takes its hold: hold_id and held_delta say so.
TEST(WireEncode, ADebitFromAReviewHoldNamesTheHold) {
  const json::object o = parse_object(encode_event(
      "w-1",
      engine::event{5, dec_1_10h,
                    engine::transfer_debited{"t-1", "w-2", 150, "aml:0123456789abcdef"}},
      ccy("EUR")));
  EXPECT_EQ(o.at("hold_id"), "aml:0123456789abcdef");
  EXPECT_EQ(o.at("balance_delta"), "-1.50");
  EXPECT_EQ(o.at("held_delta"), "-1.50");
  const json::object plain = parse_object(encode_event(
      "w-1", engine::event{5, dec_1_10h, engine::transfer_debited{"t-1", "w-2", 150}}, ccy("EUR")));
  EXPECT_FALSE(plain.contains("hold_id"));
  EXPECT_EQ(plain.at("held_delta"), "0.00");
}

TEST(WireEncode, EscapesText) {
  const json::object o = parse_object(encode_event(
      "w-1", engine::event{2, dec_1_10h, engine::wallet_frozen{"say \"no\"\\\n\x01"}}, ccy("EUR")));
  EXPECT_EQ(o.at("reason"), "say \"no\"\\\n\x01");
}

engine::wallet_state sample_wallet() {
  engine::wallet_state s = engine::empty_wallet("w-1");
  s.owner = "alice";
  s.ccy = ccy("EUR");
  s.status = engine::wallet_status::frozen;
  s.balance = 10'000;
  s.held = 2'500;
  s.overdraft_limit = 1'000;
  s.version = 12;
  s.holds.emplace("h-b", engine::hold{500, dec_1_10h});
  s.holds.emplace("h-a", engine::hold{2'000, dec_1_10h + 1us});
  return s;
}

TEST(WireEncode, Wallet) {
  const json::object o = parse_object(encode_wallet(sample_wallet()));
  EXPECT_EQ(o.at("wallet_id"), "w-1");
  EXPECT_EQ(o.at("owner"), "alice");
  EXPECT_EQ(o.at("currency"), "EUR");
  EXPECT_EQ(o.at("status"), "frozen");
  EXPECT_EQ(o.at("balance"), "100.00");
  EXPECT_EQ(o.at("held"), "25.00");
  EXPECT_EQ(o.at("available"), "75.00");  // the overdraft is not spent money
  EXPECT_EQ(o.at("overdraft_limit"), "10.00");
  EXPECT_EQ(o.at("version").to_number<std::int64_t>(), 12);
  const json::array& holds = o.at("holds").as_array();
  ASSERT_EQ(holds.size(), 2U);
  EXPECT_EQ(holds[0].at("hold_id"), "h-a");
  EXPECT_EQ(holds[0].at("amount"), "20.00");
  EXPECT_EQ(holds[0].at("expires_at"), "2026-12-01T10:00:00.000001Z");
  EXPECT_EQ(holds[1].at("hold_id"), "h-b");
}

TEST(WireEncode, KycEventsAndRejections) {
  const std::string text = encode_event(
      "w-1", engine::event{6, dec_1_10h, engine::kyc_level_set{engine::kyc::full, "passport"}},
      ccy("EUR"));
  const json::object o = parse_object(text);
  EXPECT_EQ(o.at("type").as_string(), "kyc_level_set");
  EXPECT_EQ(o.at("level").as_string(), "full");
  EXPECT_EQ(o.at("reason").as_string(), "passport");
  EXPECT_EQ(o.at("balance_delta").as_string(), "0.00");
  for (const auto r :
       {engine::rejection::kyc_balance_limit_exceeded,
        engine::rejection::kyc_withdrawal_limit_exceeded,
        engine::rejection::kyc_daily_limit_exceeded, engine::rejection::feature_disabled}) {
    actors::submit_outcome out;
    out.result = engine::outcome{r, 3, 100, 0};
    const json::object refused = parse_object(encode_outcome({.wallet_id = "w-1",
                                                              .idempotency_key = "k",
                                                              .command_id = "",
                                                              .ccy = ccy("EUR"),
                                                              .outcome = out}));
    EXPECT_EQ(refused.at("status").as_string(), "rejected");
    EXPECT_EQ(refused.at("rejection").at("code").as_string(), engine::code(r));
    EXPECT_NE(refused.at("rejection").at("message").as_string(), "unknown rejection");
  }
  // The saga reads a leg's feature_disabled like any rejection (legs are never refused by flags,
  // but an outcome it cannot read would be retried as unavailable).
  actors::submit_outcome disabled;
  disabled.result = engine::outcome{engine::rejection::feature_disabled, 0, 0, 0};
  const auto back = decode_internal_outcome(encode_outcome({.wallet_id = "w-1",
                                                            .idempotency_key = "k",
                                                            .command_id = "",
                                                            .ccy = {},
                                                            .outcome = disabled}));
  EXPECT_EQ(back.result.rejected, engine::rejection::feature_disabled);
}

TEST(WireEncode, NotFound) {
  const json::object o = parse_object(encode_not_found("w-404"));
  EXPECT_EQ(o.at("wallet_id"), "w-404");
  EXPECT_EQ(o.at("status"), "refused");
  EXPECT_EQ(o.at("error").at("code"), "not_found");
  EXPECT_EQ(o.at("error").at("retryable"), false);
}

// ---- conformance to docs/schemas and docs/wire.md ------------------------------------------

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A small JSON Schema (2020-12) checker for the keywords docs/schemas use. A keyword it does not
// know is an error, so a schema cannot claim more than is checked here.
class schema_checker {
 public:
  explicit schema_checker(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::vector<std::string> check(const json::value& v, const std::string& file) {
    std::vector<std::string> errors;
    const json::object& root = load(file);
    validate(v, root, root, "$", errors);
    return errors;
  }

 private:
  const json::object& load(const std::string& file) {
    auto it = docs_.find(file);
    if (it == docs_.end()) {
      it = docs_.emplace(file, json::parse(read_text_file(dir_ / file))).first;
    }
    return it->second.as_object();
  }

  static bool has_type(const json::value& v, std::string_view type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_bool();
    if (type == "integer") return v.is_int64() || v.is_uint64();
    return false;
  }

  void validate(const json::value& v, const json::object& schema, const json::object& root,
                const std::string& at, std::vector<std::string>& errors) {
    const auto fail = [&](const std::string& what) { errors.push_back(at + ": " + what); };
    for (const auto& [keyword, arg] : schema) {
      const std::string_view k = keyword;
      if (k == "$schema" || k == "$id" || k == "title" || k == "description" || k == "$defs" ||
          k == "format") {
        continue;  // annotations
      }
      if (k == "$ref") {
        const std::string_view ref = arg.as_string();
        if (ref.starts_with("#/$defs/")) {
          validate(v, root.at("$defs").at(ref.substr(8)).as_object(), root, at, errors);
        } else {
          const json::object& other = load(std::string(ref));
          validate(v, other, other, at, errors);
        }
      } else if (k == "type") {
        if (!has_type(v, arg.as_string())) fail("not of type " + std::string(arg.as_string()));
      } else if (k == "const") {
        if (v != arg) fail("not " + json::serialize(arg));
      } else if (k == "enum") {
        const auto& options = arg.as_array();
        if (std::find(options.begin(), options.end(), v) == options.end()) {
          fail(json::serialize(v) + " not in enum");
        }
      } else if (k == "pattern") {
        if (v.is_string() && !std::regex_search(std::string(v.as_string()),
                                                std::regex(std::string(arg.as_string())))) {
          fail(json::serialize(v) + " does not match " + std::string(arg.as_string()));
        }
      } else if (k == "maxLength") {
        if (v.is_string() && v.as_string().size() > arg.to_number<std::size_t>()) fail("too long");
      } else if (k == "minimum") {
        if ((v.is_int64() || v.is_uint64()) && v.to_number<double>() < arg.to_number<double>()) {
          fail("below minimum");
        }
      } else if (k == "properties") {
        if (!v.is_object()) continue;
        for (const auto& [name, value] : v.as_object()) {
          if (const auto* sub = arg.as_object().if_contains(name)) {
            validate(value, sub->as_object(), root, at + "." + std::string(name), errors);
          }
        }
      } else if (k == "additionalProperties") {
        if (!v.is_object() || arg.as_bool()) continue;
        for (const auto& entry : v.as_object()) {
          if (!schema.at("properties").as_object().contains(entry.key())) {
            fail("undeclared property " + std::string(entry.key()));
          }
        }
      } else if (k == "required") {
        if (!v.is_object()) continue;
        for (const auto& name : arg.as_array()) {
          if (!v.as_object().contains(name.as_string())) {
            fail("missing required " + std::string(name.as_string()));
          }
        }
      } else if (k == "dependentRequired") {
        if (!v.is_object()) continue;
        for (const auto& [name, needs] : arg.as_object()) {
          if (!v.as_object().contains(name)) continue;
          for (const auto& need : needs.as_array()) {
            if (!v.as_object().contains(need.as_string())) {
              fail(std::string(name) + " requires " + std::string(need.as_string()));
            }
          }
        }
      } else if (k == "propertyNames") {
        if (!v.is_object()) continue;
        for (const auto& entry : v.as_object()) {
          validate(json::value(entry.key()), arg.as_object(), root, at + " (property name)",
                   errors);
        }
      } else if (k == "not") {
        std::vector<std::string> inner;
        validate(v, arg.as_object(), root, at, inner);
        if (inner.empty()) fail("matches a forbidden schema: " + json::serialize(arg));
      } else if (k == "items") {
        if (!v.is_array()) continue;
        for (std::size_t i = 0; i < v.as_array().size(); ++i) {
          validate(v.as_array()[i], arg.as_object(), root, at + "[" + std::to_string(i) + "]",
                   errors);
        }
      } else if (k == "allOf") {
        for (const auto& sub : arg.as_array()) validate(v, sub.as_object(), root, at, errors);
      } else if (k == "if") {
        std::vector<std::string> inner;
        validate(v, arg.as_object(), root, at, inner);
        const char* branch = inner.empty() ? "then" : "else";
        if (const auto* sub = schema.if_contains(branch)) {
          validate(v, sub->as_object(), root, at, errors);
        }
      } else if (k == "then" || k == "else") {
        continue;  // applied by "if"
      } else {
        fail("unsupported schema keyword " + std::string(k));
      }
    }
  }

  std::filesystem::path dir_;
  std::map<std::string, json::value> docs_;
};

void expect_conforms(schema_checker& checker, const std::string& text, const std::string& file) {
  const auto errors = checker.check(json::parse(text), file);
  for (const auto& e : errors) ADD_FAILURE() << file << ": " << e << "\n  in " << text;
}

// The checker itself must be able to fail, or the conformance tests prove nothing.
TEST(WireSchema, CheckerCatchesUndeclaredMissingAndMistypedFields) {
  schema_checker checker(WALLET_SCHEMA_DIR);
  const std::string good = encode_not_found("w-1");
  EXPECT_TRUE(checker.check(json::parse(good), "outcome.schema.json").empty());
  json::object extra = parse_object(good);
  extra["surprise"] = 1;
  EXPECT_FALSE(checker.check(extra, "outcome.schema.json").empty());
  json::object missing = parse_object(good);
  missing.erase("error");
  EXPECT_FALSE(checker.check(missing, "outcome.schema.json").empty());
  json::object mistyped = parse_object(encode_wallet(sample_wallet()));
  mistyped["balance"] = 100;
  EXPECT_FALSE(checker.check(mistyped, "wallet.schema.json").empty());
  json::object wrong_event = parse_object(encode_event("w", deposited_event(), ccy("EUR")));
  wrong_event["reason"] = "a deposited event has no reason";
  EXPECT_FALSE(checker.check(wrong_event, "event.schema.json").empty());
}

TEST(WireSchema, EveryEventTypeConforms) {
  schema_checker checker(WALLET_SCHEMA_DIR);
  const std::vector<engine::event_body> bodies = {
      engine::wallet_opened{"alice", ccy("EUR"), 0},
      engine::deposited{100},
      engine::withdrawn{100},
      engine::transfer_debited{"t", "w-2", 100},
      engine::transfer_credited{"t", "w-0", 100},
      engine::transfer_reversed{"t", 100},
      engine::hold_placed{"h", 100, dec_1_10h},
      engine::hold_captured{"h", 60, 40},
      engine::hold_released{"h", 100},
      engine::hold_expired{"h", 100},
      engine::wallet_frozen{"r"},
      engine::wallet_unfrozen{"r"},
      engine::wallet_closed{},
      engine::kyc_level_set{engine::kyc::basic, "r"},
  };
  ASSERT_EQ(bodies.size(), std::variant_size_v<engine::event_body>);
  for (const auto& body : bodies) {
    expect_conforms(checker, encode_event("w-1", engine::event{2, dec_1_10h, body}, ccy("EUR")),
                    "event.schema.json");
  }
  expect_conforms(
      checker,
      encode_event("w-1",
                   engine::event{2, dec_1_10h, engine::transfer_debited{"t", "w-2", 100, "aml:h"}},
                   ccy("EUR")),
      "event.schema.json");
}

TEST(WireSchema, EveryOutcomeFormConforms) {
  schema_checker checker(WALLET_SCHEMA_DIR);
  actors::submit_outcome accepted;
  accepted.result = engine::outcome{std::nullopt, 7, 1234, 500};
  accepted.event = deposited_event();
  actors::submit_outcome rejected;
  rejected.result = engine::outcome{engine::rejection::hold_not_found, 7, 1234, 500};
  actors::submit_outcome not_opened;
  not_opened.result = engine::outcome{engine::rejection::wallet_not_found, 0, 0, 0};
  const actors::submit_outcome busy = actors::refused(actors::submit_errc::overloaded);
  for (const actors::submit_outcome* out :
       std::array<const actors::submit_outcome*, 4>{&accepted, &rejected, &not_opened, &busy}) {
    expect_conforms(checker,
                    encode_outcome({.wallet_id = "w-1",
                                    .idempotency_key = "k-1",
                                    .command_id = "c-1",
                                    .ccy = out == &not_opened ? engine::currency{} : ccy("EUR"),
                                    .outcome = *out}),
                    "outcome.schema.json");
  }
  expect_conforms(checker, encode_decode_error(decode_fails("[")), "outcome.schema.json");
  expect_conforms(checker, encode_decode_error(decode_fails(message(R"("type":"deposit")"))),
                  "outcome.schema.json");
  expect_conforms(checker, encode_not_found("w-1"), "outcome.schema.json");
  expect_conforms(checker, encode_wallet(sample_wallet()), "wallet.schema.json");
  engine::wallet_state empty = sample_wallet();
  empty.holds.clear();
  empty.held = 0;
  expect_conforms(checker, encode_wallet(empty), "wallet.schema.json");
}

// The ```json blocks of docs/wire.md, each classified by what it is.
std::vector<std::string> json_examples() {
  const std::string doc = read_text_file(WALLET_WIRE_DOC);
  std::vector<std::string> blocks;
  const std::string open = "```json\n";
  for (std::size_t pos = doc.find(open); pos != std::string::npos; pos = doc.find(open, pos)) {
    pos += open.size();
    const std::size_t end = doc.find("```", pos);
    EXPECT_NE(end, std::string::npos);
    blocks.push_back(doc.substr(pos, end - pos));
    pos = end + 3;
  }
  return blocks;
}

bool is_internal_type(const json::value& type) {
  return type == "transfer_credit" || type == "transfer_reversal" || type == "hold_expire";
}

TEST(WireSchema, EveryExampleInTheDocsIsValid) {
  schema_checker checker(WALLET_SCHEMA_DIR);
  const auto examples = json_examples();
  std::size_t commands = 0;
  std::set<std::string> command_types;
  for (const auto& text : examples) {
    const json::object o = parse_object(text);
    if (o.contains("holds")) {
      expect_conforms(checker, text, "wallet.schema.json");
    } else if (o.contains("status")) {
      expect_conforms(checker, text, "outcome.schema.json");
    } else if (o.contains("seq")) {
      expect_conforms(checker, text, "event.schema.json");
    } else if (o.contains("idempotency_key")) {
      ++commands;
      command_types.insert(std::string(o.at("type").as_string()));
      expect_conforms(checker, text, "command.schema.json");
      decode_ok(text, is_internal_type(o.at("type")) ? origin::engine : origin::client);
    } else {
      ADD_FAILURE() << "an example that is no message of the contract:\n" << text;
    }
  }
  EXPECT_GE(examples.size(), 20U);
  // Every command type has an example.
  EXPECT_EQ(command_types.size(), 14U);
  EXPECT_GE(commands, 14U);
}

// The docs show one invalid command (a ```text block) and its refusal (the next ```json block):
// the refusal must be exactly what the codec answers.
TEST(WireSchema, TheDocumentedRefusalIsTheRealOne) {
  const std::string doc = read_text_file(WALLET_WIRE_DOC);
  const std::size_t input = doc.find("```text\n");
  ASSERT_NE(input, std::string::npos);
  const std::size_t input_end = doc.find("```", input + 8);
  const std::size_t answer = doc.find("```json\n", input_end + 3);
  ASSERT_NE(answer, std::string::npos);
  const std::size_t answer_end = doc.find("```", answer + 8);
  const std::string command = doc.substr(input + 8, input_end - input - 8);
  const std::string refusal = doc.substr(answer + 8, answer_end - answer - 8);
  EXPECT_EQ(json::parse(encode_decode_error(decode_fails(command))), json::parse(refusal));
}

// A list of commands beyond the docs: every decodable form conforms to the schema, and the schema
// requires nothing the decoder does not.
TEST(WireSchema, DecodableCommandsConformToTheSchema) {
  schema_checker checker(WALLET_SCHEMA_DIR);
  const std::vector<std::string> commands = {
      message(R"("type":"open_wallet","owner":"o","currency":"JPY","overdraft_limit":"0")"),
      message(R"("type":"hold_capture","hold_id":"h","amount":"1.5","currency":"EUR",)"
              R"("command_id":"c")"),
      message(R"("type":"hold_place","hold_id":"h","amount":"1","currency":"EUR",)"
              R"("expires_at":"2026-12-01T10:00:00.123456+00:00")"),
  };
  for (const auto& text : commands) {
    decode_ok(text);
    expect_conforms(checker, text, "command.schema.json");
  }
  // And the schema refuses what the decoder refuses for form: an unknown field, a signed amount.
  EXPECT_FALSE(checker
                   .check(json::parse(message(R"("type":"close_wallet","reason":"r")")),
                          "command.schema.json")
                   .empty());
  EXPECT_FALSE(
      checker
          .check(json::parse(message(R"("type":"deposit","amount":"-1","currency":"EUR")")),
                 "command.schema.json")
          .empty());
}

}  // namespace
}  // namespace wallet::nats
