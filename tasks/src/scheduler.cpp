#include "rustyray/tasks/internal/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include <caf/all.hpp>

#include "rustyray/internal/adaptive_mutex.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/tasks/internal/task_observability.hpp"

namespace rustyray::tasks::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

using run_atom = caf::atom_constant<caf::atom("rr_run")>;
using done_atom = caf::atom_constant<caf::atom("rr_done")>;
using blocked_atom = caf::atom_constant<caf::atom("rr_block")>;
using unblocked_atom = caf::atom_constant<caf::atom("rr_unblock")>;
using requeue_atom = caf::atom_constant<caf::atom("rr_requeue")>;
/// From the timer: an attempt ran past its task's timeout.
using overrun_atom = caf::atom_constant<caf::atom("rr_overrun")>;

thread_local task_record* current_task = nullptr;
/// The attempt running on this thread, for tasks with a timeout only.
thread_local const task_attempt* current_attempt = nullptr;
thread_local caf::event_based_actor* current_worker_self = nullptr;

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

/// Tells the scheduler while the worker's task blocks in get or wait, so it
/// can lend the task's CPU and, if needed, another worker. The tasks of the
/// batch not started yet go back to the scheduler: the blocked task may wait
/// for one of them.
class worker_blocking : public blocking_observer {
public:
  worker_blocking(caf::actor scheduler, slot_ptr slot)
    : scheduler_(std::move(scheduler)), slot_(std::move(slot)) {}

  void on_block() override {
    auto& remaining = slot_->tasks;
    if (!remaining.empty()) {
      task_batch rest{
        {std::make_move_iterator(remaining.begin()), std::make_move_iterator(remaining.end())}};
      remaining.clear();
      caf::anon_send(scheduler_, requeue_atom::value, std::move(rest));
    }
    caf::anon_send(scheduler_, blocked_atom::value, slot_->id);
  }

  void on_unblock() override {
    caf::anon_send(scheduler_, unblocked_atom::value, slot_->id);
  }

private:
  caf::actor scheduler_;
  slot_ptr slot_;
};

caf::error shutdown_before_start(const task_record& task) {
  return make_error(errc::runtime_not_initialized,
                    "rustyray::shutdown() ran before task " + task.name() + " started");
}

std::string attempt_text(const task_record& task, int number) {
  return "attempt " + std::to_string(number) + " of " + std::to_string(task.attempt_budget());
}

caf::error overrun_error(const task_record& task, int number) {
  return make_error(errc::timeout,
                    "task " + task.name() + " ran past its timeout of "
                      + rustyray::internal::milliseconds_text(task.timeout) + " ("
                      + attempt_text(task, number)
                      + "); whatever it returns is dropped. Let the function check "
                        "rustyray::cancel_requested() and return, raise .timeout(...), or "
                        "allow retries with .max_retries(n)");
}

caf::error worker_died_error(const task_record& task, int number, const caf::error& reason) {
  return make_error(errc::worker_died, "the worker running task " + task.name() + " died ("
                                         + attempt_text(task, number)
                                         + "): " + rustyray::internal::error_text(reason)
                                         + "; .max_retries(n) runs it again on another worker");
}

/// What one attempt produced: its output, or the error, and whether that
/// error is an exception of the function (retried only with
/// `retry_exceptions`).
struct attempt_result {
  caf::expected<detail::task_output> output{caf::error{}};
  bool threw = false;
};

attempt_result run_body(detail::task_body& body, task_record& task, bool last) {
  attempt_result result;
  try {
    result.output = body(last);
    if (!result.output) // argument_error made it: a rustyray error with a text
      result.output = rustyray::internal::did_not_run("task " + task.name(), result.output.error());
  } catch (const worker_crash&) {
    throw; // a test's stand-in for a bug outside the task's own code
  } catch (...) {
    auto text = "task " + task.name() + " threw " + rustyray::internal::current_exception_text();
    if (task.options.retry_exceptions && task.attempt_budget() > 1)
      text += " (" + attempt_text(task, task.attempts.load(std::memory_order_relaxed)) + ")";
    result.output = make_error(errc::task_failed, std::move(text));
    result.threw = true;
  }
  return result;
}

/// Runs one attempt of a task with a timeout, on a copy of the body (moved
/// on the last attempt): an attempt that overruns keeps running on this
/// thread while a retry may run the task elsewhere. Returns nothing if the
/// attempt overran: the scheduler has dealt with the task, the output is
/// dropped.
std::optional<attempt_result> run_timed(task_context& context, const caf::actor& scheduler,
                                        worker_slot& slot, int number, bool last) {
  auto& task = *slot.current;
  auto attempt = std::make_shared<task_attempt>(slot.current, slot.id, number);
  detail::task_body body = last ? std::move(task.body) : task.body;
  auto started = context.recording->now();
  attempt->timer_token =
    context.timer.arm(deadline_timer::clock::now() + task.timeout, [attempt, scheduler] {
      if (!attempt->abandon())
        return; // finished in time
      attempt->cancelled = true;
      caf::anon_send(scheduler, overrun_atom::value, attempt);
    });
  slot.attempt = attempt;
  current_attempt = attempt.get();
  auto result = run_body(body, task, last);
  current_attempt = nullptr;
  context.timer.cancel(attempt->timer_token);
  slot.attempt = nullptr;
  if (attempt->finish())
    return result;
  // Too late: the task has its timeout error (or runs again elsewhere).
  // This attempt's arguments go here, on the thread that used them.
  body = nullptr;
  record_attempt(*context.recording, task, started, number, overrun_error(task, number));
  return std::nullopt;
}

/// Runs one task on the worker's thread: attempts, retries, the result.
void execute(objstore::internal::object_table& table, task_context& context,
             const caf::actor& scheduler, worker_slot& slot) {
  auto& task = *slot.current;
  int expected = task_record::queued;
  if (!task.st.compare_exchange_strong(expected, task_record::running))
    return; // cancelled while queued: the canceller stored the result
  current_task = &task;
  auto& recording = *context.recording;
  auto started = recording.now();
  attempt_result result;
  for (;;) {
    // One thread at a time owns the task (message hand-offs order them):
    // no locked instruction needed.
    auto number = task.attempts.load(std::memory_order_relaxed) + 1;
    task.attempts.store(number, std::memory_order_relaxed);
    // The last attempt may move the stored arguments into the call; earlier
    // ones copy them, for a retry after an exception, a timeout or the death
    // of the worker.
    auto last = number >= task.attempt_budget();
    if (task.timeout.count() == 0) {
      // Gets of the arguments answer the values fetched with the pins. Not
      // for an attempt that may overrun: the task may complete elsewhere
      // while it still runs.
      std::optional<objstore::internal::arguments_scope> fetched;
      if (task.deps.pinned > 0)
        fetched.emplace(table, task);
      result = run_body(task.body, task, last);
    } else if (auto timed = run_timed(context, scheduler, slot, number, last)) {
      result = std::move(*timed);
    } else {
      current_task = nullptr;
      return;
    }
    // Argument errors are not retried: the same input fails again.
    if (result.output || !result.threw || !task.options.retry_exceptions || last)
      break;
  }
  current_task = nullptr;
  auto& output = result.output;
  // Before the result appears: whoever sees it finds the run recorded.
  record_run(recording, task, started, task.attempts.load(), output);
  task.st = task_record::finished;
  (void)objstore::internal::complete_run(table, task, task.body, std::move(output));
}

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
};

} // namespace

/// The scheduler's queue, workers and resources. The scheduler actor, the
/// workers (finishing a batch) and submitting threads (queueing a task) all
/// change it, under `mtx`; only the scheduler starts workers, because it
/// monitors them.
struct pool_state {
  /// Set by spawn_scheduler; the scheduler keeps the table alive, and so
  /// does whoever submits a task.
  objstore::internal::object_table* table = nullptr;
  adaptive_mutex mtx;
  resource_amounts available;
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

namespace {

/// Asks the scheduler to dispatch, starting workers if needed.
using dispatch_atom = caf::atom_constant<caf::atom("rr_disp")>;

using lock_guard = std::lock_guard<rustyray::internal::adaptive_mutex>;

void carry_out(after_unlock& out, objstore::internal::object_table& table,
               const caf::actor& scheduler) {
  for (auto& w : out.runs)
    caf::anon_send(w, run_atom::value);
  if (out.kick)
    caf::anon_send(scheduler, dispatch_atom::value);
  for (auto& [task, why] : out.unstarted)
    fail_task(table, task, std::move(why));
  for (auto& [task, why] : out.ended) {
    // No attempt uses the stored arguments any more: an attempt still
    // running (overrun) has its own copy, a dead worker's is gone.
    (void)objstore::internal::complete_run(table, *task, task->body,
                                           objstore::internal::lookup{std::move(why)});
  }
  if (out.close_why)
    table.close(make_error(errc::runtime_not_initialized, *out.close_why));
}

bool fits(const resource_amounts& available, const resource_amounts& request) {
  for (const auto& [name, amount] : request) {
    auto i = available.find(name);
    if (amount > 0 && (i == available.end() || i->second < amount))
      return false;
  }
  return true;
}

void take(resource_amounts& available, const resource_amounts& request, int sign) {
  for (const auto& [name, amount] : request)
    available[name] -= sign * amount;
}

/// The scheduler stops counting a busy worker: its resources are free again
/// (unless lent already while it blocked).
void release_worker(pool_state& st, std::size_t id) {
  auto i = st.running.find(id);
  if (i == st.running.end())
    return;
  if (st.blocked.erase(id) == 0)
    take(st.available, *i->second, -1);
  st.running.erase(i);
  st.timed.erase(id);
}

/// Starts a worker: the scheduler's part of dispatch.
using spawn_fn = std::function<std::size_t()>;

/// The caller of dispatch is no worker.
constexpr std::size_t no_worker = static_cast<std::size_t>(-1);

/// Hands ready tasks to workers: for each worker that is idle (or may be
/// started, by `spawn`; without it the scheduler is asked to) the first task
/// that fits, plus the following tasks with the same request, up to an even
/// share of the queue, as one batch. A task with a timeout goes alone: if it
/// overruns, nothing waits behind it.
void dispatch(pool_state& st, const task_context& context, after_unlock& out, const spawn_fn* spawn,
              std::size_t caller = no_worker) {
  const auto max_active = context.num_workers;
  // Every worker busy: nothing to look at (a submitter checks this per task).
  if (st.idle.empty() && st.running.size() - st.blocked.size() >= max_active)
    return;
  std::size_t skipped = 0;
  for (auto i = st.ready.begin(); i != st.ready.end() && skipped < 64;) {
    if ((*i)->st.load() != task_record::queued) {
      i = st.ready.erase(i); // cancelled while queued
      continue;
    }
    if (!fits(st.available, *(*i)->request)) {
      ++i;
      ++skipped;
      continue;
    }
    std::size_t worker_id = 0;
    if (!st.idle.empty()) {
      worker_id = st.idle.back();
      if (worker_id != caller && st.waking > 0)
        break; // the worker waking up passes the work on
      st.idle.pop_back();
    } else if (st.running.size() - st.blocked.size() < max_active) {
      if (spawn == nullptr) {
        if (!st.kick_sent)
          out.kick = st.kick_sent = true;
        break;
      }
      worker_id = (*spawn)();
    } else {
      break;
    }
    auto& entry = st.workers[worker_id];
    auto& batch = entry.slot->tasks;
    auto request = (*i)->request;
    auto share = std::clamp<std::size_t>(st.ready.size() / max_active, 1, 64);
    auto timed = (*i)->timeout.count() != 0;
    if (timed)
      st.timed.emplace(worker_id, *i);
    batch.push_back(std::move(*i));
    i = st.ready.erase(i);
    auto same_request = [&](const task_ptr& task) {
      return task->timeout.count() == 0 && (task->request == request || *task->request == *request);
    };
    while (!timed && i != st.ready.end() && batch.size() < share && same_request(*i)) {
      if ((*i)->st.load() == task_record::queued)
        batch.push_back(std::move(*i));
      i = st.ready.erase(i);
    }
    take(st.available, *request, 1);
    st.running.emplace(worker_id, std::move(request));
    entry.ph = worker_entry::phase::busy;
    entry.slot->give();
    if (worker_id != caller) {
      entry.woken = true;
      ++st.waking;
      out.runs.push_back(entry.handle);
    }
  }
}

/// A worker woken with a batch starts it: if tasks are left in the queue, it
/// wakes the next idle worker for them.
void start_batch(task_context& context, std::size_t id, after_unlock& out) {
  auto& st = context.pool();
  lock_guard guard{st.mtx};
  auto& entry = st.workers[id];
  if (!entry.woken)
    return;
  entry.woken = false;
  --st.waking;
  if (!st.ready.empty())
    dispatch(st, context, out, nullptr, id);
}

/// A worker finished its batch. Returns false if the scheduler must see it
/// (shutdown drains, or its task timed out meanwhile): then it sends
/// `done_atom`. Otherwise the worker is idle again and the ready queue is
/// dispatched, this worker first (it is awake): `again` tells whether it
/// got the next batch, in its slot.
bool finish_batch(task_context& context, std::size_t id, bool& again, after_unlock& out) {
  auto& st = context.pool();
  lock_guard guard{st.mtx};
  auto& entry = st.workers[id];
  if (context.draining.load() || entry.ph != worker_entry::phase::busy || st.running.count(id) == 0)
    return false;
  release_worker(st, id);
  entry.ph = worker_entry::phase::idle;
  st.idle.push_back(id);
  dispatch(st, context, out, nullptr, id);
  again = entry.ph == worker_entry::phase::busy;
  return true;
}

caf::behavior worker(caf::event_based_actor* self, caf::actor scheduler, slot_ptr slot,
                     std::shared_ptr<objstore::internal::object_table> table,
                     std::shared_ptr<task_context> context) {
  auto blocking = std::make_shared<worker_blocking>(scheduler, slot);
  // Something escaped the task's own error handling: the worker dies, and
  // the reason reaches the scheduler's down handler, which retries or fails
  // its tasks with it.
  self->set_exception_handler([slot](std::exception_ptr& failure) -> caf::error {
    slot->give(); // to the scheduler's down handler
    auto id = slot->id;
    std::string text;
    try {
      std::rethrow_exception(failure);
    } catch (const worker_crash&) {
      text = "rustyray::internal::worker_crash (a test hook)";
    } catch (...) {
      text = rustyray::internal::current_exception_text();
    }
    return make_error(errc::worker_died, "task worker #" + std::to_string(id)
                                           + " failed outside a task's code: " + text);
  });
  return {
    [=](run_atom) {
      {
        after_unlock out;
        start_batch(*context, slot->id, out);
        carry_out(out, *table, scheduler);
      }
      // A detached actor: this thread is the worker's own, so a task may block.
      rustyray::internal::current_blocking_observer = blocking.get();
      current_worker_self = self;
      auto& tasks = slot->tasks;
      bool again = true;
      bool seen = true;
      while (again) {
        slot->take();
        while (!tasks.empty()) {
          slot->current = std::move(tasks.front());
          tasks.pop_front();
          if (context->draining.load())
            fail_task(*table, slot->current, shutdown_before_start(*slot->current));
          else
            execute(*table, *context, scheduler, *slot);
          slot->current = nullptr;
        }
        slot->give();
        after_unlock out;
        again = false;
        seen = finish_batch(*context, slot->id, again, out);
        carry_out(out, *table, scheduler);
        if (again && !self->mailbox().empty()) {
          // Something waits for this worker, an exit message perhaps: it goes
          // first, and the batch follows it through the mailbox (a worker
          // that dies meanwhile leaves the batch to the scheduler).
          self->send(self, run_atom::value);
          again = false;
        }
      }
      current_worker_self = nullptr;
      rustyray::internal::current_blocking_observer = nullptr;
      if (!seen)
        self->send(scheduler, done_atom::value, slot->id);
    },
  };
}

struct scheduler_state {
  std::shared_ptr<objstore::internal::object_table> table;
  std::shared_ptr<task_context> context;
  caf::response_promise drained;
  static inline const char* name = "rustyray.scheduler";
};

using sched_ptr = caf::stateful_actor<scheduler_state>*;

/// Wakes every get of this node with `why` (shutdown, once no task that may
/// still produce something runs).
void close_table(pool_state& st, after_unlock& out, const std::string& why) {
  if (st.closed)
    return;
  st.closed = true;
  out.close_why = why;
}

/// Once draining and nothing runs: stop the workers; reply when all are gone.
void finish_drain_if_idle(sched_ptr self, after_unlock& out) {
  auto& st = self->state.context->pool();
  if (!self->state.context->draining.load() || !st.running.empty())
    return;
  if (st.alive == 0) {
    if (self->state.drained.pending())
      self->state.drained.deliver(caf::unit);
    return;
  }
  // Functions of timed-out tasks may wait in get for objects nothing will
  // produce any more: wake them, so that their workers can stop.
  if (st.overrunning > 0)
    close_table(st, out, "rustyray::shutdown() ran while this timed-out task waited for an object");
  for (auto& w : st.workers) {
    if (w.handle && !w.exit_sent) {
      w.exit_sent = true;
      self->send_exit(w.handle, caf::exit_reason::user_shutdown);
    }
  }
}

/// While draining, tasks that all wait in get for objects nothing will
/// produce any more would wait forever: wake them with the table's close.
void close_if_stuck(pool_state& st, const task_context& context, after_unlock& out) {
  if (context.draining.load() && !st.running.empty() && st.blocked.size() == st.running.size())
    close_table(st, out,
                "rustyray::shutdown() ran while this task waited for an object that "
                "nothing will produce any more");
}

/// An attempt ended without a result (timeout, dead worker): runs the task
/// again while its budget allows, else stores `why` as its result.
void retry_or_fail(pool_state& st, const task_context& context, after_unlock& out,
                   const task_ptr& task, caf::error why) {
  if (task->st.load() != task_record::running)
    return;
  if (!context.draining.load() && task->attempts.load() < task->attempt_budget()) {
    task->st = task_record::queued;
    st.ready.push_front(task); // a retry goes first, as Ray's do
    return;
  }
  count_failed(*context.recording, task->attempts.load());
  task->st = task_record::finished;
  out.ended.emplace_back(task, std::move(why));
}

/// A worker died: its running task counts as a failed attempt, the tasks it
/// had not started go back to the queue.
void recover(pool_state& st, task_context& context, after_unlock& out, worker_slot& slot,
             const caf::error& reason) {
  if (auto task = std::move(slot.current)) {
    auto number = task->attempts.load();
    if (auto attempt = std::move(slot.attempt)) {
      // Timed: the timer may have dealt with it already.
      context.timer.cancel(attempt->timer_token);
      if (attempt->abandon())
        retry_or_fail(st, context, out, task, worker_died_error(*task, number, reason));
    } else {
      retry_or_fail(st, context, out, task, worker_died_error(*task, number, reason));
    }
  }
  for (auto i = slot.tasks.rbegin(); i != slot.tasks.rend(); ++i)
    st.ready.push_front(std::move(*i));
  slot.tasks.clear();
}

/// Runs `f(pool, out)` under the pool's lock, then dispatches (starting
/// workers as needed), checks whether a drain is stuck or done, and carries
/// out what is left once the lock is released.
template <class F>
void with_pool(sched_ptr self, F f) {
  auto& context = *self->state.context;
  auto& st = context.pool();
  after_unlock out;
  {
    lock_guard guard{st.mtx};
    f(st, out);
    spawn_fn spawn = [&] {
      auto id = st.workers.size();
      auto slot = std::make_shared<worker_slot>(id);
      auto w = self->system().spawn<caf::detached + caf::hidden>(
        worker, caf::actor{self}, slot, self->state.table, self->state.context);
      self->monitor(w);
      st.workers.push_back({std::move(w), std::move(slot)});
      ++st.alive;
      return id;
    };
    dispatch(st, context, out, &spawn);
    close_if_stuck(st, context, out);
    finish_drain_if_idle(self, out);
  }
  carry_out(out, *self->state.table, self);
}

caf::behavior scheduler(sched_ptr self, std::shared_ptr<objstore::internal::object_table> table,
                        std::shared_ptr<task_context> context) {
  self->state.table = std::move(table);
  self->state.context = std::move(context);
  self->set_down_handler([=](caf::down_msg& down) {
    with_pool(self, [&](pool_state& st, after_unlock& out) {
      auto w = std::find_if(st.workers.begin(), st.workers.end(), [&](const worker_entry& e) {
        return e.handle && e.handle.address() == down.source;
      });
      if (w == st.workers.end())
        return;
      auto id = static_cast<std::size_t>(w - st.workers.begin());
      if (w->slot)
        w->slot->take();
      w->handle = nullptr;
      --st.alive;
      if (w->woken) {
        w->woken = false;
        --st.waking;
      }
      switch (w->ph) {
        case worker_entry::phase::idle:
          st.idle.erase(std::remove(st.idle.begin(), st.idle.end(), id), st.idle.end());
          break;
        case worker_entry::phase::busy:
          // Died holding tasks (killed, or something escaped a task's error
          // handling): a new worker takes its place in dispatch.
          release_worker(st, id);
          recover(st, *self->state.context, out, *w->slot, down.reason);
          break;
        case worker_entry::phase::overrun:
          --st.overrunning;
          break;
        case worker_entry::phase::retired:
          break;
      }
      w->ph = worker_entry::phase::retired;
      w->slot = nullptr;
    });
  });
  return {
    [=](dispatch_atom) {
      with_pool(self, [](pool_state& st, after_unlock&) { st.kick_sent = false; });
    },
    [=](done_atom, std::size_t worker_id) {
      with_pool(self, [&](pool_state& st, after_unlock&) {
        auto& entry = st.workers[worker_id];
        if (entry.slot)
          entry.slot->take();
        if (entry.ph == worker_entry::phase::overrun) {
          // Its function returned after the task timed out; a new worker
          // took its place meanwhile: this one stops.
          --st.overrunning;
          entry.ph = worker_entry::phase::retired;
          if (!entry.exit_sent) {
            entry.exit_sent = true;
            self->send_exit(entry.handle, caf::exit_reason::user_shutdown);
          }
          return;
        }
        if (st.running.count(worker_id) == 0)
          return;
        release_worker(st, worker_id);
        entry.ph = worker_entry::phase::idle;
        st.idle.push_back(worker_id);
      });
    },
    [=](overrun_atom, attempt_ptr& attempt) {
      with_pool(self, [&](pool_state& st, after_unlock& out) {
        // Pairs with the timer's abandon(): what the attempt's worker did
        // before it armed the deadline (taking the arguments) happened before.
        (void)attempt->st.load(std::memory_order_acquire);
        auto id = attempt->worker;
        auto timed = st.timed.find(id);
        if (timed != st.timed.end() && timed->second == attempt->task) {
          // Still on that worker: stop counting it (its thread cannot be
          // stopped); dispatch starts another worker if work is waiting.
          release_worker(st, id);
          st.workers[id].ph = worker_entry::phase::overrun;
          ++st.overrunning;
        } // else its function returned already and the worker is free again
        retry_or_fail(st, *self->state.context, out, attempt->task,
                      overrun_error(*attempt->task, attempt->number));
      });
    },
    [=](blocked_atom, std::size_t worker_id) {
      with_pool(self, [&](pool_state& st, after_unlock&) {
        auto i = st.running.find(worker_id);
        if (i == st.running.end() || !st.blocked.insert(worker_id).second)
          return;
        // The blocked task lends its resources to others, as in Ray.
        take(st.available, *i->second, -1);
      });
    },
    [=](unblocked_atom, std::size_t worker_id) {
      auto& st = self->state.context->pool();
      lock_guard guard{st.mtx};
      auto i = st.running.find(worker_id);
      if (i == st.running.end() || st.blocked.erase(worker_id) == 0)
        return;
      take(st.available, *i->second, 1); // may oversubscribe until it ends
    },
    [=](requeue_atom, task_batch& batch) {
      // Handed back by a worker whose task blocked: first in line again.
      with_pool(self, [&](pool_state& st, after_unlock&) {
        for (auto i = batch.tasks.rbegin(); i != batch.tasks.rend(); ++i)
          st.ready.push_front(std::move(*i));
      });
    },
    [=](drain_atom) -> caf::result<caf::unit_t> {
      self->state.drained = self->make_response_promise();
      auto& st = self->state.context->pool();
      std::deque<task_ptr> queued;
      {
        lock_guard guard{st.mtx};
        self->state.context->draining = true;
        queued.swap(st.ready);
      }
      // Failed before the drain can finish: shutdown sees them done.
      for (auto& task : queued)
        fail_task(*self->state.table, task, shutdown_before_start(*task));
      with_pool(self, [](pool_state&, after_unlock&) {});
      return self->state.drained;
    },
  };
}

} // namespace

task_context::task_context(std::size_t num_workers, resource_amounts total,
                           std::shared_ptr<rustyray::internal::recorder> recording)
  : num_workers(num_workers), total(std::move(total)), recording(std::move(recording)),
    pool_(std::make_unique<pool_state>()) {
  pool_->available = this->total;
}

task_context::~task_context() = default;

void task_context::submit(const caf::actor& scheduler, task_ptr task) {
  after_unlock out;
  {
    lock_guard guard{pool_->mtx};
    if (draining.load()) {
      out.unstarted.emplace_back(task, shutdown_before_start(*task));
    } else {
      if (task->nested)
        pool_->ready.push_front(std::move(task));
      else
        pool_->ready.push_back(std::move(task));
      dispatch(*pool_, *this, out, nullptr);
    }
  }
  carry_out(out, *pool_->table, scheduler);
}

void fail_task(objstore::internal::object_table& table, const task_ptr& task, caf::error reason) {
  for (int from : {task_record::waiting, task_record::queued}) {
    int expected = from;
    if (task->st.compare_exchange_strong(expected, task_record::cancelled)) {
      // As after a run. The body is ours alone now: execute lost the race
      // for the state (an attempt that overran earlier runs on a copy of it).
      (void)objstore::internal::complete_run(table, *task, task->body,
                                             objstore::internal::lookup{std::move(reason)});
      return;
    }
  }
}

caf::actor spawn_scheduler(caf::actor_system& sys,
                           std::shared_ptr<objstore::internal::object_table> table,
                           std::shared_ptr<task_context> context) {
  context->pool().table = table.get();
  return sys.spawn<caf::hidden>(scheduler, std::move(table), std::move(context));
}

caf::actor current_worker() {
  return current_worker_self == nullptr ? caf::actor{}
                                        : caf::actor_cast<caf::actor>(current_worker_self);
}

scheduler_snapshot task_context::snapshot() const {
  auto& st = *pool_;
  lock_guard guard{st.mtx};
  return {st.alive,          st.idle.size(), st.running.size(),
          st.blocked.size(), st.overrunning, st.available};
}

bool in_task() noexcept {
  return current_task != nullptr;
}

} // namespace rustyray::tasks::internal

namespace rustyray {

bool cancel_requested() noexcept {
  auto* task = tasks::internal::current_task;
  if (task == nullptr)
    return false;
  if (task->cancel_requested.load())
    return true;
  auto* attempt = tasks::internal::current_attempt;
  return attempt != nullptr && attempt->cancelled.load();
}

} // namespace rustyray
