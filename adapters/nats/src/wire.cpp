// The NATS wire codec: JSON read with Boost.JSON, strictly (every problem is reported, unknown
// fields are refused), and written with Boost.JSON so that escaping is never hand-rolled:
// outcomes and events straight into their buffer (json_writer), the rest through json::object.
#include "wallet/nats/wire.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <concepts>
#include <optional>
#include <variant>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/money.hpp"
#include "wallet/engine/overloaded.hpp"
#include "wallet/engine/review.hpp"

namespace wallet::nats {
namespace json = boost::json;
using engine::overloaded;

namespace {

// ---- decoding -------------------------------------------------------------------------------

enum class presence : std::uint8_t { required, optional };

// Reads the fields of one command object, recording every problem and every key it was asked
// about: what is left over afterwards is an unknown field.
class reader {
 public:
  explicit reader(const json::object& object) : object_(object) {}

  [[nodiscard]] bool has(std::string_view key) const { return object_.contains(key); }

  std::optional<std::string> text(std::string_view key, presence p,
                                  std::size_t length_max = wire_string_length_max) {
    known_.push_back(key);
    const json::value* v = object_.if_contains(key);
    if (v == nullptr) {
      if (p == presence::required) fail(key, "missing");
      return std::nullopt;
    }
    if (!v->is_string()) {
      fail(key, "not_a_string");
      return std::nullopt;
    }
    const json::string& s = v->get_string();
    if (s.size() > length_max) {
      fail(key, "too_long");
      return std::nullopt;
    }
    return std::string(s);
  }

  std::optional<engine::currency> currency(std::string_view key, presence p) {
    const auto code = text(key, p);
    if (!code) return std::nullopt;
    auto ccy = engine::currency::from_code(*code);
    if (!ccy) fail(key, "unknown_currency");
    return ccy;
  }

  // A decimal amount in major units. Without a known currency only its form can be judged: the
  // number of decimals (and so the range) depends on the currency's exponent.
  std::optional<std::int64_t> amount(std::string_view key, std::optional<engine::currency> ccy,
                                     presence p) {
    const auto value = text(key, p);
    if (!value) return std::nullopt;
    constexpr std::uint8_t exponent_max = 4;  // the largest in ISO 4217 (CLF, UYW)
    auto parsed = engine::parse_amount(*value, ccy ? ccy->exponent() : exponent_max);
    if (parsed) return parsed.value();
    const auto error = parsed.error();
    const bool depends_on_currency =
        error == engine::amount_error::too_many_decimals || error == engine::amount_error::overflow;
    if (ccy || !depends_on_currency) fail(key, engine::to_string(error));
    return std::nullopt;
  }

  std::optional<engine::timestamp> time(std::string_view key) {
    const auto value = text(key, presence::required);
    if (!value) return std::nullopt;
    auto parsed = parse_rfc3339(*value);
    if (parsed) return parsed.value();
    fail(key, to_string(parsed.error()));
    return std::nullopt;
  }

  void fail(std::string_view key, std::string_view problem) {
    problems_.push_back(field_problem{std::string(key), std::string(problem)});
  }

  // Every key of the object that no read asked about, in document order.
  void refuse_unknown_fields() {
    for (const auto& entry : object_) {
      const std::string_view key = entry.key();
      if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
        fail(key, "unknown_field");
      }
    }
  }

  [[nodiscard]] std::vector<field_problem>& problems() noexcept { return problems_; }

 private:
  const json::object& object_;
  std::vector<std::string_view> known_;
  std::vector<field_problem> problems_;
};

engine::money read_money(reader& r) {
  const auto ccy = r.currency("currency", presence::required);
  const auto minor = r.amount("amount", ccy, presence::required);
  return engine::money{minor.value_or(0), ccy.value_or(engine::currency{})};
}

std::string read_text(reader& r, std::string_view key) {
  return r.text(key, presence::required).value_or(std::string{});
}

engine::command_body read_open_wallet(reader& r) {
  auto owner = read_text(r, "owner");
  const auto ccy = r.currency("currency", presence::required);
  const auto limit = r.amount("overdraft_limit", ccy, presence::optional);
  return engine::open_wallet{std::move(owner), ccy.value_or(engine::currency{}), limit.value_or(0)};
}

engine::command_body read_deposit(reader& r) { return engine::deposit{read_money(r)}; }
engine::command_body read_withdraw(reader& r) { return engine::withdraw{read_money(r)}; }

engine::command_body read_transfer(reader& r) {
  auto id = read_text(r, "transfer_id");
  auto destination = read_text(r, "destination");
  return engine::transfer_debit{std::move(id), std::move(destination), read_money(r)};
}

engine::command_body read_transfer_credit(reader& r) {
  auto id = read_text(r, "transfer_id");
  auto source = read_text(r, "source");
  return engine::transfer_credit{std::move(id), std::move(source), read_money(r)};
}

engine::command_body read_transfer_reversal(reader& r) {
  auto id = read_text(r, "transfer_id");
  return engine::transfer_reversal{std::move(id), read_money(r)};
}

engine::command_body read_hold_place(reader& r) {
  auto id = read_text(r, "hold_id");
  const auto amount = read_money(r);
  const auto expires_at = r.time("expires_at");
  return engine::hold_place{std::move(id), amount, expires_at.value_or(engine::timestamp{})};
}

// amount and currency come together (a partial capture) or not at all (the whole hold).
engine::command_body read_hold_capture(reader& r) {
  auto id = read_text(r, "hold_id");
  const bool has_amount = r.has("amount");
  const bool has_currency = r.has("currency");
  std::optional<engine::money> amount;
  if (has_amount && has_currency) {
    amount = read_money(r);
  } else if (has_amount) {
    r.fail("currency", "required_with_amount");
    r.amount("amount", std::nullopt, presence::optional);  // its form can still be wrong
  } else if (has_currency) {
    r.fail("amount", "required_with_currency");
    r.currency("currency", presence::optional);
  }
  return engine::hold_capture{std::move(id), amount};
}

engine::command_body read_hold_release(reader& r) {
  return engine::hold_release{read_text(r, "hold_id")};
}
engine::command_body read_hold_expire(reader& r) {
  return engine::hold_expire{read_text(r, "hold_id")};
}
engine::command_body read_freeze(reader& r) { return engine::freeze{read_text(r, "reason")}; }
engine::command_body read_unfreeze(reader& r) { return engine::unfreeze{read_text(r, "reason")}; }
engine::command_body read_close_wallet(reader& /*r*/) { return engine::close_wallet{}; }

engine::command_body read_set_kyc_level(reader& r) {
  const auto level_text = r.text("level", presence::required);
  std::optional<engine::kyc> level;
  if (level_text) {
    level = engine::kyc_from_string(*level_text);
    if (!level) r.fail("level", "unknown_kyc_level");
  }
  return engine::set_kyc_level{level.value_or(engine::kyc::none), read_text(r, "reason")};
}

struct command_type {
  std::string_view name;
  bool internal;  // the engine's own: origin::engine only
  engine::command_body (*read)(reader&);
};

constexpr std::array command_types = {
    command_type{"open_wallet", false, &read_open_wallet},
    command_type{"deposit", false, &read_deposit},
    command_type{"withdraw", false, &read_withdraw},
    command_type{"transfer", false, &read_transfer},
    command_type{"hold_place", false, &read_hold_place},
    command_type{"hold_capture", false, &read_hold_capture},
    command_type{"hold_release", false, &read_hold_release},
    command_type{"freeze", false, &read_freeze},
    command_type{"unfreeze", false, &read_unfreeze},
    command_type{"close_wallet", false, &read_close_wallet},
    command_type{"set_kyc_level", false, &read_set_kyc_level},
    command_type{"transfer_credit", true, &read_transfer_credit},
    command_type{"transfer_reversal", true, &read_transfer_reversal},
    command_type{"hold_expire", true, &read_hold_expire},
};

// An internal type sent by a client is answered exactly like a type that does not exist, so the
// wire does not advertise what only the engine may do.
const command_type* find_type(std::string_view name, origin from) {
  for (const auto& t : command_types) {
    if (t.name == name && (!t.internal || from == origin::engine)) return &t;
  }
  return nullptr;
}

std::string summary(const std::vector<field_problem>& problems) {
  std::string out = "invalid command:";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    out.append(i == 0 ? " " : "; ")
        .append(problems[i].field.empty() ? "(message)" : problems[i].field)
        .append(": ")
        .append(problems[i].problem);
  }
  return out;
}

decode_error invalid(std::vector<field_problem> problems) {
  decode_error error;
  error.kind = decode_errc::invalid;
  error.message = summary(problems);
  error.fields = std::move(problems);
  return error;
}

engine::result<decoded_command, decode_error> decode_object(const json::object& object,
                                                            origin from) {
  reader r(object);
  auto wallet_id = r.text("wallet_id", presence::required);
  auto key = r.text("idempotency_key", presence::required);
  auto command_id = r.text("command_id", presence::optional, command_id_length_max);
  const auto type_name = r.text("type", presence::required);

  std::optional<engine::command_body> body;
  if (type_name) {
    if (const command_type* type = find_type(*type_name, from)) {
      body = type->read(r);
    } else {
      r.fail("type", "unknown_type");
    }
  }
  // Without a known type, no other key can be judged.
  if (body) r.refuse_unknown_fields();

  if (!r.problems().empty()) {
    decode_error error = invalid(std::move(r.problems()));
    error.wallet_id = wallet_id.value_or(std::string{});
    error.idempotency_key = key.value_or(std::string{});
    error.command_id = command_id.value_or(std::string{});
    return error;
  }
  WALLET_ASSERT(wallet_id && key && body);
  return decoded_command{engine::command{std::move(*wallet_id), std::move(*key), std::move(*body)},
                         command_id.value_or(std::string{})};
}

// ---- encoding -------------------------------------------------------------------------------

std::string amount_text(std::int64_t minor, engine::currency ccy) {
  return engine::format_amount(minor, ccy.exponent());
}

std::int64_t subtract(std::int64_t a, std::int64_t b) {
  const auto difference = engine::checked_sub(a, b);
  // Balances and holds are bounded far inside int64 (engine/limits.hpp).
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
                        // A review's approved transfer takes its hold (ADR 0009).
                        [](const engine::transfer_debited& e) {
                          return e.hold_id.empty() ? std::int64_t{0} : -e.amount;
                        },
                        [](const auto&) { return std::int64_t{0}; },
                    },
                    body);
}

// A wallet_opened event names the currency itself; every other event is in the wallet's.
engine::currency event_currency(const engine::event& e, engine::currency wallet_ccy) {
  if (const auto* opened = std::get_if<engine::wallet_opened>(&e.body)) return opened->ccy;
  return wallet_ccy;
}

// Appends `text` as a JSON string. A text with nothing to escape (no quote, backslash or control
// character) is copied between quotes, as Boost.JSON's serializer would copy it; any other goes
// through that serializer, so escaping is never hand-rolled.
void append_json_text(std::string& out, std::string_view text) {
  const bool plain = std::ranges::none_of(
      text, [](char c) { return static_cast<unsigned char>(c) < 0x20U || c == '"' || c == '\\'; });
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  json::serializer writer;
  writer.reset(text);
  while (!writer.done()) {
    const std::size_t used = out.size();
    // Room for every byte escaped as \u00XX, and the quotes.
    out.resize(used + (text.size() * 6) + 2);
    const json::string_view written = writer.read(out.data() + used, out.size() - used);
    out.resize(used + written.size());
  }
}

// Writes one JSON object straight into a string, members in the order written: the text the
// codec's json::object would serialize to (keys are the codec's own ASCII literals, written as
// they are), without building the tree. Outcomes (one per HTTP request and NATS command) and
// events (one per published event) are written this way.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  void open() {
    out_ += '{';
    fresh_ = true;
  }
  void open(std::string_view key) {
    name(key);
    open();
  }
  void close() {
    out_ += '}';
    fresh_ = false;
  }
  void text(std::string_view key, std::string_view value) {
    name(key);
    append_json_text(out_, value);
  }
  // Set only when not empty.
  void text_if_set(std::string_view key, std::string_view value) {
    if (!value.empty()) text(key, value);
  }
  void amount(std::string_view key, std::int64_t minor, engine::currency ccy) {
    text(key, amount_text(minor, ccy));
  }
  void boolean(std::string_view key, bool value) {
    name(key);
    out_ += value ? "true" : "false";
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void number(std::string_view key, T value) {
    name(key);
    std::array<char, 24> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
    out_.append(digits.data(), end);
  }

 private:
  void name(std::string_view key) {
    if (!fresh_) out_ += ',';
    fresh_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }

  std::string& out_;
  bool fresh_ = true;
};

void write_body(json_writer& w, const engine::event_body& body, engine::currency ccy) {
  std::visit(overloaded{
                 [&](const engine::wallet_opened& e) {
                   w.text("owner", e.owner);
                   w.amount("overdraft_limit", e.overdraft_limit, ccy);
                 },
                 [&](const engine::deposited& e) { w.amount("amount", e.amount, ccy); },
                 [&](const engine::withdrawn& e) { w.amount("amount", e.amount, ccy); },
                 [&](const engine::transfer_debited& e) {
                   w.text("transfer_id", e.transfer_id);
                   w.text("destination", e.destination);
                   w.amount("amount", e.amount, ccy);
                   // The review hold an approved transfer took (ADR 0009).
                   w.text_if_set("hold_id", e.hold_id);
                 },
                 [&](const engine::transfer_credited& e) {
                   w.text("transfer_id", e.transfer_id);
                   w.text("source", e.source);
                   w.amount("amount", e.amount, ccy);
                 },
                 [&](const engine::transfer_reversed& e) {
                   w.text("transfer_id", e.transfer_id);
                   w.amount("amount", e.amount, ccy);
                 },
                 [&](const engine::hold_placed& e) {
                   w.text("hold_id", e.hold_id);
                   w.amount("amount", e.amount, ccy);
                   w.text("expires_at", format_rfc3339(e.expires_at));
                 },
                 [&](const engine::hold_captured& e) {
                   w.text("hold_id", e.hold_id);
                   w.amount("captured", e.captured, ccy);
                   w.amount("released", e.released, ccy);
                 },
                 [&](const engine::hold_released& e) {
                   w.text("hold_id", e.hold_id);
                   w.amount("amount", e.amount, ccy);
                 },
                 [&](const engine::hold_expired& e) {
                   w.text("hold_id", e.hold_id);
                   w.amount("amount", e.amount, ccy);
                 },
                 [&](const engine::wallet_frozen& e) { w.text("reason", e.reason); },
                 [&](const engine::wallet_unfrozen& e) { w.text("reason", e.reason); },
                 [&](const engine::wallet_closed&) {},
                 [&](const engine::kyc_level_set& e) {
                   w.text("level", engine::to_string(e.level));
                   w.text("reason", e.reason);
                 },
             },
             body);
}

// The event's members (the caller opens and closes its object).
void write_event(json_writer& w, std::string_view wallet_id, const engine::event& e,
                 engine::currency wallet_ccy) {
  const engine::currency ccy = event_currency(e, wallet_ccy);
  WALLET_ASSERT(!ccy.is_none());
  w.text("wallet_id", wallet_id);
  w.number("seq", e.seq);
  w.text("at", format_rfc3339(e.at));
  w.text("type", engine::event_name(e.body));
  w.text("currency", ccy.code());
  write_body(w, e.body, ccy);
  w.amount("balance_delta", engine::balance_delta(e.body), ccy);
  w.amount("held_delta", held_delta(e.body), ccy);
}

// not_owner is retryable: partitioned subjects deliver a shard's commands only to the instances
// configured to own it, so a refusal means owners are being reassigned (a resize rolling through),
// and the instance owning the shard once it settles takes the redelivered command.
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

void write_balances(json_writer& w, const engine::outcome& r, engine::currency ccy) {
  w.amount("balance", r.balance, ccy);
  w.amount("held", r.held, ccy);
  w.amount("available", subtract(r.balance, r.held), ccy);
  w.text("currency", ccy.code());
}

// ---- timestamps -----------------------------------------------------------------------------

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at `pos`, advancing it.
bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  pos += count;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// The fraction after the seconds' point, scaled to microseconds.
engine::result<int, time_error> read_fraction(std::string_view text, std::size_t& pos) {
  const std::size_t first = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  const std::size_t count = pos - first;
  if (count == 0) return time_error::not_rfc3339;
  if (count > 6) return time_error::too_precise;
  int micros = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    micros = micros * 10 + (i < count ? text[first + i] - '0' : 0);
  }
  return micros;
}

// "Z" or "+00:00" end the text; any other well-formed offset is refused as not UTC.
std::optional<time_error> read_offset(std::string_view text, std::size_t pos) {
  const std::string_view rest = text.substr(pos);
  if (rest == "Z" || rest == "+00:00") return std::nullopt;
  int hours = 0;
  int minutes = 0;
  std::size_t at = 1;  // after the sign
  const bool offset_form = rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
                           read_digits(rest, at, 2, hours) && expect(rest, at, ':') &&
                           read_digits(rest, at, 2, minutes);
  return offset_form ? time_error::not_utc : time_error::not_rfc3339;
}

}  // namespace

std::string_view rejection_message(engine::rejection r) noexcept {
  using engine::rejection;
  switch (r) {
    case rejection::wallet_not_found:
      return "the wallet was never opened";
    case rejection::wallet_exists:
      return "the wallet is already open (or closed)";
    case rejection::wallet_frozen:
      return "the operation is not allowed while the wallet is frozen";
    case rejection::wallet_not_frozen:
      return "the wallet is not frozen";
    case rejection::wallet_closed:
      return "the wallet is closed";
    case rejection::wallet_not_empty:
      return "the wallet's balance is not zero";
    case rejection::wallet_has_holds:
      return "the wallet has open holds";
    case rejection::currency_invalid:
      return "not an active ISO 4217 currency";
    case rejection::currency_mismatch:
      return "the amount's currency is not the wallet's";
    case rejection::amount_invalid:
      return "the amount is zero or above the largest single amount";
    case rejection::overdraft_limit_invalid:
      return "the overdraft limit is negative or above its maximum";
    case rejection::insufficient_funds:
      return "the available funds (balance + overdraft limit - held) are below the amount";
    case rejection::balance_limit_exceeded:
      return "the balance would exceed its maximum";
    case rejection::id_invalid:
      return "an id is empty, longer than 64 bytes or has a byte outside [A-Za-z0-9._:-]";
    case rejection::idempotency_key_invalid:
      return "the idempotency key is empty, longer than 192 bytes or has a byte outside "
             "[A-Za-z0-9._:-]";
    case rejection::idempotency_conflict:
      return "the idempotency key was used before with a different command";
    case rejection::idempotency_window_full:
      return "the wallet holds too many recent idempotency keys; retry later";
    case rejection::reason_invalid:
      return "the reason is empty or longer than 256 bytes";
    case rejection::transfer_to_self:
      return "the destination is the source wallet";
    case rejection::hold_exists:
      return "a hold with this id is already open";
    case rejection::hold_not_found:
      return "no open hold has this id";
    case rejection::hold_expired:
      return "the hold has expired";
    case rejection::hold_not_expired:
      return "the hold has not expired yet";
    case rejection::hold_amount_exceeded:
      return "the amount is more than the hold reserves";
    case rejection::hold_expiry_invalid:
      return "the expiry is not in the future";
    case rejection::holds_limit_reached:
      return "the wallet has the maximum number of open holds";
    case rejection::kyc_balance_limit_exceeded:
      return "the balance would exceed the maximum of the wallet's KYC level";
    case rejection::kyc_withdrawal_limit_exceeded:
      return "the amount is above the largest single outgoing move of the wallet's KYC level";
    case rejection::kyc_daily_limit_exceeded:
      return "today's outgoing total (UTC day, open holds included) would exceed the daily "
             "maximum of the wallet's KYC level";
    case rejection::feature_disabled:
      return "the operator has switched this off (a feature flag); nothing was remembered under "
             "the key: retry later with the same key";
    case rejection::aml_denied:
      return "the AML screening denied this outgoing move";
    case rejection::aml_unavailable:
      return "the AML screening provider could not be asked; nothing was remembered under the "
             "key: retry later with the same key";
  }
  return "unknown rejection";
}

std::string_view refusal_message(actors::submit_errc e) noexcept {
  using actors::submit_errc;
  switch (e) {
    case submit_errc::overloaded:
      return "too many commands in flight; retry later with the same idempotency key";
    case submit_errc::unavailable:
      return "the store is failing; the outcome is unknown: retry with the same idempotency key";
    case submit_errc::shutting_down:
      return "the service is stopping; retry later with the same idempotency key";
    case submit_errc::invalid_wallet:
      return "the wallet id is not 1..64 bytes of [A-Za-z0-9._:-]";
    case submit_errc::reserved_key:
      return "idempotency keys starting with 'sys:' are reserved for the engine";
    case submit_errc::write_refused:
      return "the database refused the command (e.g. a transfer id this wallet used before)";
    case submit_errc::not_owner:
      return "this instance does not serve the wallet's shard; retry later (a resize may be in "
             "progress)";
  }
  return "unknown refusal";
}

std::string_view to_string(decode_errc e) noexcept {
  switch (e) {
    case decode_errc::malformed:
      return "malformed";
    case decode_errc::invalid:
      return "invalid";
  }
  return "unknown";
}

std::string_view to_string(time_error e) noexcept {
  switch (e) {
    case time_error::not_rfc3339:
      return "not_rfc3339";
    case time_error::not_utc:
      return "not_utc";
    case time_error::invalid_date:
      return "invalid_date";
    case time_error::invalid_time:
      return "invalid_time";
    case time_error::too_precise:
      return "too_precise";
  }
  return "unknown";
}

engine::result<decoded_command, decode_error> decode_command(std::string_view json_text,
                                                             origin from) {
  json::parser parser;
  boost::system::error_code ec;
  const std::size_t consumed = parser.write(json_text.data(), json_text.size(), ec);
  if (ec) {
    decode_error error;
    error.kind = decode_errc::malformed;
    error.message = "malformed JSON at byte " + std::to_string(consumed) + ": " + ec.message();
    return error;
  }
  const json::value value = parser.release();
  if (!value.is_object()) return invalid({field_problem{"", "not_an_object"}});
  return decode_object(value.get_object(), from);
}

engine::result<engine::command_body, decode_error> decode_command_fields(
    std::string_view type, const json::object& fields) {
  const command_type* t = find_type(type, origin::client);
  if (t == nullptr) return invalid({field_problem{"type", "unknown_type"}});
  reader r(fields);
  engine::command_body body = t->read(r);
  r.refuse_unknown_fields();
  if (!r.problems().empty()) return invalid(std::move(r.problems()));
  return body;
}

std::string_view review_of(const actors::submit_outcome& out) noexcept {
  if (out.error || out.result.rejected || !out.event) return {};
  const auto* placed = std::get_if<engine::hold_placed>(&out.event->body);
  return placed != nullptr ? engine::review_of_hold(placed->hold_id) : std::string_view{};
}

void append_outcome(std::string& out, const outcome_view& view) {
  const actors::submit_outcome& result = view.outcome;
  json_writer w{out};
  w.open();
  w.text("wallet_id", view.wallet_id);
  w.text("idempotency_key", view.idempotency_key);
  w.text_if_set("command_id", view.command_id);
  if (result.error) {
    w.text("status", "refused");
    w.boolean("replayed", false);
    w.open("error");
    w.text("code", actors::to_string(*result.error));
    w.text("message", refusal_message(*result.error));
    w.boolean("retryable", retryable(*result.error));
    w.close();
    w.close();
    return;
  }
  // A withdrawal or transfer held for an AML review (ADR 0009) is not done yet: its event placed
  // the review's hold, and the review's decision settles it.
  const std::string_view review = review_of(result);
  w.text("status",
         result.result.rejected ? "rejected" : (review.empty() ? "accepted" : "pending_review"));
  w.boolean("replayed", result.replayed);
  w.text_if_set("review_id", review);
  w.number("version", result.result.seq);
  const engine::currency ccy = result.event ? event_currency(*result.event, view.ccy) : view.ccy;
  if (!ccy.is_none()) write_balances(w, result.result, ccy);
  if (result.result.rejected) {
    w.open("rejection");
    w.text("code", engine::code(*result.result.rejected));
    w.text("message", rejection_message(*result.result.rejected));
    w.close();
  }
  if (result.event) {
    w.open("event");
    write_event(w, view.wallet_id, *result.event, ccy);
    w.close();
  }
  w.close();
}

std::string encode_outcome(const outcome_view& view) {
  std::string out;
  append_outcome(out, view);
  return out;
}

std::string encode_internal_command(const engine::command& cmd) {
  json::object o;
  o["wallet_id"] = cmd.wallet_id;
  o["idempotency_key"] = cmd.idempotency_key;
  o["type"] = engine::command_name(cmd.body);
  const auto put_money = [&o](const engine::money& m) {
    o["currency"] = m.ccy.code();
    o["amount"] = amount_text(m.minor, m.ccy);
  };
  std::visit(overloaded{
                 [&](const engine::transfer_credit& c) {
                   o["transfer_id"] = c.transfer_id;
                   o["source"] = c.source;
                   put_money(c.amount);
                 },
                 [&](const engine::transfer_reversal& c) {
                   o["transfer_id"] = c.transfer_id;
                   put_money(c.amount);
                 },
                 [&](const engine::hold_expire& c) { o["hold_id"] = c.hold_id; },
                 [](const auto&) { WALLET_ASSERT(false && "not an internal command"); },
             },
             cmd.body);
  return json::serialize(o);
}

actors::submit_outcome decode_internal_outcome(std::string_view json_text) {
  // Not const, so that returning it moves it.
  auto unreadable = actors::refused(actors::submit_errc::unavailable);
  boost::system::error_code ec;
  const json::value value = json::parse(json_text, ec);
  if (ec || !value.is_object()) return unreadable;
  const json::object& o = value.get_object();
  const auto text_at = [](const json::object& obj, std::string_view key) -> std::string_view {
    const json::value* v = obj.if_contains(key);
    return v != nullptr && v->is_string() ? std::string_view{v->get_string()} : std::string_view{};
  };
  const auto object_at = [](const json::object& obj, std::string_view key) {
    const json::value* v = obj.if_contains(key);
    return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
  };
  const std::string_view status = text_at(o, "status");
  actors::submit_outcome out;
  if (const json::value* r = o.if_contains("replayed"); r != nullptr && r->is_bool()) {
    out.replayed = r->get_bool();
  }
  if (status == "accepted") return out;
  if (status == "rejected") {
    const json::object* rejection = object_at(o, "rejection");
    const auto code =
        rejection ? engine::rejection_from_code(text_at(*rejection, "code")) : std::nullopt;
    if (!code) return unreadable;
    out.result.rejected = *code;
    return out;
  }
  if (status == "refused") {
    const json::object* error = object_at(o, "error");
    if (const auto code = actors::submit_errc_from(error ? text_at(*error, "code") : "")) {
      return actors::refused(*code);
    }
  }
  return unreadable;
}

std::string encode_decode_error(const decode_error& error) {
  json::object o;
  put_if_set(o, "wallet_id", error.wallet_id);
  put_if_set(o, "idempotency_key", error.idempotency_key);
  put_if_set(o, "command_id", error.command_id);
  o["status"] = "refused";
  o["replayed"] = false;
  json::object e = error_object(to_string(error.kind), error.message, false);
  if (error.kind == decode_errc::invalid) {
    json::array fields;
    for (const auto& p : error.fields) {
      json::object f;
      f["field"] = p.field;
      f["problem"] = p.problem;
      fields.push_back(std::move(f));
    }
    e["fields"] = std::move(fields);
  }
  o["error"] = std::move(e);
  return json::serialize(o);
}

std::string encode_not_found(std::string_view wallet_id) {
  json::object o;
  o["wallet_id"] = wallet_id;
  o["status"] = "refused";
  o["replayed"] = false;
  o["error"] = error_object("not_found", "the wallet was never opened", false);
  return json::serialize(o);
}

std::string encode_event(const std::string& wallet_id, const engine::event& e,
                         engine::currency ccy) {
  std::string out;
  json_writer w{out};
  w.open();
  write_event(w, wallet_id, e, ccy);
  w.close();
  return out;
}

std::string encode_wallet(const engine::wallet_state& state) {
  WALLET_ASSERT(state.version > 0 && !state.ccy.is_none());
  const engine::currency ccy = state.ccy;
  json::object o;
  o["wallet_id"] = state.id;
  o["owner"] = state.owner;
  o["currency"] = ccy.code();
  o["status"] = engine::to_string(state.status);
  o["balance"] = amount_text(state.balance, ccy);
  o["held"] = amount_text(state.held, ccy);
  o["available"] = amount_text(subtract(state.balance, state.held), ccy);
  o["overdraft_limit"] = amount_text(state.overdraft_limit, ccy);
  o["version"] = state.version;
  json::array holds;
  for (const auto& [id, h] : state.holds) {
    json::object entry;
    entry["hold_id"] = id;
    entry["amount"] = amount_text(h.amount, ccy);
    entry["expires_at"] = format_rfc3339(h.expires_at);
    holds.push_back(std::move(entry));
  }
  o["holds"] = std::move(holds);
  return json::serialize(o);
}

std::string format_rfc3339(engine::timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> time{t - day};
  const int year = static_cast<int>(ymd.year());
  WALLET_ASSERT(year >= 0 && year <= 9999);
  // Digits written in place (a timestamp is in every event and outcome written: no printf).
  std::string text = "0000-00-00T00:00:00.000000Z";
  const auto put = [&text](std::size_t at, std::size_t width, std::uint64_t value) {
    for (std::size_t i = at + width; i > at; --i, value /= 10) {
      text[i - 1] = static_cast<char>('0' + (value % 10));
    }
  };
  put(0, 4, static_cast<std::uint64_t>(year));
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, static_cast<std::uint64_t>(time.hours().count()));
  put(14, 2, static_cast<std::uint64_t>(time.minutes().count()));
  put(17, 2, static_cast<std::uint64_t>(time.seconds().count()));
  put(20, 6, static_cast<std::uint64_t>(time.subseconds().count()));
  return text;
}

engine::result<engine::timestamp, time_error> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  const bool form = read_digits(text, pos, 4, year) && expect(text, pos, '-') &&
                    read_digits(text, pos, 2, month) && expect(text, pos, '-') &&
                    read_digits(text, pos, 2, day) && expect(text, pos, 'T') &&
                    read_digits(text, pos, 2, hour) && expect(text, pos, ':') &&
                    read_digits(text, pos, 2, minute) && expect(text, pos, ':') &&
                    read_digits(text, pos, 2, second);
  if (!form) return time_error::not_rfc3339;
  int micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    auto fraction = read_fraction(text, pos);
    if (!fraction) return fraction.error();
    micros = fraction.value();
  }
  if (const auto offset_error = read_offset(text, pos)) return *offset_error;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return time_error::invalid_date;
  if (hour > 23 || minute > 59 || second > 59) return time_error::invalid_time;
  return engine::timestamp{sys_days{ymd}} + hours{hour} + minutes{minute} + seconds{second} +
         microseconds{micros};
}

}  // namespace wallet::nats
