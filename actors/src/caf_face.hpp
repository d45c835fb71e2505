#pragma once

#include <memory>
#include <typeinfo>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "rustyray/object_id.hpp"

namespace rustyray::actors::internal {

class actor_host;

/// To a CAF face: the answer (a `caf::message`, or a `caf::error`) to the
/// request it numbered `key` (a `std::uint64_t`).
using answer_atom = caf::atom_constant<caf::atom("rr_answer")>;
/// To a CAF face: the actor ended with this `caf::error` (none: normally).
using end_atom = caf::atom_constant<caf::atom("rr_end")>;

/// Spawns the CAF actor that stands for actor `id` (of class `cls`, run by
/// `host`) in plain CAF code: it turns `actor_interface` requests into calls
/// and their answers into replies, ends the actor on an exit message (as
/// `kill` does, for good), and quits when told the actor ended.
caf::actor spawn_caf_face(caf::actor_system& sys, std::shared_ptr<actor_host> host,
                          const object_id& id, const std::type_info& cls);

} // namespace rustyray::actors::internal
