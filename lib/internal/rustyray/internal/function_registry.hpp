#pragma once

#include <string>
#include <vector>

namespace rustyray::internal {

/// Throws `invalid_argument` naming every function that `RUSTYRAY_REMOTE`
/// registered twice; `init` calls it.
void check_remote_registrations();

/// Every name `RUSTYRAY_REMOTE` registered, sorted (the nodes of a cluster
/// compare them when one joins).
std::vector<std::string> remote_names();

} // namespace rustyray::internal
