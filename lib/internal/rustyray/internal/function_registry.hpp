#pragma once

namespace rustyray::internal {

/// Throws `invalid_argument` naming every function that `RUSTYRAY_REMOTE`
/// registered twice; `init` calls it.
void check_remote_registrations();

} // namespace rustyray::internal
