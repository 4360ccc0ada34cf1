// What the runtime reports about itself: app/ plugs in logs and metrics; logic stays free of both.
// Called concurrently from actor threads: implementations must be thread-safe and quick.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wallet/actors/circuit_breaker.hpp"
#include "wallet/actors/outcome.hpp"
#include "wallet/actors/store_port.hpp"

namespace wallet::actors {

class runtime_probe {
 public:
  runtime_probe() = default;
  runtime_probe(const runtime_probe&) = delete;
  runtime_probe& operator=(const runtime_probe&) = delete;
  runtime_probe(runtime_probe&&) = delete;
  runtime_probe& operator=(runtime_probe&&) = delete;
  virtual ~runtime_probe() = default;

  virtual void batch_committed(std::uint32_t /*shard*/, std::size_t /*writes*/,
                               std::chrono::microseconds /*latency*/) {}
  // A write's wait from its wallet's send to the start of its batch's commit (the store's mailbox
  // and queue, the commit ahead of it).
  virtual void write_waited(std::uint32_t /*shard*/, std::chrono::microseconds /*waited*/) {}
  virtual void batch_failed(std::uint32_t /*shard*/, std::size_t /*writes*/,
                            const store_error& /*error*/) {}
  virtual void circuit_changed(std::uint32_t /*shard*/, circuit_state /*state*/) {}
  virtual void command_answered(std::string_view /*command*/, const submit_outcome& /*outcome*/) {}
  virtual void wallet_load_failed(std::uint32_t /*shard*/, const store_error& /*error*/) {}
  // A wallet actor spent its restart budget and stopped (the next command starts a fresh one).
  virtual void wallet_gave_up(std::uint32_t /*shard*/, const store_error& /*last_error*/) {}
  // A shard's store, router or saga actor died: the runtime cannot go on (walletd exits).
  virtual void actor_failed(std::string_view /*kind*/, std::uint32_t /*shard*/,
                            std::string_view /*reason*/) {}
  virtual void wallets_resident(std::uint32_t /*shard*/, std::size_t /*count*/) {}
  // Resident wallets kept as state by the router, without an actor (ADR 0010).
  virtual void wallets_dormant(std::uint32_t /*shard*/, std::size_t /*count*/) {}
  virtual void saga_leg_failed(std::string_view /*transfer_id*/, std::string_view /*why*/) {}
  virtual void scan_failed(std::uint32_t /*shard*/, const store_error& /*error*/) {}
  // Idempotency records that left a wallet's resident window for its evicted-key filter (ADR 0017).
  virtual void keys_evicted(std::uint32_t /*shard*/, std::size_t /*count*/) {}
  // A store lookup of a key the evicted-key filter may hold (ADR 0017): `found` (a repeat,
  // answered its original outcome), `absent` (a new command; the filter's false positive), or
  // `failed` (`error` set; the command was answered unavailable).
  virtual void key_lookup(std::uint32_t /*shard*/, std::string_view /*outcome*/,
                          const store_error* /*error*/) {}
  // An AML review committed (ADR 0009): "opened", or its end: "approved", "rejected", "expired".
  virtual void aml_review(std::string_view /*event*/, std::string_view /*wallet_id*/,
                          std::string_view /*review_id*/) {}
};

}  // namespace wallet::actors
