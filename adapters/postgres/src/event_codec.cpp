// Events to wallet_events rows and back. JSON is written by hand (flat objects of strings and
// integers) and read with Boost.JSON.
#include "wallet/postgres/event_codec.hpp"
#include "wallet/engine/overloaded.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <optional>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/currency.hpp"

namespace wallet::postgres {
namespace {

using engine::overloaded;

// A JSON object written field by field.
class json_object {
 public:
  json_object& text(std::string_view key, std::string_view value) {
    open(key);
    quote(value);
    return *this;
  }
  json_object& integer(std::string_view key, std::int64_t value) {
    open(key);
    char digits[24];  // an int64 has at most 19 digits and a sign
    const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), value);
    WALLET_ASSERT(ec == std::errc{});
    out_.append(std::begin(digits), end);
    return *this;
  }
  // The object, closed; the builder is left empty.
  std::string finish() {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void open(std::string_view key) {
    if (out_.size() > 1) {
      out_.push_back(',');
    }
    quote(key);
    out_.push_back(':');
  }
  void quote(std::string_view value) {
    static constexpr std::string_view hex = "0123456789abcdef";
    const auto special = [](char ch) {
      return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20;
    };
    out_.push_back('"');
    // Runs without a character to escape are copied whole; UTF-8 passes through (jsonb refuses
    // invalid sequences).
    auto run = value.begin();
    for (auto it = std::find_if(run, value.end(), special); it != value.end();
         it = std::find_if(run, value.end(), special)) {
      out_.append(run, it);
      const auto byte = static_cast<unsigned char>(*it);
      if (byte < 0x20) {
        out_.append("\\u00");
        out_.push_back(hex[byte >> 4U]);
        out_.push_back(hex[byte & 0x0FU]);
      } else {
        out_.push_back('\\');
        out_.push_back(*it);
      }
      run = it + 1;
    }
    out_.append(run, value.end());
    out_.push_back('"');
  }

  std::string out_ = "{";
};

std::string encode_data(const engine::event_body& body) {
  return std::visit(
      overloaded{
          [](const engine::wallet_opened& e) {
            return json_object{}
                .text("owner", e.owner)
                .text("currency", e.ccy.code())
                .integer("overdraft_limit", e.overdraft_limit)
                .finish();
          },
          [](const engine::deposited& e) {
            return json_object{}.integer("amount", e.amount).finish();
          },
          [](const engine::withdrawn& e) {
            return json_object{}.integer("amount", e.amount).finish();
          },
          [](const engine::transfer_debited& e) {
            json_object o;
            o.text("transfer_id", e.transfer_id)
                .text("destination", e.destination)
                .integer("amount", e.amount);
            // Only a review's approved transfer has one (ADR 0009): other debits stay as they were.
            if (!e.hold_id.empty()) o.text("hold_id", e.hold_id);
            return o.finish();
          },
          [](const engine::transfer_credited& e) {
            return json_object{}
                .text("transfer_id", e.transfer_id)
                .text("source", e.source)
                .integer("amount", e.amount)
                .finish();
          },
          [](const engine::transfer_reversed& e) {
            return json_object{}
                .text("transfer_id", e.transfer_id)
                .integer("amount", e.amount)
                .finish();
          },
          [](const engine::hold_placed& e) {
            return json_object{}
                .text("hold_id", e.hold_id)
                .integer("amount", e.amount)
                .text("expires_at", format_iso_timestamp(e.expires_at))
                .finish();
          },
          [](const engine::hold_captured& e) {
            return json_object{}
                .text("hold_id", e.hold_id)
                .integer("captured", e.captured)
                .integer("released", e.released)
                .finish();
          },
          [](const engine::hold_released& e) {
            return json_object{}.text("hold_id", e.hold_id).integer("amount", e.amount).finish();
          },
          [](const engine::hold_expired& e) {
            return json_object{}.text("hold_id", e.hold_id).integer("amount", e.amount).finish();
          },
          [](const engine::wallet_frozen& e) {
            return json_object{}.text("reason", e.reason).finish();
          },
          [](const engine::wallet_unfrozen& e) {
            return json_object{}.text("reason", e.reason).finish();
          },
          [](const engine::wallet_closed&) { return std::string("{}"); },
          [](const engine::kyc_level_set& e) {
            return json_object{}
                .text("level", engine::to_string(e.level))
                .text("reason", e.reason)
                .finish();
          },
      },
      body);
}

std::string quoted(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 2);
  return out.append("\"").append(key).append("\"");
}

// Reads the fields of one decoded object; the first problem is kept and reported.
class fields {
 public:
  explicit fields(const boost::json::object& object) : object_(object) {}

  [[nodiscard]] bool has(std::string_view key) const { return object_.contains(key); }

  std::string text(std::string_view key) {
    const boost::json::value* v = object_.if_contains(key);
    if (v == nullptr || !v->is_string()) {
      fail(key, "a string");
      return {};
    }
    return std::string(v->get_string());
  }
  std::int64_t integer(std::string_view key) {
    const boost::json::value* v = object_.if_contains(key);
    if (v != nullptr && v->is_int64()) {
      return v->get_int64();
    }
    fail(key, "an integer");
    return 0;
  }
  engine::currency currency(std::string_view key) {
    const std::string code = text(key);
    const auto ccy = engine::currency::from_code(code);
    if (!ccy && !problem_) {
      problem_ = quoted(key).append(" is not an active ISO 4217 currency: ").append(code);
    }
    return ccy.value_or(engine::currency{});
  }
  engine::kyc level(std::string_view key) {
    const std::string name = text(key);
    const auto level = engine::kyc_from_string(name);
    if (!level && !problem_) {
      problem_ = quoted(key).append(" is not a KYC level: ").append(name);
    }
    return level.value_or(engine::kyc::none);
  }
  engine::timestamp time(std::string_view key) {
    const std::string value = text(key);
    auto parsed = parse_iso_timestamp(value);
    if (!parsed) {
      if (!problem_) {
        problem_ = quoted(key).append(": ").append(parsed.error());
      }
      return {};
    }
    return parsed.value();
  }
  [[nodiscard]] const std::optional<std::string>& problem() const noexcept { return problem_; }

 private:
  void fail(std::string_view key, std::string_view expected) {
    if (!problem_) {
      problem_ = quoted(key).append(" must be ").append(expected);
    }
  }

  const boost::json::object& object_;
  std::optional<std::string> problem_;
};

std::optional<engine::event_body> decode_body(std::string_view type, fields& f) {
  using namespace engine;
  if (type == "wallet_opened") {
    auto owner = f.text("owner");
    const auto ccy = f.currency("currency");
    return wallet_opened{std::move(owner), ccy, f.integer("overdraft_limit")};
  }
  if (type == "deposited") return deposited{f.integer("amount")};
  if (type == "withdrawn") return withdrawn{f.integer("amount")};
  if (type == "transfer_debited") {
    auto id = f.text("transfer_id");
    auto destination = f.text("destination");
    const auto amount = f.integer("amount");
    std::string hold_id = f.has("hold_id") ? f.text("hold_id") : std::string{};
    return transfer_debited{std::move(id), std::move(destination), amount, std::move(hold_id)};
  }
  if (type == "transfer_credited") {
    auto id = f.text("transfer_id");
    auto source = f.text("source");
    return transfer_credited{std::move(id), std::move(source), f.integer("amount")};
  }
  if (type == "transfer_reversed") {
    auto id = f.text("transfer_id");
    return transfer_reversed{std::move(id), f.integer("amount")};
  }
  if (type == "hold_placed") {
    auto id = f.text("hold_id");
    const auto amount = f.integer("amount");
    return hold_placed{std::move(id), amount, f.time("expires_at")};
  }
  if (type == "hold_captured") {
    auto id = f.text("hold_id");
    const auto captured = f.integer("captured");
    return hold_captured{std::move(id), captured, f.integer("released")};
  }
  if (type == "hold_released") {
    auto id = f.text("hold_id");
    return hold_released{std::move(id), f.integer("amount")};
  }
  if (type == "hold_expired") {
    auto id = f.text("hold_id");
    return hold_expired{std::move(id), f.integer("amount")};
  }
  if (type == "wallet_frozen") return wallet_frozen{f.text("reason")};
  if (type == "wallet_unfrozen") return wallet_unfrozen{f.text("reason")};
  if (type == "wallet_closed") return wallet_closed{};
  if (type == "kyc_level_set") {
    const auto level = f.level("level");
    return kyc_level_set{level, f.text("reason")};
  }
  return std::nullopt;
}

// Reads exactly `digits` decimal digits at `pos`, advancing it.
bool read_number(std::string_view text, std::size_t& pos, std::size_t digits, long long& out) {
  if (pos + digits > text.size()) {
    return false;
  }
  const char* first = text.data() + pos;
  const auto [end, ec] = std::from_chars(first, first + digits, out);
  if (ec != std::errc{} || end != first + digits || *first == '-' || *first == '+') {
    return false;
  }
  pos += digits;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char ch) {
  if (pos >= text.size() || text[pos] != ch) {
    return false;
  }
  ++pos;
  return true;
}

}  // namespace

std::int64_t held_delta(const engine::event_body& body) {
  return std::visit(overloaded{
                        [](const engine::hold_placed& e) { return e.amount; },
                        [](const engine::hold_captured& e) { return -(e.captured + e.released); },
                        [](const engine::hold_released& e) { return -e.amount; },
                        [](const engine::hold_expired& e) { return -e.amount; },
                        // A review's approved transfer takes its hold (ADR 0009).
                        [](const engine::transfer_debited& e) {
                          return e.hold_id.empty() ? std::int64_t{0} : -e.amount;
                        },
                        [](const auto&) { return std::int64_t{0}; },
                    },
                    body);
}

event_row encode_event(const engine::event_body& body) {
  return event_row{std::string(engine::event_name(body)), engine::balance_delta(body),
                   held_delta(body), encode_data(body)};
}

engine::result<engine::event_body, std::string> decode_event(std::string_view type,
                                                             std::string_view data) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(data, ec);
  if (ec) {
    return "event data is not JSON: " + ec.message();
  }
  if (!value.is_object()) {
    return std::string("event data is not a JSON object");
  }
  fields f(value.get_object());
  auto body = decode_body(type, f);
  if (!body) {
    return "unknown event type '" + std::string(type) + "'";
  }
  if (f.problem()) {
    return std::string(type) + ": " + *f.problem();
  }
  return std::move(*body);
}

std::string format_iso_timestamp(engine::timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> time{t - day};
  const int year = static_cast<int>(ymd.year());
  const bool expanded = year < 0 || year > 9999;
  char text[64];
  const int written = std::snprintf(
      text, sizeof text,
      expanded ? "%+07d-%02u-%02uT%02d:%02d:%02d.%06lldZ" : "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ",
      year, static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
      static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()));
  WALLET_ASSERT(written > 0 && static_cast<std::size_t>(written) < sizeof text);
  return {text, static_cast<std::size_t>(written)};
}

engine::result<engine::timestamp, std::string> parse_iso_timestamp(std::string_view text) {
  using namespace std::chrono;
  const std::string problem =
      "not an ISO 8601 UTC time with microseconds: '" + std::string(text) + "'";
  std::size_t pos = 0;
  long long year = 0;
  long long month = 0;
  long long day = 0;
  long long hour = 0;
  long long minute = 0;
  long long second = 0;
  long long micros = 0;
  bool ok = true;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    const bool negative = text[0] == '-';
    ++pos;
    ok = read_number(text, pos, 6, year);
    year = negative ? -year : year;
  } else {
    ok = read_number(text, pos, 4, year);
  }
  ok = ok && expect(text, pos, '-') && read_number(text, pos, 2, month) && expect(text, pos, '-') &&
       read_number(text, pos, 2, day) && expect(text, pos, 'T') &&
       read_number(text, pos, 2, hour) && expect(text, pos, ':') &&
       read_number(text, pos, 2, minute) && expect(text, pos, ':') &&
       read_number(text, pos, 2, second) && expect(text, pos, '.') &&
       read_number(text, pos, 6, micros) && expect(text, pos, 'Z') && pos == text.size();
  if (!ok || hour > 23 || minute > 59 || second > 59) {
    return problem;
  }
  const year_month_day ymd{std::chrono::year{static_cast<int>(year)},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    return problem;
  }
  return engine::timestamp{sys_days{ymd}} + hours{hour} + minutes{minute} + seconds{second} +
         microseconds{micros};
}

}  // namespace wallet::postgres
