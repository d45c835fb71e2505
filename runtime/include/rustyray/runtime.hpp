#pragma once

#include "rustyray/config.hpp"

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace rustyray {

/// Starts the global runtime with an actor system of its own, configured by
/// the defaults and the `RUSTYRAY_<FIELD>` environment variables
/// (`config::from_env()`). Throws `error` with code `already_initialized` if
/// a runtime is up, `invalid_config` naming a variable with a bad value.
///
/// ~~~
/// rustyray::init();
/// auto ref = rustyray::put(42);
/// rustyray::shutdown();
/// ~~~
void init();

/// As `init()`, with `cfg` exactly as given (`invalid_config` if a field is
/// out of range).
void init(config cfg);

/// Starts the global runtime inside a CAF application's own actor system,
/// configured as `init()` is. The application must have called `configure`
/// on the system's config before creating the system. The system must
/// outlive `shutdown()`.
void init(caf::actor_system& system);

/// As `init(system)`, with `cfg` exactly as given.
void init(caf::actor_system& system, config cfg);

/// Registers RustyRay's message types and error category in a CAF
/// application's config; call it before constructing the `actor_system`.
void configure(caf::actor_system_config& cfg);

/// Stops the runtime: refuses new work, wakes every waiting `get` with
/// `runtime_not_initialized`, stops RustyRay's actors and, for a runtime
/// started by `init(config)`, its actor system. Without a runtime: no-op.
/// Throws `invalid_argument` inside a task or an actor method (it would wait
/// for the very call that runs it). A process that exits without it, or an
/// application's actor system destroyed without it, shuts the runtime down
/// then.
void shutdown();

/// Whether a runtime is up.
[[nodiscard]] bool is_initialized() noexcept;

/// Starts the runtime (the constructor's arguments are `init`'s) and shuts
/// it down when the guard goes out of scope, also on an exception or an
/// early return.
///
/// ~~~
/// int main() {
///   rustyray::runtime_guard runtime;
///   std::cout << rustyray::task(plus1).remote(1).get() << "\n";
/// }
/// ~~~
class runtime_guard {
public:
  runtime_guard();
  explicit runtime_guard(config cfg);
  explicit runtime_guard(caf::actor_system& system);
  runtime_guard(caf::actor_system& system, config cfg);
  ~runtime_guard();
  runtime_guard(const runtime_guard&) = delete;
  runtime_guard& operator=(const runtime_guard&) = delete;
};

} // namespace rustyray
