// The thread an AML screening runs on (ADR 0007): a detached actor per screening, so a provider
// that blocks on the network never holds a CAF worker; bounded by screening_setup::inflight_max.
#pragma once

#include <cstdint>
#include <memory>

#include "wallet/actors/messages.hpp"
#include "wallet/actors/screening.hpp"

namespace wallet::actors {

// Asks setup->port to screen `request` on a detached actor of its own, which sends `screened`
// with `id` to `reply_to` and ends. The caller has counted it in setup->inflight; the worker
// uncounts it when the provider returns.
void spawn_screening(caf::actor_system& system, std::shared_ptr<const screening_setup> setup,
                     screening_request request, std::uint64_t id, wallet_actor reply_to);

}  // namespace wallet::actors
