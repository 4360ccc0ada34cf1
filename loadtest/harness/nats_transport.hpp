// walletd over NATS (docs/nats.md): commands published through JetStream on <prefix>.cmd.<wallet>
// with Wallet-Reply-To, outcomes taken from the replies; and the event stream followed through an
// ordered JetStream consumer (no gaps, flow controlled) for the verify phase.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ledger.hpp"
#include "transport.hpp"

namespace wallet::loadtest {

// A setup failure of the harness (no server, no stream, a bad option): the run cannot start.
struct harness_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct nats_target {
  std::string url = "nats://127.0.0.1:54222";
  std::string prefix = "wallet";
  std::string credentials_file;
  // JetStream publishes awaiting the stream's acknowledgement; past it a send waits.
  std::int64_t publishes_pending_max = 65'536;
};

class nats_transport final : public transport {
 public:
  // Connects (three connections: publishes, replies, and none shared with the event watch).
  // Throws harness_error when the server cannot be reached within `connect_timeout_s`.
  nats_transport(nats_target target, answer_sink& sink, double connect_timeout_s = 10);
  ~nats_transport() override;
  nats_transport(const nats_transport&) = delete;
  nats_transport& operator=(const nats_transport&) = delete;
  nats_transport(nats_transport&&) = delete;
  nats_transport& operator=(nats_transport&&) = delete;

  [[nodiscard]] std::string name() const override { return "nats"; }
  void send(const command& c, const naming& names, std::uint64_t token) override;
  [[nodiscard]] std::string describe() const override;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// Follows <prefix>.evt.* from now on and folds what it sees. Events of wallets this run did not
// name are counted and otherwise ignored.
class nats_event_watch {
 public:
  struct hooks {
    event_fold* fold = nullptr;
    duplicate_tracker* duplicates = nullptr;
    // A transfer of this run was credited (its command id).
    std::function<void(std::uint64_t id)> credited;
  };
  nats_event_watch(const nats_target& target, naming names, hooks h, double connect_timeout_s = 10);
  ~nats_event_watch();
  nats_event_watch(const nats_event_watch&) = delete;
  nats_event_watch& operator=(const nats_event_watch&) = delete;
  nats_event_watch(nats_event_watch&&) = delete;
  nats_event_watch& operator=(nats_event_watch&&) = delete;

  // When the last event arrived (steady clock ns, 0: none yet).
  [[nodiscard]] std::int64_t last_event_ns() const noexcept;
  [[nodiscard]] std::uint64_t unreadable() const noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// Deletes JetStream streams by name (a bench script's clean-up of a run's own walletd streams).
// Returns the names it could not delete, with why.
[[nodiscard]] std::string delete_streams(const nats_target& target, std::string_view names);

}  // namespace wallet::loadtest
