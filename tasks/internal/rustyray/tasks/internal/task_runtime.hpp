#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include <caf/actor.hpp>

#include "rustyray/detail/invoke.hpp"
#include "rustyray/internal/guarded.hpp"
#include "rustyray/internal/placement_state.hpp"
#include "rustyray/internal/resources.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"
#include "rustyray/tasks/internal/task_record.hpp"
#include "rustyray/objstore/internal/store_context.hpp"

namespace rustyray::tasks::internal {

/// The running runtime's task system, as task submission and cancel reach
/// it: the store below it, the scheduler's shared state and actor.
struct task_runtime {
  std::shared_ptr<objstore::internal::store_context> store;
  std::shared_ptr<task_context> tasks;
  caf::actor scheduler;
  /// The pool's resources for actors and placement groups.
  std::shared_ptr<rustyray::internal::resource_broker> resources;
  /// Placement groups not removed yet, by ID: they hold their reservation
  /// until `remove_placement_group` or shutdown, handles or not (as Ray's).
  rustyray::internal::guarded<std::map<object_id, std::shared_ptr<detail::placement_state>>> groups;

  [[nodiscard]] objstore::internal::object_table& table() const noexcept {
    return *store->table;
  }

  [[nodiscard]] rustyray::internal::node& node() const noexcept {
    return *store->node;
  }
};

/// The broker of `runtime`'s resources (it holds `runtime` weakly: the
/// runtime holds it).
std::shared_ptr<rustyray::internal::resource_broker>
make_resource_broker(std::weak_ptr<task_runtime> runtime);

/// Submits `task` (its options, function, body and dependencies set):
/// checks its options, registers its result, places it (`ships`: it may
/// run on another node) and queues it once its dependencies exist. Returns
/// its result's ID, with one reference for the caller.
object_id submit_record(task_runtime& rt, const task_ptr& task, bool ships);

/// Runs a task another node sent: the function registered as `function`
/// on `args` and the objects `refs` (by argument position; another node's
/// are borrowed and fetched), with `options` (the node pin dropped); it
/// runs here, never shipped on, once those objects are here. Each run stores how long the function ran into `run_ns`.
/// Returns its result's ID, with one reference for the caller.
object_id submit_shipped(task_runtime& rt, std::string function, caf::message args,
                         std::vector<detail::arg_ref> refs, task_options options,
                         std::shared_ptr<std::atomic<std::int64_t>> run_ns);

/// The running runtime's task system; throws `runtime_not_initialized`
/// without one.
std::shared_ptr<task_runtime> current_tasks_or_throw();

/// The running runtime's task system, or null.
std::shared_ptr<task_runtime> current_tasks() noexcept;

/// Makes `tasks` the current one (null: none), for `init` and `shutdown`.
void publish_tasks(std::shared_ptr<task_runtime> tasks);

} // namespace rustyray::tasks::internal
