#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/error.hpp>

#include "rustyray/internal/adaptive_mutex.hpp"
#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/actors/internal/actor_host.hpp"
#include "rustyray/actors/internal/actor_vitals.hpp"

namespace rustyray::actors::internal {

/// The actors of one runtime: by ID (for handles loaded from bytes and for
/// shutdown) and by name (named actors live on without handles).
class actor_directory {
public:
  /// `name_taken` if `name` belongs to a live actor (checked before spawning;
  /// `add` checks again under the same lock it inserts with).
  [[nodiscard]] caf::error check_name(const std::string& name) const;

  /// Adds a new actor; `name_taken` if its name belongs to a live actor.
  caf::error add(const std::shared_ptr<detail::actor_core>& core, std::shared_ptr<actor_host> host,
                 std::shared_ptr<const actor_vitals> vitals);

  /// The live actor with this ID, or null.
  [[nodiscard]] std::shared_ptr<detail::actor_core> find(const object_id& id) const;

  /// The actor of this name, or null.
  [[nodiscard]] std::shared_ptr<detail::actor_core> find_name(const std::string& name) const;

  /// The actor died for good (kill, no restarts left): its name is free.
  void release_name(const object_id& id);

  /// The host ended: its handles detach from it, and their calls fail with
  /// `reason`.
  void remove(const object_id& id, const caf::error& reason);

  /// Every host still running.
  [[nodiscard]] std::vector<std::shared_ptr<actor_host>> hosts() const;

  /// Shutdown: forgets every actor; handles still held detach from CAF.
  void clear();

  /// Every actor whose host still runs, with its vitals (for `state()`).
  [[nodiscard]] std::vector<std::pair<object_id, std::shared_ptr<const actor_vitals>>>
  vitals() const;

private:
  struct entry {
    std::weak_ptr<detail::actor_core> core;
    std::shared_ptr<actor_host> host;
    std::string name;
    std::shared_ptr<const actor_vitals> vitals;
  };

  /// Hosts on the actor threads remove entries while a user thread adds
  /// them: short sections, so a waiter spins before it sleeps.
  mutable rustyray::internal::adaptive_mutex mtx_;
  std::unordered_map<object_id, entry> by_id_;                                   // guarded
  std::unordered_map<std::string, std::shared_ptr<detail::actor_core>> by_name_; // guarded
};

} // namespace rustyray::actors::internal
