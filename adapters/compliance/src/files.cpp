// Reading the policy and flags files with Boost.JSON: every key checked, the first problem reported
// with its path ("levels.none.EUR.withdrawal_max: ...").
#include "wallet/compliance/files.hpp"

#include <array>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <utility>

namespace wallet::compliance {
namespace json = boost::json;
namespace {

using limit = std::optional<std::int64_t>;

constexpr std::string_view unlimited_word = "unlimited";
constexpr std::string_view fallback_key = "*";
constexpr std::string_view currency_prefix = "currency.";
constexpr std::array<std::string_view, 3> limit_names = {"balance_max", "withdrawal_max",
                                                         "daily_outgoing_max"};

std::string at(std::string_view path, std::string_view key) {
  std::string out{path};
  if (!out.empty()) out.push_back('.');
  return out.append(key);
}

// The parsed document, or why the text is not one JSON object.
engine::result<json::object, std::string> parse_object(std::string_view text,
                                                       std::string_view what) {
  if (text.size() > file_bytes_max) {
    return std::string(what) + " is larger than " + std::to_string(file_bytes_max) + " bytes";
  }
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) return std::string(what) + " is not JSON: " + ec.message();
  if (!value.is_object()) return std::string(what) + " must be a JSON object";
  return std::move(value.get_object());
}

// One limit: a non-negative integer of minor units, or "unlimited".
engine::result<limit, std::string> read_limit(const json::value& v, const std::string& path) {
  if (v.is_string() && v.get_string() == unlimited_word) return limit{};
  if (v.is_int64() && v.get_int64() >= 0) return limit{v.get_int64()};
  return path + ": must be a non-negative integer of minor units (at most 2^63 - 1) or \"" +
         std::string(unlimited_word) + "\"";
}

engine::result<engine::kyc_limits, std::string> read_entry(const json::value& v,
                                                           const std::string& path) {
  if (!v.is_object()) return path + ": must be an object";
  const json::object& o = v.get_object();
  if (o.contains(unlimited_word)) {
    if (o.size() != 1 || !o.at(unlimited_word).is_bool() || !o.at(unlimited_word).get_bool()) {
      return path + ": {\"unlimited\": true} stands alone (or give all three limits)";
    }
    return engine::kyc_limits{};
  }
  std::array<limit, limit_names.size()> limits{};
  for (std::size_t i = 0; i < limit_names.size(); ++i) {
    const json::value* field = o.if_contains(limit_names[i]);
    if (field == nullptr) {
      return at(path, limit_names[i]) +
             ": missing (every entry names all three limits, or is {\"unlimited\": true})";
    }
    auto read = read_limit(*field, at(path, limit_names[i]));
    if (!read) return read.error();
    limits[i] = read.value();
  }
  for (const auto& entry : o) {
    const std::string_view key = entry.key();
    if (key != limit_names[0] && key != limit_names[1] && key != limit_names[2]) {
      return at(path, key) + ": unknown key";
    }
  }
  return engine::kyc_limits{limits[0], limits[1], limits[2]};
}

// One level: its "*" entry and its currencies' entries.
std::optional<std::string> read_level(engine::policy& p, engine::kyc level, const json::value& v,
                                      const std::string& path) {
  if (!v.is_object()) return path + ": must be an object";
  const json::object& o = v.get_object();
  const json::value* fallback = o.if_contains(fallback_key);
  if (fallback == nullptr) {
    return at(path, fallback_key) +
           ": missing (the limits of every currency without its own entry; say "
           "{\"unlimited\": true} to have none)";
  }
  auto limits = read_entry(*fallback, at(path, fallback_key));
  if (!limits) return limits.error();
  p.set_fallback(level, limits.value());
  for (const auto& entry : o) {
    const std::string_view key = entry.key();
    if (key == fallback_key) continue;
    const auto ccy = engine::currency::from_code(key);
    if (!ccy) return at(path, key) + ": not an active ISO 4217 currency code";
    auto own = read_entry(entry.value(), at(path, key));
    if (!own) return own.error();
    p.set(level, *ccy, own.value());
  }
  return std::nullopt;
}

std::optional<std::string> read_flag(engine::feature_flags& f, std::string_view key,
                                     const json::value& v) {
  if (!v.is_bool()) return std::string(key) + ": must be true or false";
  const bool on = v.get_bool();
  if (key == "accept_new_wallets") {
    f.accept_new_wallets = on;
  } else if (key == "accept_transfers") {
    f.accept_transfers = on;
  } else if (key == "aml_screening") {
    f.aml_screening = on;
  } else if (key.starts_with(currency_prefix)) {
    const std::string_view code = key.substr(currency_prefix.size());
    if (code == fallback_key) {
      f.currencies_by_default = on;
    } else if (const auto ccy = engine::currency::from_code(code)) {
      f.currencies[ccy->numeric()] = on;
    } else {
      return std::string(key) + ": not an active ISO 4217 currency code";
    }
  } else {
    return std::string(key) + ": unknown flag";
  }
  return std::nullopt;
}

std::string limit_text(const limit& l) {
  return l ? std::to_string(*l) : std::string(unlimited_word);
}

}  // namespace

engine::result<engine::policy, std::string> parse_policy(std::string_view text) {
  auto doc = parse_object(text, "the policy");
  if (!doc) return doc.error();
  const json::object& o = doc.value();
  for (const auto& entry : o) {
    if (entry.key() != "levels") return std::string(entry.key()) + ": unknown key";
  }
  const json::value* levels = o.if_contains("levels");
  if (levels == nullptr || !levels->is_object()) {
    return std::string("levels: missing, or not an object of none, basic and full");
  }
  engine::policy p = engine::policy::unlimited();
  for (std::size_t i = 0; i < engine::kyc_level_count; ++i) {
    const auto level = static_cast<engine::kyc>(i);
    const std::string path = at("levels", engine::to_string(level));
    const json::value* v = levels->get_object().if_contains(engine::to_string(level));
    if (v == nullptr) return path + ": missing (every level must be given)";
    if (auto problem = read_level(p, level, *v, path)) return *problem;
  }
  for (const auto& entry : levels->get_object()) {
    if (!engine::kyc_from_string(entry.key())) {
      return at("levels", entry.key()) + ": not a KYC level (none, basic, full)";
    }
  }
  return p;
}

engine::result<engine::feature_flags, std::string> parse_flags(std::string_view text) {
  auto doc = parse_object(text, "the flags");
  if (!doc) return doc.error();
  engine::feature_flags f;
  for (const auto& entry : doc.value()) {
    if (auto problem = read_flag(f, entry.key(), entry.value())) return *problem;
  }
  return f;
}

std::string describe(const engine::policy& p) {
  if (p.is_unlimited()) return "no limits at any level";
  // Only the fallbacks: the per-currency entries are in the file, which the log names.
  std::string out;
  for (std::size_t i = 0; i < engine::kyc_level_count; ++i) {
    const auto level = static_cast<engine::kyc>(i);
    const engine::kyc_limits& l = p.limits(level, engine::currency{});
    out.append(i == 0 ? "" : "; ")
        .append(engine::to_string(level))
        .append(" * balance_max=")
        .append(limit_text(l.balance_max))
        .append(" withdrawal_max=")
        .append(limit_text(l.withdrawal_max))
        .append(" daily_outgoing_max=")
        .append(limit_text(l.daily_outgoing_max));
  }
  return out;
}

std::string encode_flags(const engine::feature_flags& f) {
  json::object o;
  o["accept_new_wallets"] = f.accept_new_wallets;
  o["accept_transfers"] = f.accept_transfers;
  o["aml_screening"] = f.aml_screening;
  o["currency.*"] = f.currencies_by_default;
  for (const auto& info : engine::active_currencies()) {
    const auto ccy = engine::currency::from_code(info.code);
    const auto it = ccy ? f.currencies.find(ccy->numeric()) : f.currencies.end();
    if (it != f.currencies.end()) o[std::string("currency.") + std::string(info.code)] = it->second;
  }
  return json::serialize(o);
}

std::string describe(const engine::feature_flags& f) {
  const auto word = [](bool on) { return on ? "true" : "false"; };
  std::string out = std::string("accept_new_wallets=") + word(f.accept_new_wallets) +
                    " accept_transfers=" + word(f.accept_transfers) +
                    " aml_screening=" + word(f.aml_screening) +
                    " currency.*=" + word(f.currencies_by_default);
  for (const auto& info : engine::active_currencies()) {
    const auto ccy = engine::currency::from_code(info.code);
    const auto it = ccy ? f.currencies.find(ccy->numeric()) : f.currencies.end();
    if (it != f.currencies.end()) {
      out.append(" currency.").append(info.code).append("=").append(word(it->second));
    }
  }
  return out;
}

}  // namespace wallet::compliance
