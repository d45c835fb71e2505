#pragma once

#include <memory>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/actors/internal/actor_directory.hpp"
#include "rustyray/actors/internal/actor_vitals.hpp"

namespace rustyray::internal {
class recorder;
}

namespace rustyray::actors::internal {

/// The host's protocol besides a `call_ptr` (a new call) and
/// `actor_interface`'s `call_atom`.
using ready_atom = caf::atom_constant<caf::atom("rr_ready")>;
using stop_atom = caf::atom_constant<caf::atom("rr_stop")>;
using kill_atom = caf::atom_constant<caf::atom("rr_kill")>;
/// New calls wait in the actor's `call_inbox`.
using inbox_atom = caf::atom_constant<caf::atom("rr_inbox")>;

/// Spawns the detached CAF actor that owns one instance: it builds it from
/// `spec` once the factory's arguments exist, runs calls (per caller in
/// submission order), restarts it, and on `stop_atom` runs the queued calls,
/// then `on_stop`, then quits. Its own thread: methods may block in `get`.
/// It keeps `vitals` current and records its calls in `recording`.
caf::actor spawn_actor_host(caf::actor_system& sys,
                            std::shared_ptr<objstore::internal::object_table> table,
                            std::shared_ptr<actor_directory> directory, const object_id& id,
                            detail::actor_spec spec, std::shared_ptr<call_inbox> inbox,
                            std::shared_ptr<actor_vitals> vitals,
                            std::shared_ptr<rustyray::internal::recorder> recording);

/// Whether the calling thread runs an actor's method (or its factory,
/// on_start or on_stop) now.
bool in_actor() noexcept;

/// What a call gets that reaches an actor after its host quit.
caf::error stopped_error(const std::string& actor);

} // namespace rustyray::actors::internal
