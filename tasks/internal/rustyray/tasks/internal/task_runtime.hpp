#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "rustyray/tasks/internal/scheduler.hpp"
#include "rustyray/objstore/internal/store_context.hpp"

namespace rustyray::tasks::internal {

/// The running runtime's task system, as task submission and cancel reach
/// it: the store below it, the scheduler's shared state and actor.
struct task_runtime {
  std::shared_ptr<objstore::internal::store_context> store;
  std::shared_ptr<task_context> tasks;
  caf::actor scheduler;

  [[nodiscard]] objstore::internal::object_table& table() const noexcept {
    return *store->table;
  }

  [[nodiscard]] rustyray::internal::node& node() const noexcept {
    return *store->node;
  }
};

/// The running runtime's task system; throws `runtime_not_initialized`
/// without one.
std::shared_ptr<task_runtime> current_tasks_or_throw();

/// Makes `tasks` the current one (null: none), for `init` and `shutdown`.
void publish_tasks(std::shared_ptr<task_runtime> tasks);

} // namespace rustyray::tasks::internal
