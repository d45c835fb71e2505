#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "task_record.hpp"

namespace rustyray::objstore {
class object_table;
}

namespace rustyray::internal {

/// Asks the scheduler to stop: queued tasks fail, running ones finish, workers
/// stop; the reply comes when all that is done.
using drain_atom = caf::atom_constant<caf::atom("rr_drain")>;

/// The tasks of one runtime that have not finished: the scheduler actor, the
/// resource totals, and the records by result ID (for `cancel`).
class task_registry {
public:
  task_registry(std::size_t num_workers, resource_amounts total)
    : num_workers(num_workers), total(std::move(total)) {
  }

  const std::size_t num_workers;
  const resource_amounts total;

  void add(const task_ptr& task);
  task_ptr find(const object_id& result) const;
  void remove(const object_id& result);
  /// Every record still registered (for shutdown).
  std::vector<task_ptr> all() const;

private:
  mutable std::mutex mtx_;
  std::unordered_map<object_id, task_ptr> tasks_; // guarded by mtx_
};

/// Spawns the scheduler: it queues ready tasks, dispatches them to a pool of
/// detached worker actors within the resource totals, lends an extra worker
/// while a task blocks in `get`, and on `drain_atom` (shutdown) fails the
/// queued tasks, lets the running ones finish and stops the workers.
caf::actor spawn_scheduler(caf::actor_system& sys, std::shared_ptr<objstore::object_table> table,
                           std::shared_ptr<task_registry> registry);

/// Marks a task that will not run (cancelled, shut down, unschedulable) as
/// done: stores `reason` in its result and releases what it held.
void fail_task(objstore::object_table& table, task_registry& registry, const task_ptr& task,
               caf::error reason);

} // namespace rustyray::internal
