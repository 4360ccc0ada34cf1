// An in-memory fake of the store port for unit tests of the actor runtime: the same fencing and
// bookkeeping rules as the PostgreSQL store, plus switches to make it fail.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "wallet/actors/outcome.hpp"
#include "wallet/actors/store_port.hpp"
#include "wallet/engine/shard.hpp"

namespace wallet::actors::testing {

// The shared "database" behind every shard's port.
class memory_database {
 public:
  explicit memory_database(std::uint32_t shards) : shards_(shards) {}

  std::atomic<bool> down{false};               // every call fails as unavailable
  std::atomic<int> fail_next_commits{0};       // the next N commits fail as unavailable
  std::atomic<bool> throw_next_commit{false};  // a bug: the port throws (it promises not to)
  std::atomic<int> commit_delay_ms{0};         // each commit takes this long (a slow database)
  std::atomic<std::size_t> commits{0};
  std::atomic<std::size_t> largest_batch{0};
  std::atomic<std::size_t> loads{0};        // wallet loads asked of the store
  std::atomic<std::size_t> key_lookups{0};  // key lookups asked of the store (ADR 0017)
  std::atomic<bool> lookups_down{false};    // key lookups fail as unavailable
  // While held, every key lookup waits until released (a slow database).
  void hold_lookups() {
    std::lock_guard lock{lookup_mutex_};
    lookups_held_ = true;
  }
  void release_lookups() {
    {
      std::lock_guard lock{lookup_mutex_};
      lookups_held_ = false;
    }
    lookups_released_.notify_all();
  }
  // Key lookups waiting in hold_lookups() now.
  std::size_t lookups_waiting() {
    std::lock_guard lock{lookup_mutex_};
    return lookups_waiting_;
  }

  // While held, every commit waits (after it has counted itself as committing) until released.
  void hold_commits() {
    std::lock_guard lock{committing_mutex_};
    held_ = true;
  }
  void release_commits() {
    {
      std::lock_guard lock{committing_mutex_};
      held_ = false;
    }
    released_.notify_all();
  }
  // Commits of `shard` under way now, and the most there ever were at once.
  std::size_t committing_in(std::uint32_t shard) {
    std::lock_guard lock{committing_mutex_};
    const auto it = committing_.find(shard);
    return it == committing_.end() ? 0 : it->second;
  }
  std::size_t committing_max_in(std::uint32_t shard) {
    std::lock_guard lock{committing_mutex_};
    const auto it = committing_max_.find(shard);
    return it == committing_max_.end() ? 0 : it->second;
  }
  // Writes in the commits under way now.
  std::size_t writes_committing() {
    std::lock_guard lock{committing_mutex_};
    return writes_committing_;
  }
  // Commits that began with a wallet of theirs in another commit still under way.
  std::atomic<std::size_t> wallet_overlaps{0};

  // Every write under this idempotency key is refused as the database refuses a constraint
  // violation: the whole transaction fails as rejected.
  void refuse_key(std::string key) {
    std::lock_guard lock{mutex_};
    refused_keys_.insert(std::move(key));
  }

  std::optional<store_error> commit(std::span<const wallet_write> writes) {
    if (throw_next_commit.exchange(false)) {
      throw std::logic_error{"injected bug"};
    }
    const committing_guard guard{*this, writes};
    if (const int delay = commit_delay_ms.load(); delay > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds{delay});
    }
    std::lock_guard lock{mutex_};
    if (down || fail_next_commits.fetch_sub(1) > 0) {
      return store_error{store_errc::unavailable, "injected failure"};
    }
    fail_next_commits.store(std::max(0, fail_next_commits.load()));
    // Check every fence first: all or nothing.
    std::map<std::string, std::uint64_t> versions;
    for (const auto& w : writes) {
      auto [it, fresh] = versions.try_emplace(w.wallet_id, stored_version(w.wallet_id));
      if (it->second != w.expected_version) {
        return store_error{store_errc::fence_conflict,
                           "version fence: " + w.wallet_id + " expected " +
                               std::to_string(w.expected_version) + ", stored " +
                               std::to_string(it->second)};
      }
      if (refused_keys_.contains(w.idempotency_key)) {
        return store_error{store_errc::rejected, "injected constraint violation"};
      }
      if (keys_.contains({w.wallet_id, w.idempotency_key})) {
        return store_error{store_errc::rejected, "duplicate idempotency key"};
      }
      it->second = w.after.version;
    }
    for (const auto& w : writes) {
      apply_write(w);
    }
    ++commits;
    largest_batch = std::max<std::size_t>(largest_batch, writes.size());
    return std::nullopt;
  }

  engine::result<loaded_wallet, store_error> load(const std::string& id, engine::timestamp since,
                                                  const engine::idempotency_bounds& bounds) {
    ++loads;
    std::lock_guard lock{mutex_};
    if (down) {
      return store_error{store_errc::unavailable, "injected failure"};
    }
    loaded_wallet out;
    const auto it = wallets_.find(id);
    out.state = it == wallets_.end() ? engine::empty_wallet(id) : it->second;
    std::vector<std::pair<std::string, engine::idempotency_record>> keys;
    for (const auto& [key, record] : key_order_) {
      if (key.first == id && record.recorded_at > since) {
        keys.emplace_back(key.second, record);
      }
    }
    // The newest keys resident, the older ones in the filter, as the PostgreSQL store does.
    const std::size_t older =
        keys.size() > bounds.keys_resident ? keys.size() - bounds.keys_resident : 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i < older) {
        out.evicted.add(keys[i].first, keys[i].second.recorded_at, bounds.retention);
      } else {
        out.keys.push_back(std::move(keys[i]));
      }
    }
    return out;
  }

  engine::result<std::optional<engine::idempotency_record>, store_error> find_key(
      const std::string& id, const std::string& key, engine::timestamp since) {
    ++key_lookups;
    {
      std::unique_lock lock{lookup_mutex_};
      ++lookups_waiting_;
      lookups_released_.wait(lock, [this] { return !lookups_held_; });
      --lookups_waiting_;
    }
    std::lock_guard lock{mutex_};
    if (down || lookups_down) {
      return store_error{store_errc::unavailable, "injected failure"};
    }
    for (const auto& [k, record] : key_order_) {
      if (k.first == id && k.second == key && record.recorded_at > since) {
        return std::optional{record};
      }
    }
    return std::optional<engine::idempotency_record>{};
  }

  std::vector<transfer_record> pending(std::uint32_t shard, engine::timestamp older_than) {
    std::lock_guard lock{mutex_};
    std::vector<transfer_record> out;
    for (const auto& [key, t] : transfers_) {
      if (t.status == transfer_status::pending && t.created_at < older_than &&
          engine::shard_of(t.source, shards_) == shard) {
        out.push_back(t);
      }
    }
    return out;
  }

  std::optional<transfer_record> transfer(const std::string& source, const std::string& id) {
    std::lock_guard lock{mutex_};
    const auto it = transfers_.find({source, id});
    return it == transfers_.end() ? std::nullopt : std::optional{it->second};
  }

  std::vector<due_hold> due(std::uint32_t shard, engine::timestamp now) {
    std::lock_guard lock{mutex_};
    std::vector<due_hold> out;
    for (const auto& [id, w] : wallets_) {
      if (engine::shard_of(id, shards_) != shard) continue;
      for (const auto& [hold_id, h] : w.holds) {
        if (h.expires_at <= now) out.push_back(due_hold{id, hold_id, h.expires_at});
      }
    }
    return out;
  }

  std::optional<engine::wallet_state> wallet(const std::string& id) {
    std::lock_guard lock{mutex_};
    const auto it = wallets_.find(id);
    return it == wallets_.end() ? std::nullopt : std::optional{it->second};
  }

  // The audit records committed with writes, in commit order.
  std::vector<audit_entry> audits() {
    std::lock_guard lock{mutex_};
    return audits_;
  }
  // The screening reasons of the writes that opened an AML review, by the withdrawal's key.
  std::map<std::string, engine::screening_reasons> review_reasons() {
    std::lock_guard lock{mutex_};
    return review_reasons_;
  }

  // The transfers of the writes that opened an AML review, by the transfer's key: (transfer id,
  // destination).
  std::map<std::string, std::pair<std::string, std::string>> review_transfers() {
    std::lock_guard lock{mutex_};
    return review_transfers_;
  }

  // The command id and trace context stored with a command's write.
  std::optional<command_context> context_of(const std::string& wallet, const std::string& key) {
    std::lock_guard lock{mutex_};
    const auto it = contexts_.find({wallet, key});
    return it == contexts_.end() ? std::nullopt : std::optional{it->second};
  }

  // Every stored event, per wallet, in order.
  std::map<std::string, std::vector<engine::event>> events() {
    std::lock_guard lock{mutex_};
    return events_;
  }

 private:
  std::uint64_t stored_version(const std::string& id) const {
    const auto it = wallets_.find(id);
    return it == wallets_.end() ? 0 : it->second.version;
  }

  void apply_write(const wallet_write& w) {
    contexts_[{w.wallet_id, w.idempotency_key}] = command_context{w.command_id, w.trace_parent};
    if (w.audit) audits_.push_back(*w.audit);
    if (w.review_reasons != 0) review_reasons_[w.idempotency_key] = w.review_reasons;
    if (!w.review_transfer_id.empty()) {
      review_transfers_[w.idempotency_key] = {w.review_transfer_id, w.review_destination};
    }
    const engine::idempotency_record record = w.record;
    keys_.insert({w.wallet_id, w.idempotency_key});
    key_order_.emplace_back(std::make_pair(w.wallet_id, w.idempotency_key), record);
    if (w.events.empty()) {
      return;
    }
    auto [it, fresh] = wallets_.try_emplace(w.wallet_id, engine::empty_wallet(w.wallet_id));
    for (const auto& e : w.events) {
      engine::apply(it->second, e);  // folds holds too, like the SQL store derives them
      events_[w.wallet_id].push_back(e);
      track_transfer(w.wallet_id, it->second, e);
    }
  }

  void track_transfer(const std::string& wallet_id, const engine::wallet_state& s,
                      const engine::event& e) {
    if (const auto* d = std::get_if<engine::transfer_debited>(&e.body)) {
      transfers_[{wallet_id, d->transfer_id}] = transfer_record{
          d->transfer_id,           wallet_id, d->destination, engine::money{d->amount, s.ccy},
          transfer_status::pending, e.at};
    } else if (const auto* c = std::get_if<engine::transfer_credited>(&e.body)) {
      transfers_[{c->source, c->transfer_id}].status = transfer_status::completed;
    } else if (const auto* r = std::get_if<engine::transfer_reversed>(&e.body)) {
      transfers_[{wallet_id, r->transfer_id}].status = transfer_status::reversed;
    }
  }

  std::uint32_t shards_;
  std::mutex mutex_;
  std::mutex lookup_mutex_;
  std::condition_variable lookups_released_;
  bool lookups_held_ = false;
  std::size_t lookups_waiting_ = 0;

  // Counts a commit as under way for its lifetime; waits while commits are held.
  class committing_guard {
   public:
    committing_guard(memory_database& db, std::span<const wallet_write> writes)
        : db_(db),
          shard_(engine::shard_of(writes.front().wallet_id, db.shards_)),
          size_(writes.size()) {
      for (const auto& w : writes) wallets_.insert(w.wallet_id);
      std::unique_lock lock{db_.committing_mutex_};
      for (const auto& id : wallets_) {
        if (db_.committing_wallets_.count(id) > 0) ++db_.wallet_overlaps;
      }
      for (const auto& id : wallets_) db_.committing_wallets_.insert(id);
      const std::size_t now = ++db_.committing_[shard_];
      db_.committing_max_[shard_] = std::max(db_.committing_max_[shard_], now);
      db_.writes_committing_ += size_;
      db_.released_.wait(lock, [this] { return !db_.held_; });
    }
    ~committing_guard() {
      std::lock_guard lock{db_.committing_mutex_};
      for (const auto& id : wallets_)
        db_.committing_wallets_.erase(db_.committing_wallets_.find(id));
      --db_.committing_[shard_];
      db_.writes_committing_ -= size_;
    }
    committing_guard(const committing_guard&) = delete;
    committing_guard& operator=(const committing_guard&) = delete;

   private:
    memory_database& db_;
    std::uint32_t shard_;
    std::size_t size_;
    std::set<std::string> wallets_;
  };
  std::mutex committing_mutex_;
  std::condition_variable released_;
  bool held_ = false;
  std::map<std::uint32_t, std::size_t> committing_;
  std::map<std::uint32_t, std::size_t> committing_max_;
  std::multiset<std::string> committing_wallets_;
  std::size_t writes_committing_ = 0;
  std::map<std::string, engine::wallet_state> wallets_;
  std::map<std::string, std::vector<engine::event>> events_;
  std::set<std::pair<std::string, std::string>> keys_;
  std::vector<std::pair<std::pair<std::string, std::string>, engine::idempotency_record>>
      key_order_;
  std::map<std::pair<std::string, std::string>, transfer_record> transfers_;
  std::set<std::string> refused_keys_;
  std::map<std::pair<std::string, std::string>, command_context> contexts_;
  std::vector<audit_entry> audits_;
  std::map<std::string, engine::screening_reasons> review_reasons_;
  std::map<std::string, std::pair<std::string, std::string>> review_transfers_;
};

// One shard's port onto the shared memory database.
class memory_store final : public store_port {
 public:
  memory_store(std::shared_ptr<memory_database> db, std::uint32_t shard)
      : db_(std::move(db)), shard_(shard) {}

  engine::result<loaded_wallet, store_error> load_wallet(
      const std::string& wallet_id, engine::timestamp keys_since,
      const engine::idempotency_bounds& bounds) override {
    return db_->load(wallet_id, keys_since, bounds);
  }
  engine::result<std::optional<engine::idempotency_record>, store_error> find_key(
      const std::string& wallet_id, const std::string& key, engine::timestamp since) override {
    return db_->find_key(wallet_id, key, since);
  }
  std::optional<store_error> commit(std::span<const wallet_write> writes) override {
    return db_->commit(writes);
  }
  engine::result<std::vector<outgoing_move>, store_error> recent_outgoing(
      const std::string& wallet_id, engine::timestamp since, std::size_t limit) override {
    if (db_->down) return store_error{store_errc::unavailable, "injected failure"};
    std::vector<outgoing_move> moves;
    const auto events = db_->events();
    if (const auto it = events.find(wallet_id); it != events.end()) {
      for (const engine::event& e : it->second) {
        const std::int64_t amount = engine::outgoing_amount(e.body);
        if (e.at >= since && amount > 0) moves.push_back(outgoing_move{e.at, amount});
      }
    }
    if (moves.size() > limit) {
      moves.erase(moves.begin(), moves.end() - static_cast<std::ptrdiff_t>(limit));
    }
    return moves;
  }
  engine::result<std::vector<transfer_record>, store_error> pending_transfers(
      engine::timestamp older_than, std::size_t /*limit*/) override {
    if (db_->down) return store_error{store_errc::unavailable, "injected failure"};
    return db_->pending(shard_, older_than);
  }
  engine::result<std::optional<transfer_record>, store_error> find_transfer(
      const std::string& source, const std::string& transfer_id) override {
    return db_->transfer(source, transfer_id);
  }
  engine::result<std::vector<due_hold>, store_error> due_holds(engine::timestamp now,
                                                               std::size_t /*limit*/) override {
    if (db_->down) return store_error{store_errc::unavailable, "injected failure"};
    return db_->due(shard_, now);
  }

 private:
  std::shared_ptr<memory_database> db_;
  std::uint32_t shard_;
};

}  // namespace wallet::actors::testing
