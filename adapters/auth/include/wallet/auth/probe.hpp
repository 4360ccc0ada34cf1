// What the authentication adapter reports for metrics: one call per token checked and per key-set
// fetch. The metrics adapter implements it; every method defaults to doing nothing.
#pragma once

#include <cstddef>

#include "wallet/auth/auth.hpp"

namespace wallet::auth {

class auth_probe {
 public:
  auth_probe() = default;
  auth_probe(const auth_probe&) = delete;
  auth_probe& operator=(const auth_probe&) = delete;
  auth_probe(auth_probe&&) = delete;
  auth_probe& operator=(auth_probe&&) = delete;
  virtual ~auth_probe() = default;

  virtual void accepted() {}
  virtual void rejected(auth_errc /*why*/) {}
  // A key set was fetched and installed; `keys` usable keys.
  virtual void keys_loaded(std::size_t /*keys*/) {}
  // A fetch or parse failed; the previous set (if any) stays in use.
  virtual void keys_refresh_failed() {}
  // A token named an unknown key but the last fetch was too recent to fetch again.
  virtual void keys_refresh_throttled() {}
};

}  // namespace wallet::auth
