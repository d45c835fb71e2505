#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "rustyray/actors/internal/actor_directory.hpp"
#include "rustyray/internal/executor.hpp"
#include "rustyray/internal/resources.hpp"
#include "rustyray/objstore/internal/store_context.hpp"

namespace rustyray::actors::internal {

class remote_actors;

/// The running runtime's actors, as the actor API reaches them: the store
/// below them, the directory of live actors and names, the threads their
/// calls run on, and the bridge that sends requests to the application's
/// CAF actors.
struct actor_runtime {
  std::shared_ptr<objstore::internal::store_context> store;
  std::shared_ptr<actor_directory> actors;
  std::shared_ptr<rustyray::internal::executor> threads;
  /// The node's resources, which actors with `num_cpus` or `resources`
  /// hold for their lifetime (the task scheduler accounts them).
  std::shared_ptr<rustyray::internal::resource_broker> resources;
  caf::actor bridge;
  /// The actors other nodes host, in a cluster (set before the runtime is
  /// published); null for a single node.
  std::shared_ptr<remote_actors> remote;

  [[nodiscard]] objstore::internal::object_table& table() const noexcept {
    return *store->table;
  }

  [[nodiscard]] rustyray::internal::node& node() const noexcept {
    return *store->node;
  }
};

/// The running runtime's actors, or null.
std::shared_ptr<actor_runtime> current_actors() noexcept;

/// The running runtime's actors; throws `runtime_not_initialized` without
/// one.
std::shared_ptr<actor_runtime> current_actors_or_throw();

/// Makes `actors` the current one (null: none), for `init` and `shutdown`.
void publish_actors(std::shared_ptr<actor_runtime> actors);

} // namespace rustyray::actors::internal
