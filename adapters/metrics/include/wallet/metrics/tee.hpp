// Probes that forward every report to two probes, so that walletd's log probes and the metrics
// probes both hear it: each component takes one probe, and neither side needs to know the other.
#pragma once

#include <memory>
#include <utility>

#include "wallet/actors/probe.hpp"
#include "wallet/engine/assert.hpp"
#include "wallet/nats/command_consumer.hpp"
#include "wallet/nats/event_publisher.hpp"
#include "wallet/nats/query_service.hpp"

namespace wallet::metrics {

class runtime_tee final : public actors::runtime_probe {
 public:
  runtime_tee(std::shared_ptr<actors::runtime_probe> first,
              std::shared_ptr<actors::runtime_probe> second)
      : first_{std::move(first)}, second_{std::move(second)} {
    WALLET_ASSERT(first_ != nullptr && second_ != nullptr);
  }

  void batch_committed(std::uint32_t shard, std::size_t writes,
                       std::chrono::microseconds latency) override {
    first_->batch_committed(shard, writes, latency);
    second_->batch_committed(shard, writes, latency);
  }
  void write_waited(std::uint32_t shard, std::chrono::microseconds waited) override {
    first_->write_waited(shard, waited);
    second_->write_waited(shard, waited);
  }
  void batch_failed(std::uint32_t shard, std::size_t writes,
                    const actors::store_error& error) override {
    first_->batch_failed(shard, writes, error);
    second_->batch_failed(shard, writes, error);
  }
  void circuit_changed(std::uint32_t shard, actors::circuit_state state) override {
    first_->circuit_changed(shard, state);
    second_->circuit_changed(shard, state);
  }
  void command_answered(std::string_view command, const actors::submit_outcome& outcome) override {
    first_->command_answered(command, outcome);
    second_->command_answered(command, outcome);
  }
  void wallet_load_failed(std::uint32_t shard, const actors::store_error& error) override {
    first_->wallet_load_failed(shard, error);
    second_->wallet_load_failed(shard, error);
  }
  void wallet_gave_up(std::uint32_t shard, const actors::store_error& last_error) override {
    first_->wallet_gave_up(shard, last_error);
    second_->wallet_gave_up(shard, last_error);
  }
  void actor_failed(std::string_view kind, std::uint32_t shard, std::string_view reason) override {
    first_->actor_failed(kind, shard, reason);
    second_->actor_failed(kind, shard, reason);
  }
  void wallets_resident(std::uint32_t shard, std::size_t count) override {
    first_->wallets_resident(shard, count);
    second_->wallets_resident(shard, count);
  }
  void wallets_dormant(std::uint32_t shard, std::size_t count) override {
    first_->wallets_dormant(shard, count);
    second_->wallets_dormant(shard, count);
  }
  void saga_leg_failed(std::string_view transfer_id, std::string_view why) override {
    first_->saga_leg_failed(transfer_id, why);
    second_->saga_leg_failed(transfer_id, why);
  }
  void keys_evicted(std::uint32_t shard, std::size_t count) override {
    first_->keys_evicted(shard, count);
    second_->keys_evicted(shard, count);
  }
  void key_lookup(std::uint32_t shard, std::string_view outcome,
                  const actors::store_error* error) override {
    first_->key_lookup(shard, outcome, error);
    second_->key_lookup(shard, outcome, error);
  }
  void scan_failed(std::uint32_t shard, const actors::store_error& error) override {
    first_->scan_failed(shard, error);
    second_->scan_failed(shard, error);
  }
  void aml_review(std::string_view event, std::string_view wallet_id,
                  std::string_view review_id) override {
    first_->aml_review(event, wallet_id, review_id);
    second_->aml_review(event, wallet_id, review_id);
  }

 private:
  std::shared_ptr<actors::runtime_probe> first_;
  std::shared_ptr<actors::runtime_probe> second_;
};

class consumer_tee final : public nats::consumer_probe {
 public:
  consumer_tee(std::shared_ptr<nats::consumer_probe> first,
               std::shared_ptr<nats::consumer_probe> second)
      : first_{std::move(first)}, second_{std::move(second)} {
    WALLET_ASSERT(first_ != nullptr && second_ != nullptr);
  }

  void dead_lettered(std::string_view reason, std::string_view detail) override {
    first_->dead_lettered(reason, detail);
    second_->dead_lettered(reason, detail);
  }
  void deferred(std::string_view why) override {
    first_->deferred(why);
    second_->deferred(why);
  }
  void redelivered(std::uint64_t deliveries) override {
    first_->redelivered(deliveries);
    second_->redelivered(deliveries);
  }
  void answered(const actors::submit_outcome& outcome) override {
    first_->answered(outcome);
    second_->answered(outcome);
  }
  void taken(std::chrono::nanoseconds since_stored) override {
    first_->taken(since_stored);
    second_->taken(since_stored);
  }
  void decided(std::chrono::nanoseconds since_taken) override {
    first_->decided(since_taken);
    second_->decided(since_taken);
  }
  void failed(std::string_view what) override {
    first_->failed(what);
    second_->failed(what);
  }

 private:
  std::shared_ptr<nats::consumer_probe> first_;
  std::shared_ptr<nats::consumer_probe> second_;
};

class publisher_tee final : public nats::publisher_probe {
 public:
  publisher_tee(std::shared_ptr<nats::publisher_probe> first,
                std::shared_ptr<nats::publisher_probe> second)
      : first_{std::move(first)}, second_{std::move(second)} {
    WALLET_ASSERT(first_ != nullptr && second_ != nullptr);
  }

  void published(std::uint32_t shard, std::size_t events) override {
    first_->published(shard, events);
    second_->published(shard, events);
  }
  void taken(std::uint32_t shard, nats::outbox_source source, std::size_t events) override {
    first_->taken(shard, source, events);
    second_->taken(shard, source, events);
  }
  void failed(std::string_view what) override {
    first_->failed(what);
    second_->failed(what);
  }

 private:
  std::shared_ptr<nats::publisher_probe> first_;
  std::shared_ptr<nats::publisher_probe> second_;
};

class query_tee final : public nats::query_probe {
 public:
  query_tee(std::shared_ptr<nats::query_probe> first, std::shared_ptr<nats::query_probe> second)
      : first_{std::move(first)}, second_{std::move(second)} {
    WALLET_ASSERT(first_ != nullptr && second_ != nullptr);
  }

  void failed(std::string_view what) override {
    first_->failed(what);
    second_->failed(what);
  }

 private:
  std::shared_ptr<nats::query_probe> first_;
  std::shared_ptr<nats::query_probe> second_;
};

}  // namespace wallet::metrics
