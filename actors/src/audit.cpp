// Building the audit record of an administrative command (pure: tested without actors).
#include "wallet/actors/audit.hpp"

#include <algorithm>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/limits.hpp"
#include "wallet/engine/overloaded.hpp"
#include "wallet/engine/review.hpp"

namespace wallet::actors {
namespace {

bool is_lower_hex(std::string_view text) noexcept {
  return std::ranges::all_of(
      text, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_ascii_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// The reason a command carries in its own fields, if any.
std::string_view own_reason(const engine::command_body& body) noexcept {
  return std::visit(engine::overloaded{
                        [](const engine::freeze& c) { return std::string_view{c.reason}; },
                        [](const engine::unfreeze& c) { return std::string_view{c.reason}; },
                        [](const engine::set_kyc_level& c) { return std::string_view{c.reason}; },
                        [](const auto&) { return std::string_view{}; },
                    },
                    body);
}

// Printable ASCII only, bounded.
std::string printable(std::string_view text, std::size_t length_max) {
  std::string out;
  for (const char c : text.substr(0, length_max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

bool is_administrative(const engine::command_body& body) noexcept {
  return std::holds_alternative<engine::freeze>(body) ||
         std::holds_alternative<engine::unfreeze>(body) ||
         std::holds_alternative<engine::close_wallet>(body) ||
         std::holds_alternative<engine::set_kyc_level>(body);
}

bool is_review_decision(const engine::command& cmd) noexcept {
  const std::string_view key = cmd.idempotency_key;
  if (!key.starts_with(engine::review_decision_key_prefix)) return false;
  const std::string_view review = key.substr(engine::review_decision_key_prefix.size());
  if (const auto* c = std::get_if<engine::hold_capture>(&cmd.body)) {
    return engine::review_of_hold(c->hold_id) == review && !c->amount;
  }
  if (const auto* r = std::get_if<engine::hold_release>(&cmd.body)) {
    return engine::review_of_hold(r->hold_id) == review;
  }
  // The approval of a transfer under review: its debit from the review's hold.
  if (const auto* t = std::get_if<engine::transfer_debit>(&cmd.body)) {
    return engine::review_of_hold(t->from_hold) == review;
  }
  return false;
}

std::string trace_id_of(std::string_view traceparent) {
  // version "00", then the trace id; an all-zero id is invalid (W3C Trace Context).
  if (traceparent.size() < 55 || traceparent.substr(0, 3) != "00-" || traceparent[35] != '-') {
    return {};
  }
  const std::string_view id = traceparent.substr(3, 32);
  if (!is_lower_hex(id) || id == std::string_view{"00000000000000000000000000000000"}) return {};
  return std::string(id);
}

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    if (lead >= 0xc2 && lead <= 0xdf) {
      extra = 1;
      cp = lead & 0x1fU;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
      cp = lead & 0x0fU;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
      cp = lead & 0x07U;
    } else {
      return false;
    }
    if (extra >= text.size() - i) return false;  // the sequence is cut off
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xc0U) != 0x80U) return false;
      cp = (cp << 6U) | (c & 0x3fU);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string recorded_principal(std::string_view subject) {
  if (subject.empty()) return std::string(unattributed_principal);
  return printable(subject, audit_principal_length_max);
}

bool is_valid_reason(std::string_view reason) noexcept {
  if (reason.empty() || reason.size() > engine::reason_length_max) return false;
  return is_valid_utf8(reason) && std::ranges::none_of(reason, is_ascii_control);
}

audit_entry audit_of(const engine::command& cmd, const audit_context* context,
                     std::string_view traceparent) {
  const bool review = is_review_decision(cmd);
  WALLET_ASSERT(review || is_administrative(cmd.body));
  audit_entry e;
  e.principal = recorded_principal(context != nullptr ? context->principal : std::string_view{});
  std::string_view reason = context != nullptr ? std::string_view{context->reason} : "";
  if (reason.empty()) reason = own_reason(cmd.body);
  // The engine refuses a command with a bad reason, but the refusal is audited too: record what
  // can be recorded rather than nothing.
  e.reason = is_valid_reason(reason) ? std::string(reason) : std::string(reason_not_given);
  if (review) {
    const bool approved = !std::holds_alternative<engine::hold_release>(cmd.body);
    e.action = approved ? "aml_review_approved" : "aml_review_rejected";
    e.details.emplace_back(
        "review_id",
        std::string(cmd.idempotency_key.substr(engine::review_decision_key_prefix.size())));
    if (const auto* t = std::get_if<engine::transfer_debit>(&cmd.body)) {
      e.details.emplace_back("transfer_id", t->transfer_id);
      e.details.emplace_back("destination", t->destination);
    }
  } else {
    e.action = std::string(engine::command_name(cmd.body));
  }
  e.target = printable(cmd.wallet_id, audit_target_length_max);
  e.trace_id = trace_id_of(traceparent);
  e.details.emplace_back("idempotency_key", cmd.idempotency_key);
  if (const auto* kyc = std::get_if<engine::set_kyc_level>(&cmd.body)) {
    e.details.emplace_back("level", std::string(engine::to_string(kyc->level)));
  }
  if (!is_valid_reason(reason) && !reason.empty()) {
    e.details.emplace_back("reason_refused", "true");
  }
  return e;
}

}  // namespace wallet::actors
