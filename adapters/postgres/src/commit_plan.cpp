// Building a commit's rows from a batch of wallet writes (pure: no I/O).
#include "commit_plan.hpp"
#include "wallet/engine/overloaded.hpp"

#include <algorithm>
#include <bit>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "wallet/engine/assert.hpp"
#include "wallet/engine/rejection.hpp"
#include "wallet/engine/review.hpp"
#include "wallet/engine/shard.hpp"
#include "wallet/postgres/event_codec.hpp"

namespace wallet::postgres::detail {
namespace {

using engine::overloaded;

// One wallet's writes in the batch.
struct wallet_group {
  const actors::wallet_write* first = nullptr;
  const actors::wallet_write* last = nullptr;
  const engine::event* first_event = nullptr;
  const engine::event* last_event = nullptr;
  // Placed in this batch and still open, by id. (The writes' after.holds are not read: the port
  // does not promise them.)
  std::map<std::string_view, const engine::hold_placed*> holds_placed;
};

void add_text_or_null(array_literal& column, const std::string& value) {
  if (value.empty()) {
    column.add_null();
  } else {
    column.add_text(value);
  }
}

class planner {
 public:
  planner(std::uint32_t shard_id, std::uint32_t shard_count)
      : shard_id_(shard_id), shard_count_(shard_count) {}

  void add(const actors::wallet_write& w) {
    WALLET_ASSERT(w.after.id == w.wallet_id);
    WALLET_ASSERT(engine::shard_of(w.wallet_id, shard_count_) == shard_id_);
    const auto [it, inserted] = index_.try_emplace(w.wallet_id, groups_.size());
    if (inserted) {
      groups_.push_back(wallet_group{&w, &w, nullptr, nullptr, {}});
    } else {
      wallet_group& g = groups_[it->second];
      WALLET_ASSERT(w.expected_version == g.last->after.version);
      g.last = &w;
    }
    wallet_group& g = groups_[it->second];
    std::uint64_t seq = w.expected_version;
    for (const engine::event& e : w.events) {
      WALLET_ASSERT(e.seq == ++seq);
      add_event(g, w, e);
    }
    WALLET_ASSERT(seq == w.after.version);
    if (!w.idempotency_key.empty()) {
      add_record(w);
    }
    if (w.audit) {
      add_audit(*w.audit, &w.record);
    }
  }

  commit_plan finish() && {
    // Wallet rows in id order, so that two writers lock them in the same order.
    std::sort(groups_.begin(), groups_.end(), [](const wallet_group& a, const wallet_group& b) {
      return a.first->wallet_id < b.first->wallet_id;
    });
    for (const wallet_group& g : groups_) {
      add_wallet(g);
      add_opened_holds(g);
    }
    return std::move(plan_);
  }

 private:
  void add_event(wallet_group& g, const actors::wallet_write& w, const engine::event& e) {
    if (g.first_event == nullptr) {
      g.first_event = &e;
    }
    g.last_event = &e;
    const event_row row = encode_event(e.body);
    auto& c = plan_.events.columns;
    c[0].add_text(w.wallet_id);
    c[1].add_int(to_bigint(e.seq));
    c[2].add_timestamp(e.at);
    c[3].add_text(row.type);
    c[4].add_int(row.delta);
    c[5].add_int(row.held_delta);
    c[6].add_text(row.data);
    add_text_or_null(c[7], w.idempotency_key);
    add_text_or_null(c[8], w.command_id);
    add_text_or_null(c[9], w.trace_parent);
    add_effects(g, w, e);
  }

  // Holds and transfers follow from the events.
  void add_effects(wallet_group& g, const actors::wallet_write& w, const engine::event& e) {
    const auto close_hold = [&](const std::string& hold_id) {
      if (g.holds_placed.erase(hold_id) == 0) {  // stored before this batch: delete its row
        plan_.holds_closed.columns[0].add_text(w.wallet_id);
        plan_.holds_closed.columns[1].add_text(hold_id);
      }
    };
    std::visit(overloaded{
                   [&](const engine::hold_placed& x) {
                     const bool inserted = g.holds_placed.emplace(x.hold_id, &x).second;
                     WALLET_ASSERT(inserted);
                     if (engine::is_review_hold(x.hold_id)) open_review(w, e, x);
                   },
                   [&](const engine::hold_captured& x) {
                     close_hold(x.hold_id);
                     close_review(w, e, x.hold_id, "approved");
                   },
                   [&](const engine::hold_released& x) {
                     close_hold(x.hold_id);
                     close_review(w, e, x.hold_id, "rejected");
                   },
                   [&](const engine::hold_expired& x) {
                     close_hold(x.hold_id);
                     close_review(w, e, x.hold_id, "expired");
                   },
                   [&](const engine::transfer_debited& x) {
                     // A review's approved transfer takes its hold in the same event (ADR 0009).
                     if (!x.hold_id.empty()) {
                       close_hold(x.hold_id);
                       close_review(w, e, x.hold_id, "approved");
                     }
                     auto& c = plan_.debits.columns;
                     c[0].add_text(x.transfer_id);
                     c[1].add_text(w.wallet_id);
                     c[2].add_text(x.destination);
                     c[3].add_text(w.after.ccy.code());
                     c[4].add_int(x.amount);
                     c[5].add_timestamp(e.at);
                   },
                   [&](const engine::transfer_credited& x) {
                     auto& c = plan_.credits.columns;
                     c[0].add_text(x.transfer_id);
                     c[1].add_text(w.wallet_id);
                     c[2].add_text(x.source);
                     c[3].add_text(w.after.ccy.code());
                     c[4].add_int(x.amount);
                     c[5].add_timestamp(e.at);
                   },
                   [&](const engine::transfer_reversed& x) {
                     auto& c = plan_.reversals.columns;
                     c[0].add_text(x.transfer_id);
                     c[1].add_text(w.wallet_id);
                     c[2].add_int(x.amount);
                     c[3].add_timestamp(e.at);
                   },
                   [](const auto&) {},
               },
               e.body);
  }

  void open_review(const actors::wallet_write& w, const engine::event& e,
                   const engine::hold_placed& x) {
    auto& c = plan_.reviews_opened.columns;
    c[0].add_text(std::string(engine::review_of_hold(x.hold_id)));
    c[1].add_text(w.wallet_id);
    c[2].add_text(x.hold_id);
    c[3].add_text(w.idempotency_key);
    c[4].add_int(x.amount);
    c[5].add_text(w.after.ccy.code());
    c[6].add_text(engine::reasons_text(w.review_reasons));
    c[7].add_timestamp(e.at);
    c[8].add_timestamp(x.expires_at);
    // What is under review: a withdrawal, or a transfer with its id and destination.
    const bool transfer = !w.review_transfer_id.empty();
    c[9].add_text(transfer ? "transfer_debit" : "withdraw");
    add_text_or_null(c[10], w.review_transfer_id);
    add_text_or_null(c[11], w.review_destination);
  }

  void close_review(const actors::wallet_write& w, const engine::event& e,
                    const std::string& hold_id, std::string_view status) {
    if (!engine::is_review_hold(hold_id)) return;
    auto& c = plan_.reviews_closed.columns;
    c[0].add_text(w.wallet_id);
    c[1].add_text(hold_id);
    c[2].add_text(std::string(status));
    c[3].add_timestamp(e.at);
    if (w.audit) {
      c[4].add_text(w.audit->principal);
      c[5].add_text(w.audit->reason);
    } else {
      c[4].add_null();
      c[5].add_null();
    }
  }

  void add_record(const actors::wallet_write& w) {
    const engine::idempotency_record& r = w.record;
    auto& c = plan_.records.columns;
    c[0].add_text(w.wallet_id);
    c[1].add_text(w.idempotency_key);
    c[2].add_int(std::bit_cast<std::int64_t>(r.fingerprint));
    if (r.result.rejected) {
      c[3].add_int(static_cast<std::int64_t>(*r.result.rejected));
    } else {
      c[3].add_null();
    }
    c[4].add_int(to_bigint(r.result.seq));
    c[5].add_int(r.result.balance);
    c[6].add_int(r.result.held);
    c[7].add_timestamp(r.recorded_at);
  }

  void add_audit(const actors::audit_entry& a, const engine::idempotency_record* record) {
    auto& c = plan_.audits.columns;
    c[0].add_text(a.principal);
    c[1].add_text(a.action);
    c[2].add_text(a.target);
    c[3].add_text(a.reason);
    add_text_or_null(c[4], a.trace_id);
    c[5].add_text(audit_details(a, record));
  }

  void add_wallet(const wallet_group& g) {
    const engine::wallet_state& s = g.last->after;
    const std::uint64_t expected = g.first->expected_version;
    if (s.status == engine::wallet_status::none) {
      WALLET_ASSERT(expected == 0 && s.version == 0);
      plan_.absent.columns[0].add_text(s.id);
    } else if (expected == 0) {
      WALLET_ASSERT(g.first_event != nullptr);  // its wallet_opened
      auto& c = plan_.created.columns;
      c[0].add_text(s.id);
      c[1].add_text(s.owner);
      c[2].add_text(s.ccy.code());
      c[3].add_int(s.balance);
      c[4].add_int(s.held);
      c[5].add_int(status_code(s.status));
      c[6].add_int(to_bigint(s.version));
      c[7].add_int(s.overdraft_limit);
      c[8].add_timestamp(g.first_event->at);
      c[9].add_timestamp(g.last_event->at);
      add_kyc(c, 10, s);
    } else {
      auto& c = plan_.updated.columns;
      c[0].add_text(s.id);
      c[1].add_int(to_bigint(expected));
      c[2].add_int(s.balance);
      c[3].add_int(s.held);
      c[4].add_int(status_code(s.status));
      c[5].add_int(to_bigint(s.version));
      if (g.last_event != nullptr) {
        c[6].add_timestamp(g.last_event->at);
      } else {
        c[6].add_null();
      }
      add_kyc(c, 7, s);
    }
  }

  // The KYC level and the daily outgoing total, in three columns from `first`.
  template <std::size_t N>
  static void add_kyc(std::array<array_literal, N>& c, std::size_t first,
                      const engine::wallet_state& s) {
    c[first].add_int(static_cast<std::int64_t>(s.kyc_level));
    c[first + 1].add_int(s.outgoing_day.time_since_epoch().count());
    c[first + 2].add_int(s.outgoing_today);
  }

  void add_opened_holds(const wallet_group& g) {
    const std::string& id = g.first->wallet_id;
    for (const auto& [hold_id, placed] : g.holds_placed) {
      auto& c = plan_.holds_opened.columns;
      c[0].add_text(id);
      c[1].add_text(hold_id);
      c[2].add_int(placed->amount);
      c[3].add_timestamp(placed->expires_at);
    }
  }

  std::uint32_t shard_id_;
  std::uint32_t shard_count_;
  std::unordered_map<std::string_view, std::size_t> index_;
  std::vector<wallet_group> groups_;
  commit_plan plan_;
};

}  // namespace

template <std::size_t Columns>
std::array<std::string, Columns> rows<Columns>::literals() && {
  std::array<std::string, Columns> out;
  for (std::size_t i = 0; i < Columns; ++i) {
    out[i] = std::move(columns[i]).finish();
  }
  return out;
}

template struct rows<1>;
template struct rows<2>;
template struct rows<4>;
template struct rows<6>;
template struct rows<7>;
template struct rows<8>;
template struct rows<10>;
template struct rows<12>;
template struct rows<13>;

std::int64_t status_code(engine::wallet_status status) {
  switch (status) {
    case engine::wallet_status::active:
      return 1;
    case engine::wallet_status::frozen:
      return 2;
    case engine::wallet_status::closed:
      return 3;
    case engine::wallet_status::none:
      break;
  }
  WALLET_ASSERT(false && "a wallet that was never opened has no stored status");
  return 0;
}

std::optional<engine::wallet_status> status_from_code(std::int64_t code) {
  switch (code) {
    case 1:
      return engine::wallet_status::active;
    case 2:
      return engine::wallet_status::frozen;
    case 3:
      return engine::wallet_status::closed;
    default:
      return std::nullopt;
  }
}

std::string audit_details(const actors::audit_entry& entry,
                          const engine::idempotency_record* record) {
  boost::json::object details;
  for (const auto& [key, value] : entry.details) {
    details[key] = value;
  }
  if (record != nullptr) {
    if (record->result.rejected) {
      details["outcome"] = "rejected";
      details["rejection"] = std::string(engine::code(*record->result.rejected));
    } else {
      details["outcome"] = "applied";
      details["seq"] = std::to_string(record->result.seq);
    }
  }
  return boost::json::serialize(details);
}

commit_plan plan_commit(std::span<const actors::wallet_write> writes, std::uint32_t shard_id,
                        std::uint32_t shard_count) {
  planner p(shard_id, shard_count);
  for (const actors::wallet_write& w : writes) {
    p.add(w);
  }
  return std::move(p).finish();
}

}  // namespace wallet::postgres::detail
