#pragma once

// What the task scheduler's three parts share: the pool's state and its
// lock, the worker slots, the protocol atoms, and the pool operations.
// `task_pool.cpp` changes the pool (dispatch, batches, submission),
// `task_worker.cpp` runs tasks on a worker's thread, `scheduler.cpp` is the
// actor that starts and monitors workers, retries and drains.

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "rustyray/internal/adaptive_mutex.hpp"
#include "rustyray/internal/resources.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"

namespace rustyray::tasks::internal {

using run_atom = caf::atom_constant<caf::atom("rr_run")>;
using done_atom = caf::atom_constant<caf::atom("rr_done")>;
using blocked_atom = caf::atom_constant<caf::atom("rr_block")>;
using unblocked_atom = caf::atom_constant<caf::atom("rr_unblock")>;
using requeue_atom = caf::atom_constant<caf::atom("rr_requeue")>;
/// From the timer: an attempt ran past its task's timeout.
using overrun_atom = caf::atom_constant<caf::atom("rr_overrun")>;
/// Asks the scheduler to dispatch, starting workers if needed.
using dispatch_atom = caf::atom_constant<caf::atom("rr_disp")>;

/// What one worker and the scheduler share. The worker's tasks are handed
/// over through this slot rather than inside the `run_atom` message, so that
/// the scheduler still finds them if the worker dies before or while it runs
/// them. Whoever holds the turn touches it: a dispatch under the pool's lock
/// (on any thread) before `run_atom` is sent, the worker until it hands the
/// batch back in `finish_batch` or `done_atom` (or dies), the scheduler after
/// the worker's down message.
struct worker_slot {
  explicit worker_slot(std::size_t id) : id(id) {}
  const std::size_t id;
  /// Tasks of the current batch not started yet.
  std::deque<task_ptr> tasks;
  /// The task running now (null between tasks).
  task_ptr current;
  /// Its attempt, if the task has a timeout.
  attempt_ptr attempt;

  /// Marks each hand-over of the turn with a release store and an acquire
  /// load. CAF's mailbox orders the hand-overs already, but ThreadSanitizer
  /// cannot see into Debian's uninstrumented CAF; this makes them visible,
  /// for one store and one load per batch.
  void give() noexcept {
    turn_.store(turn_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  void take() const noexcept {
    (void)turn_.load(std::memory_order_acquire);
  }

private:
  std::atomic<std::uint64_t> turn_{0};
};

using slot_ptr = std::shared_ptr<worker_slot>;

struct worker_entry {
  enum class phase {
    idle,
    /// Holds tasks (in `running`).
    busy,
    /// Still runs a function whose task timed out; retired when it returns.
    overrun,
    /// Told to stop.
    retired,
  };
  caf::actor handle; // null once it is down
  slot_ptr slot;
  phase ph = phase::idle;
  /// Sent `run_atom`, not started yet (counted in `pool_state::waking`).
  bool woken = false;
  bool exit_sent = false;
};

struct lease_record;
using lease_ptr = std::shared_ptr<lease_record>;

/// What a change of the pool's state leaves to do once its lock is released:
/// the object table wakes waiters that may submit tasks, which lock the pool.
struct after_unlock {
  /// Workers handed a batch: each gets `run_atom`.
  std::vector<caf::actor> runs;
  /// A worker must be started, which only the scheduler does.
  bool kick = false;
  /// Tasks that will not start: `fail_task`.
  std::vector<std::pair<task_ptr, caf::error>> unstarted;
  /// Tasks whose last attempt ended without a result (state set already).
  std::vector<std::pair<task_ptr, caf::error>> ended;
  /// Wakes every get of this node with this reason.
  std::optional<std::string> close_why;
  /// Leases whose owners learn something: granted (no error) or ended.
  std::vector<std::pair<lease_ptr, caf::error>> told;
  /// Leases looked at under the lock: if one's owner dropped it meanwhile,
  /// it is destroyed here, after the lock (its destructor takes the lock).
  std::vector<lease_ptr> touched;
};

/// The scheduler's queue, workers and resources. The scheduler actor, the
/// workers (finishing a batch) and submitting threads (queueing a task) all
/// change it, under its lock (`task_context::pool()` is a `guarded`: the
/// functions below take the locked state); only the scheduler starts
/// workers, because it monitors them.
struct pool_state {
  /// The node's resources: `config.resources` plus what placement groups
  /// add (`resource_broker::add_resources`).
  resource_amounts total;
  resource_amounts available;
  /// Leases not granted yet, oldest first (granted before queued tasks).
  std::deque<std::weak_ptr<lease_record>> waiting_leases;
  /// Granted leases, for `remove_resources` to revoke, and how many of
  /// the entries have expired since the list was last compacted.
  std::vector<std::weak_ptr<lease_record>> granted_leases;
  std::size_t expired_grants = 0;
  /// Resources `remove_resources` withdrew: a task asking for one fails.
  std::set<std::string> withdrawn;
  /// Every worker spawned, by its number.
  std::vector<worker_entry> workers;
  std::vector<std::size_t> idle;
  std::deque<task_ptr> ready;
  /// What each busy worker holds: the request of its batch.
  std::unordered_map<std::size_t, resource_request> running;
  /// Busy workers running a task with a timeout (always a batch of one).
  std::unordered_map<std::size_t, task_ptr> timed;
  std::set<std::size_t> blocked;
  /// Workers not down yet.
  std::size_t alive = 0;
  /// Workers in phase `overrun`.
  std::size_t overrunning = 0;
  bool closed = false;
  /// `dispatch_atom` is on its way to the scheduler.
  bool kick_sent = false;
  /// Workers woken and not started yet. While one is, no other idle worker
  /// is woken: the tasks wait in `ready`, and the worker, once started,
  /// wakes the next if work is left. Otherwise a thread submitting a burst
  /// would pay a wake-up per task, its workers taking tasks one by one as
  /// fast as it submits them; this way they take them in batches.
  std::size_t waking = 0;
};

/// Starts a worker: the scheduler's part of dispatch. Empty if the system
/// refused the thread.
using spawn_fn = std::function<std::optional<std::size_t>()>;

/// The caller of dispatch is no worker.
constexpr std::size_t no_worker = static_cast<std::size_t>(-1);

// The pool (task_pool.cpp).

/// Does what `out` holds, once the pool's lock is released.
void carry_out(after_unlock& out, objstore::internal::object_table& table,
               const caf::actor& scheduler);

/// Adds (`sign` -1) or takes (`sign` 1) `request` from `available`.
void take_resources(resource_amounts& available, const resource_amounts& request, int sign);

/// A lease (`resource_broker::reserve`) as the pool keeps it.
struct lease_record final : rustyray::internal::resource_lease {
  enum phase { waiting, held, ended };

  lease_record(std::weak_ptr<struct task_runtime> runtime, resource_amounts request,
               rustyray::internal::lease_listener listener)
    : runtime(std::move(runtime)), request(std::move(request)), listener(std::move(listener)) {}

  /// Gives the resources back, or leaves the queue.
  ~lease_record() override;

  const std::weak_ptr<struct task_runtime> runtime;
  const resource_amounts request;
  const rustyray::internal::lease_listener listener;
  phase ph = waiting; // guarded by the pool's lock
};

/// Grants the waiting leases that fit now, oldest first.
void grant_leases(pool_state& st, after_unlock& out);

/// Shutdown: every waiting lease ends with `why`.
void refuse_leases(pool_state& st, after_unlock& out, const caf::error& why);

/// The scheduler stops counting a busy worker: its resources are free again
/// (unless lent already while it blocked).
void release_worker(pool_state& st, std::size_t id);

/// Hands ready tasks to workers: for each worker that is idle (or may be
/// started, by `spawn`; without it the scheduler is asked to) the first task
/// that fits, plus the following tasks with the same request, up to an even
/// share of the queue, as one batch. A task with a timeout goes alone: if it
/// overruns, nothing waits behind it.
void dispatch(pool_state& st, const task_context& context, after_unlock& out, const spawn_fn* spawn,
              std::size_t caller = no_worker);

/// A worker woken with a batch starts it: if tasks are left in the queue, it
/// wakes the next idle worker for them.
void start_batch(task_context& context, std::size_t id, after_unlock& out);

/// A worker finished its batch. Returns false if the scheduler must see it
/// (shutdown drains, or its task timed out meanwhile): then it sends
/// `done_atom`. Otherwise the worker is idle again and the ready queue is
/// dispatched, this worker first (it is awake): `again` tells whether it
/// got the next batch, in its slot.
bool finish_batch(task_context& context, std::size_t id, bool& again, after_unlock& out);

/// `task_unschedulable` if the task asks for a resource that a removed
/// placement group offered; else no error.
caf::error withdrawn_from(const pool_state& st, const task_record& task);

/// The error of a task that no worker runs and none could start for.
caf::error no_worker_thread(const task_record& task);

/// The error of a task that shutdown kept from starting.
caf::error shutdown_before_start(const task_record& task);

/// "attempt n of m", for messages about one attempt of `task`.
std::string attempt_text(const task_record& task, int number);

/// The error of an attempt that ran past the task's timeout.
caf::error overrun_error(const task_record& task, int number);

/// The error of an attempt whose worker died.
caf::error worker_died_error(const task_record& task, int number, const caf::error& reason);

// The workers (task_worker.cpp).

/// A worker actor: runs the batches handed to it through `slot`.
caf::behavior worker(caf::event_based_actor* self, caf::actor scheduler, slot_ptr slot,
                     std::shared_ptr<objstore::internal::object_table> table,
                     std::shared_ptr<task_context> context);

} // namespace rustyray::tasks::internal
