#pragma once

#include <functional>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

namespace rustyray::actors::internal {

/// A job for the bridge actor (local only: it never leaves the process).
using bridge_job = std::function<void(caf::event_based_actor*)>;

/// Spawns the bridge: an event-based actor that sends requests to CAF actors
/// of the application on behalf of threads and tasks (`wrap(...).ask`), and
/// turns the replies into objects, without blocking anyone.
caf::actor spawn_bridge(caf::actor_system& sys);

} // namespace rustyray::actors::internal

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::actors::internal::bridge_job)
