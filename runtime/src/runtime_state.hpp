#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "rustyray/actors/internal/actor_runtime.hpp"
#include "rustyray/cluster/internal/membership.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/objstore/internal/store_context.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"

namespace rustyray::internal {

/// Everything one runtime (one `init` ... `shutdown`) owns: the composition
/// root. Each layer sees only its own context (the store's, the task
/// system's, the actors'), which `init` publishes.
struct runtime_state {
  // Declared first so that it is destroyed after the contexts and their
  // actor handles.
  std::unique_ptr<caf::actor_system_config> own_config;
  std::unique_ptr<caf::actor_system> own_system;

  std::shared_ptr<internal::node> node;
  std::shared_ptr<objstore::internal::store_context> store;
  std::shared_ptr<rustyray::tasks::internal::task_runtime> tasks;
  std::shared_ptr<rustyray::actors::internal::actor_runtime> actors;
  /// The cluster side (null: a single node).
  std::shared_ptr<rustyray::cluster::internal::cluster_runtime> cluster;

  [[nodiscard]] caf::actor_system& system() const noexcept {
    return node->system();
  }

  [[nodiscard]] objstore::internal::object_table& table() const noexcept {
    return *store->table;
  }
};

/// The running runtime, or null. Callers keep the pointer only for the call.
std::shared_ptr<runtime_state> current() noexcept;

/// The running runtime; throws `runtime_not_initialized` without one.
std::shared_ptr<runtime_state> current_or_throw();

} // namespace rustyray::internal
