// AML screening in the wallet actor (ADR 0007) over the in-memory store and a scripted provider
// fake: which commands are screened, allow / deny / no verdict under fail_closed and fail_open,
// the deadline, the flag switching it at run time, and the wallet staying serialized (and other
// wallets served) while a screening waits.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "memory_store.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/engine/review.hpp"

namespace wallet::actors {
namespace {

using namespace std::chrono_literals;
using testing::memory_database;
using testing::memory_store;

const engine::currency eur = *engine::currency::from_code("EUR");
engine::money in_eur(std::int64_t minor) { return engine::money{minor, eur}; }

// A provider whose next answers the test scripts; it can be held (blocked) until released.
class scripted_port final : public screening_port {
 public:
  screening_answer screen(const screening_request& request) override {
    std::unique_lock lock{mutex_};
    asked_.push_back(request);
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_; });
    return next_;
  }
  void unanswered(const screening_request& /*request*/, std::string_view why,
                  bool allowed) override {
    const std::lock_guard lock{mutex_};
    unanswered_.emplace_back(std::string(why), allowed);
  }
  void answer(screening_answer a) {
    const std::lock_guard lock{mutex_};
    next_ = std::move(a);
  }
  void hold(bool on) {
    const std::lock_guard lock{mutex_};
    held_ = on;
    changed_.notify_all();
  }
  bool wait_asked(std::size_t n) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, 5s, [&] { return asked_.size() >= n; });
  }
  std::vector<screening_request> asked() {
    const std::lock_guard lock{mutex_};
    return asked_;
  }
  std::vector<std::pair<std::string, bool>> unanswered_calls() {
    const std::lock_guard lock{mutex_};
    return unanswered_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  screening_answer next_{engine::screening_verdict::allow, {}};
  bool held_ = false;
  std::vector<screening_request> asked_;
  std::vector<std::pair<std::string, bool>> unanswered_;
};

class screening_test : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.shards = 2;
    settings_.flush_interval = 200us;
    db_ = std::make_shared<memory_database>(settings_.shards);
    cfg_.set("scheduler.max-threads", std::size_t{2});
    system_ = std::make_unique<caf::actor_system>(cfg_);
    rt_ = std::make_unique<runtime>(
        *system_, settings_,
        [db = db_](std::uint32_t shard) { return std::make_unique<memory_store>(db, shard); },
        std::make_shared<runtime_probe>());
    install(false, 5s);
    flag(true);
  }
  void TearDown() override {
    port_->hold(false);
    rt_->stop(2s);
    system_->await_all_actors_done();
    rt_.reset();
  }

  void install(bool fail_open, std::chrono::milliseconds deadline,
               std::chrono::seconds review_hold = std::chrono::hours{24}) {
    auto setup = std::make_shared<screening_setup>();
    setup->review_hold = review_hold;
    setup->rules.threshold = engine::parse_currency_amounts("EUR:1000").value();
    setup->rules.velocity_window = 1h;
    setup->rules.velocity_count_max = 3;
    setup->port = port_;
    setup->fail_open = fail_open;
    setup->deadline = deadline;
    rt_->compliance().set_screening(std::move(setup));
  }
  // A new runtime over the same database: every wallet is loaded again.
  void restart() {
    ASSERT_TRUE(rt_->stop(2s));
    rt_ = std::make_unique<runtime>(
        *system_, settings_,
        [db = db_](std::uint32_t shard) { return std::make_unique<memory_store>(db, shard); },
        std::make_shared<runtime_probe>());
    install(false, 5s);
    flag(true);
  }
  void flag(bool on) {
    engine::feature_flags f;
    f.aml_screening = on;
    rt_->compliance().set_flags(std::make_shared<const engine::feature_flags>(f));
  }

  submit_outcome run(engine::command c) {
    auto f = rt_->submit(std::move(c));
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  }
  void open(const std::string& id, std::int64_t deposit) {
    ASSERT_TRUE(run({id, "open", engine::open_wallet{"owner-" + id, eur, 0}}).accepted());
    if (deposit > 0) {
      ASSERT_TRUE(run({id, "dep", engine::deposit{in_eur(deposit)}}).accepted());
    }
  }
  // An admin's decision, as the admin route submits it, with who and why.
  submit_outcome decide(engine::command c) {
    command_context context;
    context.audit = audit_context{"ops", "checked"};
    std::promise<submit_outcome> decided;
    auto f = decided.get_future();
    rt_->submit_review_decision(std::move(c), std::move(context),
                                [&](submit_outcome o) { decided.set_value(std::move(o)); });
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  }
  // Waits until `done` holds (the saga and expiry timers run on their own).
  template <class Done>
  static bool eventually(Done done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return done();
  }
  static std::string code_of(const submit_outcome& o) {
    if (o.error) return std::string(to_string(*o.error));
    return o.result.rejected ? std::string(engine::code(*o.result.rejected)) : "accepted";
  }

  runtime_settings settings_;
  std::shared_ptr<scripted_port> port_ = std::make_shared<scripted_port>();
  std::shared_ptr<memory_database> db_;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<runtime> rt_;
};

TEST_F(screening_test, only_outgoing_moves_past_a_rule_are_screened) {
  open("w1", 10'000);
  EXPECT_EQ(code_of(run({"w1", "wd-small", engine::withdraw{in_eur(999)}})), "accepted");
  EXPECT_EQ(code_of(run({"w1", "dep-big", engine::deposit{in_eur(5'000)}})), "accepted");
  EXPECT_TRUE(port_->asked().empty()) << "below the threshold; a deposit is never screened";
  EXPECT_EQ(code_of(run({"w1", "wd-big", engine::withdraw{in_eur(1'000)}})), "accepted");
  ASSERT_EQ(port_->asked().size(), 1U);
  const screening_request asked = port_->asked().front();
  EXPECT_EQ(asked.wallet_id, "w1");
  EXPECT_EQ(asked.owner, "owner-w1");
  EXPECT_EQ(asked.command, "withdraw");
  EXPECT_EQ(asked.idempotency_key, "wd-big");
  EXPECT_EQ(asked.amount, in_eur(1'000));
  EXPECT_EQ(asked.reasons,
            static_cast<engine::screening_reasons>(engine::screening_reason::amount));
  EXPECT_EQ(asked.velocity_count, 1U) << "the small withdrawal is in the window";
  EXPECT_EQ(asked.velocity_sum, 999);
  // A move the engine refuses anyway asks no provider.
  EXPECT_EQ(code_of(run({"w1", "wd-huge", engine::withdraw{in_eur(1'000'000)}})),
            "insufficient_funds");
  EXPECT_EQ(port_->asked().size(), 1U);
}

TEST_F(screening_test, the_velocity_count_rule_screens_small_moves) {
  open("w1", 10'000);
  open("w2", 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(code_of(run({"w1", "t-" + std::to_string(i),
                           engine::transfer_debit{"tr-" + std::to_string(i), "w2", in_eur(10)}})),
              "accepted");
  }
  EXPECT_TRUE(port_->asked().empty());
  port_->answer({engine::screening_verdict::deny, {}});
  EXPECT_EQ(code_of(run({"w1", "t-3", engine::transfer_debit{"tr-3", "w2", in_eur(10)}})),
            "aml_denied");
  ASSERT_EQ(port_->asked().size(), 1U);
  EXPECT_EQ(port_->asked().front().destination, "w2");
  EXPECT_EQ(port_->asked().front().velocity_count, 3U);
}

TEST_F(screening_test, a_hold_is_screened_when_placed_and_its_capture_counts_as_velocity) {
  open("w1", 10'000);
  const auto expiry =
      std::chrono::time_point_cast<engine::duration>(std::chrono::system_clock::now()) +
      std::chrono::hours{1};
  port_->answer({engine::screening_verdict::deny, {}});
  EXPECT_EQ(code_of(run({"w1", "h-1", engine::hold_place{"h-1", in_eur(2'000), expiry}})),
            "aml_denied");
  ASSERT_EQ(port_->asked().size(), 1U);
  EXPECT_EQ(port_->asked().front().command, "hold_place");
  EXPECT_EQ(code_of(run({"w1", "h-2", engine::hold_place{"h-2", in_eur(500), expiry}})),
            "accepted");
  EXPECT_EQ(code_of(run({"w1", "c-2", engine::hold_capture{"h-2", std::nullopt}})), "accepted")
      << "a capture is never screened";
  port_->answer({engine::screening_verdict::allow, {}});
  EXPECT_EQ(code_of(run({"w1", "wd-1", engine::withdraw{in_eur(1'000)}})), "accepted");
  ASSERT_EQ(port_->asked().size(), 2U);
  EXPECT_EQ(port_->asked().back().velocity_count, 1U) << "the capture";
  EXPECT_EQ(port_->asked().back().velocity_sum, 500);
}

TEST_F(screening_test, a_denial_is_remembered_and_moves_nothing) {
  open("w1", 10'000);
  port_->answer({engine::screening_verdict::deny, {}});
  const engine::command big{"w1", "wd-1", engine::withdraw{in_eur(5'000)}};
  const submit_outcome denied = run(big);
  EXPECT_EQ(code_of(denied), "aml_denied");
  EXPECT_EQ(denied.result.balance, 10'000);
  EXPECT_EQ(db_->wallet("w1")->balance, 10'000);
  port_->answer({engine::screening_verdict::allow, {}});
  const submit_outcome again = run(big);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(code_of(again), "aml_denied");
  EXPECT_EQ(port_->asked().size(), 1U) << "a repeat is answered from its key";
}

TEST_F(screening_test, no_verdict_fails_closed_transiently_then_the_same_key_passes) {
  open("w1", 10'000);
  port_->answer({std::nullopt, "HTTP status 503"});
  const engine::command big{"w1", "wd-1", engine::withdraw{in_eur(5'000)}};
  EXPECT_EQ(code_of(run(big)), "aml_unavailable");
  EXPECT_EQ(db_->wallet("w1")->balance, 10'000);
  ASSERT_EQ(port_->unanswered_calls().size(), 1U);
  EXPECT_EQ(port_->unanswered_calls().front(),
            (std::pair<std::string, bool>{"HTTP status 503", false}));
  port_->answer({engine::screening_verdict::allow, {}});
  const submit_outcome later = run(big);
  EXPECT_EQ(code_of(later), "accepted");
  EXPECT_FALSE(later.replayed);
  EXPECT_EQ(db_->wallet("w1")->balance, 5'000);
}

TEST_F(screening_test, no_verdict_under_fail_open_allows_and_reports_it) {
  install(true, 5s);
  open("w1", 10'000);
  port_->answer({std::nullopt, "timed out"});
  EXPECT_EQ(code_of(run({"w1", "wd-1", engine::withdraw{in_eur(5'000)}})), "accepted");
  ASSERT_EQ(port_->unanswered_calls().size(), 1U);
  EXPECT_TRUE(port_->unanswered_calls().front().second);
}

TEST_F(screening_test, the_flag_switches_screening_at_run_time) {
  open("w1", 10'000);
  port_->answer({engine::screening_verdict::deny, {}});
  flag(false);
  EXPECT_EQ(code_of(run({"w1", "wd-1", engine::withdraw{in_eur(2'000)}})), "accepted");
  EXPECT_TRUE(port_->asked().empty());
  flag(true);
  EXPECT_EQ(code_of(run({"w1", "wd-2", engine::withdraw{in_eur(2'000)}})), "aml_denied");
}

TEST_F(screening_test,
       the_wallet_waits_serialized_while_others_are_served_and_the_deadline_ends_it) {
  install(false, 300ms);
  open("w1", 10'000);
  open("w2", 10'000);
  port_->hold(true);
  auto big = rt_->submit({"w1", "wd-1", engine::withdraw{in_eur(5'000)}});
  ASSERT_TRUE(port_->wait_asked(1));
  auto after = rt_->submit({"w1", "wd-2", engine::withdraw{in_eur(10)}});
  // Another wallet is not held up by w1's screening.
  EXPECT_EQ(code_of(run({"w2", "wd-1", engine::withdraw{in_eur(10)}})), "accepted");
  EXPECT_EQ(after.wait_for(50ms), std::future_status::timeout)
      << "w1's next command waits behind the screening";
  ASSERT_EQ(big.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(code_of(big.get()), "aml_unavailable") << "the deadline answered";
  ASSERT_EQ(after.wait_for(5s), std::future_status::ready);
  const submit_outcome next = after.get();
  EXPECT_EQ(code_of(next), "accepted");
  EXPECT_EQ(next.result.balance, 9'990) << "decided after the refusal, in order";
  port_->hold(false);
}

// The velocity window survives the wallet being loaded again (a restart, a passivation): it is
// rebuilt from the stored outgoing events (ADR 0007).
TEST_F(screening_test, the_velocity_window_is_rebuilt_when_the_wallet_is_loaded_again) {
  open("w1", 10'000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(code_of(run({"w1", "wd-" + std::to_string(i), engine::withdraw{in_eur(10 + i)}})),
              "accepted");
  }
  EXPECT_TRUE(port_->asked().empty());
  restart();
  port_->answer({engine::screening_verdict::deny, {}});
  EXPECT_EQ(code_of(run({"w1", "wd-3", engine::withdraw{in_eur(10)}})), "aml_denied")
      << "three moves in the window before the reload: the count rule fires";
  ASSERT_EQ(port_->asked().size(), 1U);
  EXPECT_EQ(port_->asked().front().velocity_count, 3U);
  EXPECT_EQ(port_->asked().front().velocity_sum, 33);
}

// A review verdict on a withdrawal holds its amount under the review's hold (ADR 0009); on a
// hold placement it is refused like a denial. Only the decision path settles the hold, audited.
TEST_F(screening_test, a_withdrawal_under_review_is_held_until_the_decision_settles_it) {
  open("w1", 10'000);
  open("w2", 0);
  port_->answer({engine::screening_verdict::review, {}});
  const submit_outcome held = run({"w1", "wd-1", engine::withdraw{in_eur(5'000)}});
  ASSERT_EQ(code_of(held), "accepted");
  ASSERT_TRUE(held.event);
  const std::string id = engine::review_id_of("w1", "wd-1");
  const auto* placed = std::get_if<engine::hold_placed>(&held.event->body);
  ASSERT_NE(placed, nullptr);
  EXPECT_EQ(placed->hold_id, engine::review_hold_id(id));
  EXPECT_EQ(held.result.balance, 10'000);
  EXPECT_EQ(held.result.held, 5'000);
  EXPECT_EQ(db_->review_reasons().at("wd-1"), engine::screening_reasons{1}) << "amount";
  // A hold placement under review is refused like a denial (ADR 0009).
  const auto expiry =
      std::chrono::time_point_cast<engine::duration>(std::chrono::system_clock::now()) + 1h;
  EXPECT_EQ(code_of(run({"w1", "h-1", engine::hold_place{"h-1", in_eur(1'000), expiry}})),
            "aml_denied");
  // A client's capture of the review's hold is refused; the decision is not.
  EXPECT_EQ(code_of(run({"w1", "cap", engine::hold_capture{placed->hold_id, {}}})), "id_invalid");
  restart();  // a pending review survives the wallet being loaded again
  command_context context;
  context.audit = audit_context{"ops", "checked"};
  std::promise<submit_outcome> decided;
  rt_->submit_review_decision(
      {"w1", engine::review_decision_key(id), engine::hold_capture{placed->hold_id, {}}},
      std::move(context), [&](submit_outcome o) { decided.set_value(std::move(o)); });
  auto f = decided.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  const submit_outcome approved = f.get();
  ASSERT_EQ(code_of(approved), "accepted");
  EXPECT_EQ(approved.result.balance, 5'000);
  EXPECT_EQ(approved.result.held, 0);
  const auto audits = db_->audits();
  ASSERT_EQ(audits.size(), 1U);
  EXPECT_EQ(audits[0].action, "aml_review_approved");
  EXPECT_EQ(audits[0].principal, "ops");
  EXPECT_EQ(audits[0].reason, "checked");
}

// A transfer under review (ADR 0009) holds its amount on the source; no saga starts. Its approval
// takes the hold in the debit itself (one event, one commit), and the saga credits the
// destination; a frozen source refuses the approval until it is unfrozen.
TEST_F(screening_test, a_transfer_under_review_is_debited_from_its_hold_on_approval) {
  open("w1", 10'000);
  open("w2", 0);
  port_->answer({engine::screening_verdict::review, {}});
  const engine::command transfer{"w1", "t-1", engine::transfer_debit{"tr-1", "w2", in_eur(5'000)}};
  const submit_outcome held = run(transfer);
  ASSERT_EQ(code_of(held), "accepted");
  ASSERT_TRUE(held.event);
  const std::string id = engine::review_id_of("w1", "t-1");
  const std::string hold = engine::review_hold_id(id);
  const auto* placed = std::get_if<engine::hold_placed>(&held.event->body);
  ASSERT_NE(placed, nullptr);
  EXPECT_EQ(placed->hold_id, hold);
  EXPECT_EQ(held.result.held, 5'000);
  EXPECT_EQ(db_->review_transfers().at("t-1"), (std::pair<std::string, std::string>{"tr-1", "w2"}));
  EXPECT_FALSE(db_->transfer("w1", "tr-1")) << "no saga before the approval";
  EXPECT_EQ(port_->asked().back().command, "transfer_debit");
  // A repeat answers the same review without a provider.
  const submit_outcome again = run(transfer);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.result, held.result);
  EXPECT_EQ(port_->asked().size(), 1U);

  restart();  // a pending review survives the wallet being loaded again
  const engine::command approve{"w1", engine::review_decision_key(id),
                                engine::transfer_debit{"tr-1", "w2", in_eur(5'000), hold}};
  ASSERT_EQ(code_of(run({"w1", "f-1", engine::freeze{"fraud check"}})), "accepted");
  const submit_outcome frozen = decide(approve);
  EXPECT_EQ(code_of(frozen), "wallet_frozen");
  EXPECT_EQ(db_->wallet("w1")->held, 5'000);
  ASSERT_EQ(code_of(run({"w1", "u-1", engine::unfreeze{"cleared"}})), "accepted");
  const submit_outcome approved = decide(approve);
  ASSERT_EQ(code_of(approved), "accepted");
  EXPECT_FALSE(approved.replayed) << "the refusal while frozen was not remembered";
  EXPECT_EQ(approved.result.balance, 5'000);
  EXPECT_EQ(approved.result.held, 0);
  // The hold is consumed by the debit itself: its placement, then (after the freeze and the
  // unfreeze) the debit, with nothing releasing or capturing it.
  const auto events = db_->events().at("w1");
  ASSERT_GE(events.size(), 2U);
  const auto* debit = std::get_if<engine::transfer_debited>(&events.back().body);
  ASSERT_NE(debit, nullptr);
  EXPECT_EQ(*debit, (engine::transfer_debited{"tr-1", "w2", 5'000, hold}));
  for (const auto& e : events) {
    EXPECT_FALSE(std::holds_alternative<engine::hold_captured>(e.body));
    EXPECT_FALSE(std::holds_alternative<engine::hold_released>(e.body));
  }
  // The saga credits the destination, as for any transfer.
  EXPECT_TRUE(eventually([&] { return db_->wallet("w2") && db_->wallet("w2")->balance == 5'000; }));
  EXPECT_TRUE(eventually([&] {
    const auto t = db_->transfer("w1", "tr-1");
    return t && t->status == transfer_status::completed;
  }));
  EXPECT_EQ(db_->wallet("w1")->balance, 5'000);
  // A repeated approval is a replay; the other decision a conflict.
  EXPECT_TRUE(decide(approve).replayed);
  EXPECT_EQ(code_of(decide({"w1", engine::review_decision_key(id), engine::hold_release{hold}})),
            "idempotency_conflict");
  EXPECT_EQ(db_->wallet("w1")->balance, 5'000);
  EXPECT_EQ(db_->wallet("w2")->balance, 5'000);
  const auto audits = db_->audits();
  ASSERT_FALSE(audits.empty());
  EXPECT_EQ(audits.back().action, "aml_review_approved");
  EXPECT_EQ(audits.back().principal, "ops");
  const auto& details = audits.back().details;
  EXPECT_NE(std::find(details.begin(), details.end(),
                      std::pair<std::string, std::string>{"transfer_id", "tr-1"}),
            details.end());
}

// Rejected or expired, a transfer under review never leaves: the hold is released and no saga
// starts; the approval then finds no hold.
TEST_F(screening_test, a_transfer_under_review_rejected_or_expired_releases_its_money) {
  install(false, 5s, 1s);
  open("w1", 10'000);
  open("w2", 0);
  port_->answer({engine::screening_verdict::review, {}});
  ASSERT_EQ(code_of(run({"w1", "t-1", engine::transfer_debit{"tr-1", "w2", in_eur(2'000)}})),
            "accepted");
  const std::string first = engine::review_id_of("w1", "t-1");
  const submit_outcome rejected = decide({"w1", engine::review_decision_key(first),
                                          engine::hold_release{engine::review_hold_id(first)}});
  ASSERT_EQ(code_of(rejected), "accepted");
  EXPECT_EQ(rejected.result.held, 0);
  EXPECT_EQ(rejected.result.balance, 10'000);

  ASSERT_EQ(code_of(run({"w1", "t-2", engine::transfer_debit{"tr-2", "w2", in_eur(3'000)}})),
            "accepted");
  const std::string second = engine::review_id_of("w1", "t-2");
  EXPECT_TRUE(eventually([&] { return db_->wallet("w1")->held == 0; })) << "expired";
  const auto events = db_->events().at("w1");
  const auto* expired = std::get_if<engine::hold_expired>(&events.back().body);
  ASSERT_NE(expired, nullptr);
  EXPECT_EQ(expired->hold_id, engine::review_hold_id(second));
  const submit_outcome late =
      decide({"w1", engine::review_decision_key(second),
              engine::transfer_debit{"tr-2", "w2", in_eur(3'000), engine::review_hold_id(second)}});
  EXPECT_EQ(code_of(late), "hold_not_found");
  EXPECT_EQ(db_->wallet("w1")->balance, 10'000);
  EXPECT_FALSE(db_->transfer("w1", "tr-1"));
  EXPECT_FALSE(db_->transfer("w1", "tr-2"));
  EXPECT_EQ(db_->wallet("w2")->balance, 0);
}

}  // namespace
}  // namespace wallet::actors
