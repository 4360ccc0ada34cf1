// The runtime's failures and state changes as log lines (metrics arrive with the metrics adapter).
#pragma once

#include "wallet/actors/probe.hpp"
#include "wallet/logging/log.hpp"

namespace wallet::app {

class log_probe final : public actors::runtime_probe {
 public:
  explicit log_probe(logging::logger log) : log_(std::move(log)) {}

  void batch_failed(std::uint32_t shard, std::size_t writes,
                    const actors::store_error& error) override {
    log_.error("batch commit failed", {{"shard", shard},
                                       {"writes", writes},
                                       {"error", actors::to_string(error.code)},
                                       {"detail", error.detail}});
  }
  void circuit_changed(std::uint32_t shard, actors::circuit_state state) override {
    log_.warn("database circuit changed", {{"shard", shard}, {"state", actors::to_string(state)}});
  }
  void wallet_load_failed(std::uint32_t shard, const actors::store_error& error) override {
    log_.error(
        "wallet load failed",
        {{"shard", shard}, {"error", actors::to_string(error.code)}, {"detail", error.detail}});
  }
  void wallet_gave_up(std::uint32_t shard, const actors::store_error& error) override {
    log_.error(
        "wallet actor stopped after repeated failed commits",
        {{"shard", shard}, {"error", actors::to_string(error.code)}, {"detail", error.detail}});
  }
  void actor_failed(std::string_view kind, std::uint32_t shard, std::string_view reason) override {
    log_.error("runtime actor died", {{"kind", kind}, {"shard", shard}, {"reason", reason}});
  }
  void saga_leg_failed(std::string_view transfer_id, std::string_view why) override {
    log_.warn("transfer leg will be retried", {{"transfer_id", transfer_id}, {"why", why}});
  }
  void aml_review(std::string_view event, std::string_view wallet_id,
                  std::string_view review_id) override {
    log_.info("AML review", {{"event", event}, {"wallet_id", wallet_id}, {"review_id", review_id}});
  }
  void key_lookup(std::uint32_t shard, std::string_view outcome,
                  const actors::store_error* error) override {
    if (error != nullptr) {
      log_.error("idempotency key lookup failed; the command was answered unavailable",
                 {{"shard", shard},
                  {"outcome", outcome},
                  {"error", actors::to_string(error->code)},
                  {"detail", error->detail}});
    }
  }
  void scan_failed(std::uint32_t shard, const actors::store_error& error) override {
    log_.error(
        "recovery scan failed",
        {{"shard", shard}, {"error", actors::to_string(error.code)}, {"detail", error.detail}});
  }

 private:
  logging::logger log_;
};

}  // namespace wallet::app
