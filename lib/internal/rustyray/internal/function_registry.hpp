#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

namespace rustyray::internal {

/// Throws `invalid_argument` naming every function that `RUSTYRAY_REMOTE`
/// registered twice; `init` calls it.
void check_remote_registrations();

/// Every name `RUSTYRAY_REMOTE` registered, sorted (the nodes of a cluster
/// compare them when one joins).
std::vector<std::string> remote_names();

/// Announces to `cfg` the types that registered functions take and return
/// (CAF ships only announced types between nodes); `configure` calls it.
void add_remote_types(caf::actor_system_config& cfg);

} // namespace rustyray::internal
