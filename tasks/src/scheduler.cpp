#include "rustyray/tasks/internal/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "rustyray/internal/error_text.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/tasks/internal/task_observability.hpp"
#include "task_pool.hpp"

namespace rustyray::tasks::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

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
void finish_drain_if_idle(sched_ptr self, pool_state& st, after_unlock& out) {
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
  after_unlock out;
  {
    auto locked = context.pool().lock();
    auto& st = *locked;
    f(st, out);
    spawn_fn spawn = [&]() -> std::optional<std::size_t> {
      auto id = st.workers.size();
      auto slot = std::make_shared<worker_slot>(id);
      if (context.fail_worker_starts.load())
        return std::nullopt;
      caf::actor w;
      try {
        w = self->system().spawn<caf::detached + caf::hidden>(
          worker, caf::actor{self}, slot, self->state.table, self->state.context);
      } catch (const std::system_error&) {
        // CAF counted the detached thread before std::thread refused to
        // start: uncounted, or the system's destructor would wait for it.
        self->system().dec_detached_threads();
        return std::nullopt;
      }
      self->monitor(w);
      st.workers.push_back({std::move(w), std::move(slot)});
      ++st.alive;
      return id;
    };
    dispatch(st, context, out, &spawn);
    close_if_stuck(st, context, out);
    finish_drain_if_idle(self, st, out);
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
        take_resources(st.available, *i->second, -1);
      });
    },
    [=](unblocked_atom, std::size_t worker_id) {
      auto locked = self->state.context->pool().lock();
      auto& st = *locked;
      auto i = st.running.find(worker_id);
      if (i == st.running.end() || st.blocked.erase(worker_id) == 0)
        return;
      take_resources(st.available, *i->second, 1); // may oversubscribe until it ends
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
      std::deque<task_ptr> queued;
      {
        auto st = self->state.context->pool().lock();
        self->state.context->draining = true;
        queued.swap(st->ready);
      }
      // Failed before the drain can finish: shutdown sees them done.
      for (auto& task : queued)
        fail_task(*self->state.table, task, shutdown_before_start(*task));
      with_pool(self, [](pool_state& st, after_unlock& out) {
        refuse_leases(st, out,
                      make_error(errc::runtime_not_initialized,
                                 "rustyray::shutdown() ran while it waited for resources"));
      });
      return self->state.drained;
    },
  };
}

} // namespace

caf::actor spawn_scheduler(caf::actor_system& sys,
                           std::shared_ptr<objstore::internal::object_table> table,
                           std::shared_ptr<task_context> context) {
  context->table = table.get();
  return sys.spawn<caf::hidden>(scheduler, std::move(table), std::move(context));
}

} // namespace rustyray::tasks::internal
