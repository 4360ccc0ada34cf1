// The naive baseline as a transport: the same commands, each one SQL transaction on its own
// PostgreSQL connection (a pool of them), over the tables of baselines/naive_tables.sql. What a
// team would write instead of wallet-engine; baseline mode measures the same workload against it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ledger.hpp"
#include "transport.hpp"

namespace wallet::loadtest {

struct naive_target {
  std::string url;  // libpq URL of the baseline's own database
  std::size_t connections = 32;
};

class naive_transport final : public transport {
 public:
  // Opens the connections and prepares the statements; throws harness_error when it cannot.
  naive_transport(naive_target target, answer_sink& sink);
  ~naive_transport() override;
  naive_transport(const naive_transport&) = delete;
  naive_transport& operator=(const naive_transport&) = delete;
  naive_transport(naive_transport&&) = delete;
  naive_transport& operator=(naive_transport&&) = delete;

  [[nodiscard]] std::string name() const override { return "naive"; }
  void send(const command& c, const naming& names, std::uint64_t token) override;
  [[nodiscard]] std::string describe() const override;

  // Drops and recreates the baseline's tables (empty).
  static void recreate_tables(const std::string& url);
  // The wallets 1..n as the baseline stores them (no versions, no overdraft).
  [[nodiscard]] static std::vector<wallet_row> read_wallets(const std::string& url,
                                                            std::uint32_t wallets);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace wallet::loadtest
