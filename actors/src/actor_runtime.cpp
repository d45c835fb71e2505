#include "rustyray/actors/internal/actor_runtime.hpp"

#include "rustyray/internal/published.hpp"
#include "rustyray/error.hpp"

namespace rustyray::internal {

namespace {

published<actor_runtime>& actor_slot = *new published<actor_runtime>; // never destroyed

} // namespace

std::shared_ptr<actor_runtime> current_actors() noexcept {
  return actor_slot.get();
}

std::shared_ptr<actor_runtime> current_actors_or_throw() {
  if (auto actors = actor_slot.get())
    return actors;
  throw error{errc::runtime_not_initialized,
              "no RustyRay runtime is running in this process; call rustyray::init() first"};
}

void publish_actors(std::shared_ptr<actor_runtime> actors) {
  actor_slot.publish(std::move(actors));
}

} // namespace rustyray::internal
