// One screening on its own thread: ask the provider, report the answer, end.
#include "screening_worker.hpp"

#include <exception>
#include <utility>

namespace wallet::actors {
namespace {

void screening_worker(caf::event_based_actor* self,
                      const std::shared_ptr<const screening_setup>& setup,
                      const screening_request& request, std::uint64_t id,
                      const wallet_actor& reply_to) {
  screening_answer answer;
  try {
    answer = setup->port->screen(request);
  } catch (const std::exception& e) {
    // A provider should not throw; if it does, it has no verdict, like a provider that is down.
    answer = screening_answer{std::nullopt, std::string("the provider failed: ") + e.what()};
  }
  setup->inflight.fetch_sub(1, std::memory_order_relaxed);
  caf::anon_send(reply_to, screened{id, std::move(answer)});
  self->quit();
}

}  // namespace

void spawn_screening(caf::actor_system& system, std::shared_ptr<const screening_setup> setup,
                     screening_request request, std::uint64_t id, wallet_actor reply_to) {
  system.spawn<caf::detached>(screening_worker, std::move(setup), std::move(request), id,
                              std::move(reply_to));
}

}  // namespace wallet::actors
