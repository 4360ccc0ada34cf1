// Compiled by CTest, not linked: a misspelt setting name, or one of the wrong kind, must not
// compile (config_key_* tests). Without a WALLET_* macro it is the control that must compile.
#include "wallet/config/config.hpp"

int main() {
  const wallet::config::config cfg;
#if defined(WALLET_MISSPELT_NAME)
  return static_cast<int>(cfg.integer("store.batch_sise_max"));
#elif defined(WALLET_WRONG_KIND)
  return static_cast<int>(cfg.integer("log.level"));
#elif defined(WALLET_NOT_A_DURATION)
  return static_cast<int>(cfg.duration("http.port").count());
#else
  return static_cast<int>(cfg.integer("store.batch_size_max") - 512);
#endif
}
