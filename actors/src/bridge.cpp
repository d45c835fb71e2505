#include "rustyray/actors/internal/bridge.hpp"

#include <caf/all.hpp>

namespace rustyray::actors::internal {

namespace {

caf::behavior bridge(caf::event_based_actor* self) {
  return {
    [=](bridge_job& job) { job(self); },
  };
}

} // namespace

caf::actor spawn_bridge(caf::actor_system& sys) {
  return sys.spawn<caf::hidden>(bridge);
}

} // namespace rustyray::actors::internal
