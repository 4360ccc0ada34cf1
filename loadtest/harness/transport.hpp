// How wallet-loadtest reaches a wallet service: NATS JetStream (walletd), HTTP (walletd's /v1
// API) or the naive SQL baseline. A transport sends a command and reports its answer once, in the
// terms of docs/wire.md (ledger.hpp's `answer`), on any thread it likes.
#pragma once

#include <cstdint>
#include <string>

#include "ledger.hpp"
#include "workload.hpp"

namespace wallet::loadtest {

// Where answers go. Called on transport threads, concurrently; must not block for long.
class answer_sink {
 public:
  answer_sink() = default;
  answer_sink(const answer_sink&) = delete;
  answer_sink& operator=(const answer_sink&) = delete;
  answer_sink(answer_sink&&) = delete;
  answer_sink& operator=(answer_sink&&) = delete;
  virtual ~answer_sink() = default;
  virtual void answered(std::uint64_t token, const answer& a) = 0;
};

class transport {
 public:
  transport() = default;
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;
  transport(transport&&) = delete;
  transport& operator=(transport&&) = delete;
  virtual ~transport() = default;

  [[nodiscard]] virtual std::string name() const = 0;
  // Sends `c` (rendered with `names`); its answer reaches the sink with `token` exactly once, or
  // never when the service never answers (the driver's timeout covers that). May block briefly
  // when the transport's own bound of commands in flight is reached.
  virtual void send(const command& c, const naming& names, std::uint64_t token) = 0;
  // Versions of what the transport talks to, for the report ("nats-server 2.9.10", ...).
  [[nodiscard]] virtual std::string describe() const = 0;
  // The one right answer to a command with this defect through this transport.
  [[nodiscard]] virtual expected_answer expected(defect d) const { return expected_for(d); }
};

}  // namespace wallet::loadtest
