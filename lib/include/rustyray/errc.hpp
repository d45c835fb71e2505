#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace rustyray {

/// Every way a RustyRay call can fail. The values travel inside CAF messages
/// as `caf::error`s of category `rustyray` (registered by `configure`), so a
/// failure crosses actor and process boundaries like any CAF error.
/// Value 0 is reserved: CAF treats a code of 0 as "no error".
enum class errc : std::uint8_t {
  /// A RustyRay call ran without a runtime: call `rustyray::init()` first.
  runtime_not_initialized = 1,
  /// `init` ran while a runtime was already up: call `shutdown()` first.
  already_initialized,
  /// The object was evicted, freed, or never existed in this store.
  object_lost,
  /// The object does not fit: larger than the capacity, or the rest is pinned.
  object_store_full,
  /// A task (or actor method) threw; thrown to users as `task_error`.
  task_failed,
  /// The task was cancelled before it ran.
  task_cancelled,
  /// The actor that should run a call is dead.
  actor_died,
  /// A wait ran past its deadline, or a task past its `.timeout(d)`.
  timeout,
  /// The stored object's type is not the type asked for.
  type_mismatch,
  /// A function name is not registered in this process.
  function_not_registered,
  /// The node owning an object or running a task is gone.
  node_lost,
  /// A configuration key is unknown or has the wrong type or value.
  invalid_config,
  /// An argument is out of range (zero counts, negative timeouts, duplicates).
  invalid_argument,
  /// A task asks for resources that no node will ever have.
  task_unschedulable,
  /// CAF itself reported an error that has no RustyRay meaning; the message
  /// carries CAF's rendering of it.
  system_error,
  /// An actor was started with a name another live actor has: pick another
  /// name, or `get_actor` the existing one.
  name_taken,
  /// The worker running a task died (not the task's exception: a crash of the
  /// worker actor itself); retried while `max_retries` allows.
  worker_died,
  /// A cluster refused this node or driver: a wrong cluster token, another
  /// RustyRay version, or another set of registered functions (the message
  /// names the difference).
  join_refused,
};

/// The enumerator's name, e.g. `"object_lost"`.
std::string to_string(errc code);

/// The last enumerator, for code that iterates over every `errc`.
constexpr errc last_errc = errc::join_refused;

/// The CAF error category of `errc` values.
constexpr caf::atom_value errc_category = caf::atom("rustyray");

/// A `caf::error` carrying `code` and `message` (the text says what happened
/// and what to do), ready to travel in a CAF message.
caf::error make_error(errc code, std::string message);

/// Lets CAF convert a bare `errc` into a `caf::error`.
caf::error make_error(errc code);

/// The `errc` that a `caf::error` (from `try_get`, `get_async` or a CAF
/// reply) stands for, the code `get` would throw: a RustyRay error's own;
/// `timeout` for CAF's `request_timeout`; `actor_died` for
/// `request_receiver_down`; `system_error` for any other error.
///
/// ~~~
/// auto v = rustyray::try_get(ref);
/// if (!v && rustyray::errc_of(v.error()) == rustyray::errc::object_lost) { ... }
/// ~~~
[[nodiscard]] errc errc_of(const caf::error& err);

/// The text of a `caf::error`, as `rustyray::error::what()` reads for the
/// same failure: `"<code>: <message>"` (`"no error"` for an empty one).
/// Needs no `actor_system`, unlike CAF's `actor_system::render`. (Not named
/// `to_string`: with `using namespace rustyray`, a call would be ambiguous
/// with `caf::to_string`, which argument-dependent lookup finds.)
[[nodiscard]] std::string describe(const caf::error& err);

} // namespace rustyray
