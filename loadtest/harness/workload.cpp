// Job generation: operation by weight, wallets by the picker, amounts uniform; duplicates and
// invalid commands by their shares. Every draw of job i comes from rng(seed_of(seed, i)).
#include "workload.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "wallet/engine/assert.hpp"

namespace wallet::loadtest {
namespace {

double unit(rng& r) { return static_cast<double>(r() >> 11U) * 0x1.0p-53; }

std::optional<std::uint64_t> digits_of(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string_view to_string(op o) noexcept {
  static constexpr std::array<std::string_view, op_count> names{
      "open_wallet", "deposit",      "withdraw",    "transfer",
      "hold_place",  "hold_capture", "hold_release"};
  return names[static_cast<std::size_t>(o)];
}

std::string_view to_string(defect d) noexcept {
  static constexpr std::array<std::string_view, defect_count> names{"none",
                                                                    "malformed",
                                                                    "too_precise",
                                                                    "unknown_currency",
                                                                    "zero_amount",
                                                                    "currency_mismatch",
                                                                    "unknown_wallet",
                                                                    "insufficient_funds",
                                                                    "transfer_to_self"};
  return names[static_cast<std::size_t>(d)];
}

std::string_view to_string(answer_status s) noexcept {
  switch (s) {
    case answer_status::accepted:
      return "accepted";
    case answer_status::rejected:
      return "rejected";
    case answer_status::refused:
      return "refused";
    case answer_status::failed:
      return "failed";
  }
  return "?";
}

expected_answer expected_for(defect d) noexcept {
  using s = answer_status;
  switch (d) {
    case defect::none:
      return {s::accepted, "", ""};
    case defect::malformed:
      return {s::refused, "malformed", ""};
    case defect::too_precise:
      return {s::refused, "invalid", "too_many_decimals"};
    case defect::unknown_currency:
      return {s::refused, "invalid", "unknown_currency"};
    case defect::zero_amount:
      return {s::rejected, "amount_invalid", ""};
    case defect::currency_mismatch:
      return {s::rejected, "currency_mismatch", ""};
    case defect::unknown_wallet:
      return {s::rejected, "wallet_not_found", ""};
    case defect::insufficient_funds:
      return {s::rejected, "insufficient_funds", ""};
    case defect::transfer_to_self:
      return {s::rejected, "transfer_to_self", ""};
  }
  return {};
}

// ---- naming

std::string naming::wallet(std::uint32_t n) const { return wallet_prefix + std::to_string(n); }

std::string naming::wallet_of(const command& c) const {
  if (c.flaw == defect::unknown_wallet) {
    return wallet_prefix + "none-" + run_tag + "-" + std::to_string(c.id);
  }
  return wallet(c.wallet);
}

std::string naming::key(const command& c) const {
  if (c.setup) return c.what == op::open_wallet ? "lt-setup-open" : "lt-setup-fund";
  return run_tag + "-" + std::to_string(c.id);
}

std::string naming::hold_id(const command& c) const {
  return run_tag + "-h" + std::to_string(c.hold);
}

std::uint32_t naming::wallet_number(std::string_view id) const noexcept {
  if (!id.starts_with(wallet_prefix)) return 0;
  const auto n = digits_of(id.substr(wallet_prefix.size()));
  return n && *n <= UINT32_MAX ? static_cast<std::uint32_t>(*n) : 0;
}

std::optional<std::uint64_t> naming::command_id(std::string_view key) const noexcept {
  if (key.size() <= run_tag.size() + 1 || !key.starts_with(run_tag) || key[run_tag.size()] != '-') {
    return std::nullopt;
  }
  return digits_of(key.substr(run_tag.size() + 1));
}

// ---- mix

std::optional<mix> parse_mix(std::string_view text) {
  static const std::map<std::string_view, double mix::*, std::less<>> fields{
      {"deposit", &mix::deposit},
      {"withdraw", &mix::withdraw},
      {"transfer", &mix::transfer},
      {"hold", &mix::hold}};
  mix m{0, 0, 0, 0};
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto eq = part.find('=');
    const auto field = fields.find(part.substr(0, eq));
    if (field == fields.end()) return std::nullopt;
    double weight = 1;
    if (eq != std::string_view::npos) {
      const std::string_view value = part.substr(eq + 1);
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), weight);
      if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(weight) ||
          weight < 0) {
        return std::nullopt;
      }
    }
    m.*(field->second) = weight;
  }
  if (m.deposit + m.withdraw + m.transfer + m.hold <= 0) return std::nullopt;
  return m;
}

std::string to_string(const mix& m) {
  const double total = m.deposit + m.withdraw + m.transfer + m.hold;
  char text[128];
  std::snprintf(text, sizeof text, "deposit=%.3g,withdraw=%.3g,transfer=%.3g,hold=%.3g",
                100 * m.deposit / total, 100 * m.withdraw / total, 100 * m.transfer / total,
                100 * m.hold / total);
  return text;
}

// ---- workload

workload::workload(const workload_settings& settings)
    : settings_(settings), picker_(settings_.pick, settings_.wallets) {
  WALLET_ASSERT(settings_.amount_max >= 2);
  const mix& m = settings_.weights;
  const double total = m.deposit + m.withdraw + m.transfer + m.hold;
  WALLET_ASSERT(total > 0);
  cumulative_ = {m.deposit / total, (m.deposit + m.withdraw) / total,
                 (m.deposit + m.withdraw + m.transfer) / total, 1.0};
}

job workload::setup(std::uint32_t n) const {
  job j;
  j.index = n;
  j.step_count = 2;
  j.steps[0] = command{.what = op::open_wallet, .setup = true, .wallet = n};
  j.steps[1] =
      command{.what = op::deposit, .setup = true, .wallet = n, .amount = settings_.funding};
  return j;
}

job workload::make(std::uint64_t index) const {
  rng r(seed_of(settings_.seed, index));
  if (settings_.invalid_share > 0 && unit(r) < settings_.invalid_share) {
    return invalid_job(index, r);
  }
  job j;
  j.index = index;
  command c;
  c.id = index * job_steps_max;
  c.wallet = picker_.pick(r);
  c.amount = std::uniform_int_distribution<std::int64_t>(1, settings_.amount_max)(r);
  const double which = unit(r);
  if (which < cumulative_[0]) {
    c.what = op::deposit;
  } else if (which < cumulative_[1]) {
    c.what = op::withdraw;
  } else if (which < cumulative_[2]) {
    c.what = op::transfer;
    c.destination = picker_.pick_other(r, c.wallet);
  } else {
    c.what = op::hold_place;
    c.hold = index;
  }
  c.with_duplicate = settings_.duplicate_share > 0 && unit(r) < settings_.duplicate_share;
  j.steps[0] = c;
  j.step_count = 1;
  if (c.what == op::hold_place) {
    command end = c;
    end.id = c.id + 1;
    end.with_duplicate = false;
    end.hold_amount = c.amount;
    const double how = unit(r);
    if (how < 1.0 / 3) {
      end.what = op::hold_capture;
      end.amount = 0;  // the whole hold
    } else if (how < 2.0 / 3) {
      end.what = op::hold_capture;
      end.amount = std::max<std::int64_t>(1, c.amount / 2);
    } else {
      end.what = op::hold_release;
      end.amount = 0;
    }
    j.steps[1] = end;
    j.step_count = 2;
  }
  return j;
}

job workload::invalid_job(std::uint64_t index, rng& r) const {
  job j;
  j.index = index;
  j.step_count = 1;
  command& c = j.steps[0];
  c.id = index * job_steps_max;
  c.flaw = static_cast<defect>(std::uniform_int_distribution<int>(1, defect_count - 1)(r));
  c.wallet = picker_.pick(r);
  c.amount = std::uniform_int_distribution<std::int64_t>(1, settings_.amount_max)(r);
  c.what = op::deposit;
  switch (c.flaw) {
    case defect::unknown_wallet:
      c.wallet = 0;
      break;
    case defect::insufficient_funds:
      c.what = op::withdraw;
      c.amount = amount_beyond_any_balance;
      break;
    case defect::transfer_to_self:
      c.what = op::transfer;
      c.destination = c.wallet;
      break;
    case defect::zero_amount:
      c.amount = 0;
      break;
    default:
      break;
  }
  return j;
}

}  // namespace wallet::loadtest
