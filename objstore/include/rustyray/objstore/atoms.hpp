#pragma once

#include <caf/atom.hpp>

/// The message protocol of the object store actor (objstore/src/store_actor.hpp
/// lists the handlers). Atoms carry a prefix so they never collide with CAF's.
namespace rustyray::objstore {

using get_atom = caf::atom_constant<caf::atom("rr_get")>;
using contains_atom = caf::atom_constant<caf::atom("rr_has")>;
using pin_atom = caf::atom_constant<caf::atom("rr_pin")>;
using unpin_atom = caf::atom_constant<caf::atom("rr_unpin")>;
using free_atom = caf::atom_constant<caf::atom("rr_free")>;
using stats_atom = caf::atom_constant<caf::atom("rr_stats")>;

} // namespace rustyray::objstore
