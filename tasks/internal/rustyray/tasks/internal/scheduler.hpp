#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "rustyray/internal/deadline_timer.hpp"
#include "rustyray/internal/guarded.hpp"
#include "rustyray/tasks/internal/task_record.hpp"

namespace rustyray::objstore::internal {
class object_table;
}

namespace rustyray::internal {
class recorder;
}

namespace rustyray::tasks::internal {

/// Asks the scheduler to stop: queued tasks fail, running ones finish, workers
/// stop; the reply comes when all that is done.
using drain_atom = caf::atom_constant<caf::atom("rr_drain")>;

/// The scheduler's view of its workers and resources at one moment.
struct scheduler_snapshot {
  /// Worker actors running now (they start on demand).
  std::size_t started = 0;
  std::size_t idle = 0;
  /// Workers holding tasks, including those blocked in get.
  std::size_t busy = 0;
  /// Busy workers whose task waits in get (their CPU is lent to others).
  std::size_t blocked = 0;
  /// Workers still running a function whose task timed out: no longer
  /// counted against the limit, stopped once the function returns.
  std::size_t timed_out = 0;
  resource_amounts total;
  resource_amounts available;
};

class task_offload;

/// The scheduler's queue, workers and resources (defined in scheduler.cpp).
struct pool_state;

/// What the scheduler, its workers and task submission share: the limits,
/// whether shutdown is draining, and the pool under its lock. (Records of
/// pending tasks are found through their result objects:
/// `object_table::producer_of`.)
class task_context {
public:
  task_context(std::size_t num_workers, resource_amounts total,
               std::shared_ptr<rustyray::internal::recorder> recording);
  ~task_context();

  const std::size_t num_workers;
  /// The node's resources as configured (placement groups add theirs
  /// under the pool's lock: `pool_state::total`).
  const resource_amounts total;
  /// Where workers record the runs of tasks.
  const std::shared_ptr<rustyray::internal::recorder> recording;
  /// Set when shutdown drains (under the pool's lock): tasks not started
  /// yet fail instead of running. Workers also read it between tasks.
  std::atomic<bool> draining{false};
  /// Deadlines of running tasks with a timeout (its thread starts with the
  /// first such task); stopped by shutdown once the workers are gone.
  rustyray::internal::deadline_timer timer;

  /// Queues a ready task and, if a worker is idle, hands it over at once,
  /// from this thread: the scheduler actor sees a task only when a worker
  /// must be started (or shutdown drains), so a task costs one wake-up of
  /// its worker, not a hop through the scheduler first.
  void submit(const caf::actor& scheduler, task_ptr task);

  /// The workers and resources now, read under the pool's lock: `state()`
  /// needs no free CAF thread (a request to the scheduler actor would).
  [[nodiscard]] scheduler_snapshot snapshot() const;

  /// Why `request` can never run on this node, or an empty string: more
  /// than the total, or a resource a removed placement group offered.
  [[nodiscard]] std::string unmet(const resource_amounts& request) const;

  /// In a cluster: where the tasks go that this node does not run now. Set
  /// before the first task is submitted.
  std::shared_ptr<task_offload> offload;

  /// The cluster has room again: offers it the ready tasks this node cannot
  /// start.
  void offer(const caf::actor& scheduler);

  /// For tests: while set, starting a worker fails as it does when the
  /// system refuses a thread.
  std::atomic<bool> fail_worker_starts{false};

  /// Set by spawn_scheduler, before any task is submitted; the scheduler
  /// keeps the table alive, and so does whoever submits a task.
  objstore::internal::object_table* table = nullptr;

  /// The scheduler's state, shared with workers and submitting threads:
  /// reachable only under its lock.
  rustyray::internal::guarded<pool_state>& pool() noexcept;

private:
  std::unique_ptr<rustyray::internal::guarded<pool_state>> pool_;
};

/// Spawns the scheduler: it queues ready tasks, dispatches them to a pool of
/// detached worker actors within the resource totals, lends an extra worker
/// while a task blocks in `get`, and on `drain_atom` (shutdown) fails the
/// queued tasks, lets the running ones finish and stops the workers.
caf::actor spawn_scheduler(caf::actor_system& sys,
                           std::shared_ptr<objstore::internal::object_table> table,
                           std::shared_ptr<task_context> context);

/// Marks a task that will not run (cancelled, shut down, unschedulable) as
/// done: stores `reason` in its result and releases what it held.
void fail_task(objstore::internal::object_table& table, const task_ptr& task, caf::error reason);

/// For tests: thrown inside a task, it escapes the task's error handling and
/// kills the worker running it, as a bug in the runtime would.
struct worker_crash {};

/// Whether the calling thread runs a task's function now.
bool in_task() noexcept;

/// For tests: the worker actor running the calling task; null elsewhere.
caf::actor current_worker();

} // namespace rustyray::tasks::internal
