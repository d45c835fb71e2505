#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/actors/internal/actor_vitals.hpp"
#include "rustyray/internal/resources.hpp"

namespace rustyray::actors::internal {

struct actor_runtime;

/// The owner of one actor instance: it builds it from its spec once the
/// factory's arguments exist, runs calls (per caller in submission order, or
/// up to `max_concurrency` at once), restarts it, and on `stop` runs the
/// queued calls, then `on_stop`, then ends. It holds no thread: it runs as a
/// job on the runtime's actor threads (`executor`) while it has something
/// to do, or on a thread of its own with `dedicated_thread`. Every member is
/// safe to call from any thread.
class actor_host {
public:
  /// Queues `call` (its arguments registered and pinned). False if the host
  /// has ended or no thread can run it; `reason` says why, and the call was
  /// not taken.
  bool send(const call_ptr& call, caf::error& reason);

  /// `call`'s arguments exist.
  void ready(const call_ptr& call);

  /// No handle is left: run what is queued, then `on_stop`, then end.
  void stop();

  /// Ends the instance; the calls sent before fail with `actor_died`, later
  /// ones meet the rebuilt instance, or `actor_died` if `no_restart` or no
  /// restart is left.
  void kill(bool no_restart);

  /// Why sends fail once the host ended (none before).
  [[nodiscard]] caf::error closed_reason() const;

  /// The actor as a CAF actor (made on first use): it takes the requests of
  /// `actor_interface`, ends like `kill` on an exit message, and quits when
  /// the actor ends. Invalid once the actor has ended, or if CAF could not
  /// spawn it.
  [[nodiscard]] caf::actor caf_handle();

  /// For the CAF face: it quit with `reason`, so the actor ends now (as
  /// `kill` ends it, for good), unless it ended already.
  void caf_ended(const caf::error& reason);

  /// What `state()` shows about the actor now.
  [[nodiscard]] actor_vitals vitals() const;

protected:
  actor_host() = default;
  ~actor_host() = default;
};

/// Starts the host of a new actor `id`, which holds `request` (empty: no
/// resources) from the node for its lifetime. Fails with `system_error` if
/// no thread can run it (the process ran out of threads); nothing is left
/// behind then.
caf::expected<std::shared_ptr<actor_host>>
start_actor_host(std::shared_ptr<actor_runtime> rt, const object_id& id, detail::actor_spec spec,
                 rustyray::internal::resource_amounts request);

/// Whether the calling thread runs an actor's method (or its factory,
/// on_start or on_stop) now.
bool in_actor() noexcept;

/// What a call gets that reaches an actor after its host quit.
caf::error stopped_error(const std::string& actor);

} // namespace rustyray::actors::internal
