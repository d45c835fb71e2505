#pragma once

#include <memory>

#include <caf/fwd.hpp>

namespace rustyray::objstore::internal {

class object_table;

/// Spawns the object store actor, the CAF face of `table`: what actors (and,
/// later, other nodes) use instead of the in-process fast path. Objects are
/// created through the table (put, task results); the actor answers
///
/// | request                                  | reply                         |
/// |------------------------------------------|-------------------------------|
/// | `get_atom, object_id`                    | `stored_object` when ready    |
/// | `contains_atom, object_id`               | `bool`                        |
/// | `pin_atom` / `unpin_atom, object_id`     | `unit`, or the error          |
/// | `free_atom, object_id`                   | `unit`                        |
/// | `stats_atom`                             | `store_stats`                 |
///
/// A get for a pending object is answered through a response promise when the
/// object resolves: no polling, no thread parked. Failures are `caf::error`s
/// of category `rustyray`. The actor quits on any exit message.
caf::actor spawn_store_actor(caf::actor_system& sys, std::shared_ptr<object_table> table);

} // namespace rustyray::objstore::internal
