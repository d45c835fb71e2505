#include "rustyray/actors/internal/actor_runtime.hpp"

#include "rustyray/internal/published.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

published<actor_runtime>& actor_slot = *new published<actor_runtime>; // never destroyed

} // namespace

std::shared_ptr<actor_runtime> current_actors() noexcept {
  return actor_slot.get();
}

std::shared_ptr<actor_runtime> current_actors_or_throw() {
  return actor_slot.get_or_throw();
}

void publish_actors(std::shared_ptr<actor_runtime> actors) {
  actor_slot.publish(std::move(actors));
}

} // namespace rustyray::actors::internal
