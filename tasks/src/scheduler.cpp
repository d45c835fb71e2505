#include "scheduler.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <vector>

#include <caf/all.hpp>

#include "dependencies.hpp"
#include "error_text.hpp"
#include "object_table.hpp"
#include "runtime_state.hpp"
#include "rustyray/errc.hpp"
#include "task_observability.hpp"

namespace rustyray::internal {

namespace {

using done_atom = caf::atom_constant<caf::atom("rr_done")>;
using blocked_atom = caf::atom_constant<caf::atom("rr_block")>;
using unblocked_atom = caf::atom_constant<caf::atom("rr_unblock")>;
using requeue_atom = caf::atom_constant<caf::atom("rr_requeue")>;

thread_local task_record* current_task = nullptr;

void release_task(objstore::object_table& table, task_record& task) {
  objstore::unpin_all(table, task.deps);
}

/// Tells the scheduler while the worker's task blocks in get or wait, so it
/// can lend the task's CPU and, if needed, another worker. The tasks of the
/// batch not started yet go back to the scheduler: the blocked task may wait
/// for one of them.
class worker_blocking : public blocking_observer {
public:
  worker_blocking(caf::actor scheduler, std::size_t worker)
    : scheduler_(std::move(scheduler)), worker_(worker) {
  }

  /// The batch's tasks not started yet (touched by the worker's thread only).
  std::deque<task_ptr> remaining;

  void on_block() override {
    if (!remaining.empty()) {
      task_batch rest{{std::make_move_iterator(remaining.begin()),
                       std::make_move_iterator(remaining.end())}};
      remaining.clear();
      caf::anon_send(scheduler_, requeue_atom::value, std::move(rest));
    }
    caf::anon_send(scheduler_, blocked_atom::value, worker_);
  }

  void on_unblock() override {
    caf::anon_send(scheduler_, unblocked_atom::value, worker_);
  }

private:
  caf::actor scheduler_;
  std::size_t worker_;
};

caf::error shutdown_before_start(const task_record& task) {
  return make_error(errc::runtime_not_initialized,
                    "rustyray::shutdown() ran before task " + task.name() + " started");
}

/// Runs one task on the worker's thread: attempts, retries, the result.
void execute(objstore::object_table& table, recorder& recording, task_record& task) {
  int expected = task_record::queued;
  if (!task.st.compare_exchange_strong(expected, task_record::running))
    return; // cancelled while queued: the canceller stored the result
  current_task = &task;
  const auto& opts = task.options;
  auto name = [&] { return task.name(); };
  auto attempts = 1 + (opts.retry_exceptions ? std::max(opts.max_retries, 0) : 0);
  caf::expected<detail::task_output> output{caf::error{}};
  auto started = recording.now();
  int attempt = 1;
  for (; attempt <= attempts; ++attempt) {
    try {
      output = task.body(attempt == attempts);
      if (!output) // argument_error made it: a rustyray error with a text
        output = did_not_run("task " + name(), output.error());
      break; // argument errors are not retried: the same input fails again
    } catch (...) {
      output = make_error(errc::task_failed,
                          "task " + name() + " threw " + current_exception_text());
    }
  }
  current_task = nullptr;
  // Before the result appears: whoever sees it finds the run recorded.
  record_run(recording, task, started, std::min(attempt, attempts), output);
  task.st = task_record::finished;
  // Drop the arguments (and the refs among them) and the pins before the
  // result appears, so whoever sees the result sees them released.
  task.body = nullptr;
  release_task(table, task);
  if (output)
    (void)table.fulfil(task.result, std::move(output->value), output->size);
  else
    table.fail(task.result, std::move(output.error()));
}

caf::behavior worker(caf::event_based_actor* self, caf::actor scheduler, std::size_t id,
                     std::shared_ptr<objstore::object_table> table,
                     std::shared_ptr<task_context> context) {
  auto blocking = std::make_shared<worker_blocking>(scheduler, id);
  return {
    [=](task_batch& batch) {
      // A detached actor: this thread is the worker's own, so a task may block.
      current_blocking_observer = blocking.get();
      auto& remaining = blocking->remaining;
      remaining.assign(std::make_move_iterator(batch.tasks.begin()),
                       std::make_move_iterator(batch.tasks.end()));
      while (!remaining.empty()) {
        auto task = std::move(remaining.front());
        remaining.pop_front();
        if (context->draining.load())
          fail_task(*table, task, shutdown_before_start(*task));
        else
          execute(*table, *context->recording, *task);
      }
      current_blocking_observer = nullptr;
      self->send(scheduler, done_atom::value, id);
    },
  };
}

struct scheduler_state {
  std::shared_ptr<objstore::object_table> table;
  std::shared_ptr<task_context> context;
  resource_amounts available;
  std::vector<caf::actor> workers;
  std::vector<std::size_t> idle;
  std::deque<task_ptr> ready;
  /// What each busy worker holds: the request of its batch.
  std::unordered_map<std::size_t, resource_request> running;
  std::set<std::size_t> blocked;
  bool draining = false;
  std::size_t workers_down = 0;
  caf::response_promise drained;
  static inline const char* name = "rustyray.scheduler";
};

using sched_ptr = caf::stateful_actor<scheduler_state>*;

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

/// Once draining and nothing runs: stop the workers; reply when all are gone.
void finish_drain_if_idle(sched_ptr self) {
  auto& st = self->state;
  if (!st.draining || !st.running.empty())
    return;
  if (st.workers.empty() || st.workers_down == st.workers.size()) {
    if (st.drained.pending())
      st.drained.deliver(caf::unit);
    return;
  }
  for (auto& w : st.workers)
    self->send_exit(w, caf::exit_reason::user_shutdown);
}

/// While draining, tasks that all wait in get for objects nothing will
/// produce any more would wait forever: wake them with the table's close.
void close_if_stuck(sched_ptr self) {
  auto& st = self->state;
  if (st.draining && !st.running.empty() && st.blocked.size() == st.running.size())
    st.table->close(make_error(errc::runtime_not_initialized,
                               "rustyray::shutdown() ran while this task waited for an "
                               "object that nothing will produce any more"));
}

/// Hands ready tasks to workers: for each worker that is idle (or may be
/// spawned) the first task that fits, plus the following tasks with the same
/// request, up to an even share of the queue, as one batch.
void dispatch(sched_ptr self) {
  auto& st = self->state;
  const auto max_active = st.context->num_workers;
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
      st.idle.pop_back();
    } else if (st.running.size() - st.blocked.size() < max_active) {
      worker_id = st.workers.size();
      auto w = self->system().spawn<caf::detached>(worker, caf::actor{self}, worker_id,
                                                   st.table, st.context);
      self->monitor(w);
      st.workers.push_back(std::move(w));
    } else {
      break;
    }
    auto request = (*i)->request;
    auto share = std::clamp<std::size_t>(st.ready.size() / max_active, 1, 64);
    task_batch batch;
    batch.tasks.push_back(std::move(*i));
    i = st.ready.erase(i);
    auto same_request = [&](const task_ptr& task) {
      return task->request == request || *task->request == *request;
    };
    while (i != st.ready.end() && batch.tasks.size() < share && same_request(*i)) {
      if ((*i)->st.load() == task_record::queued)
        batch.tasks.push_back(std::move(*i));
      i = st.ready.erase(i);
    }
    take(st.available, *request, 1);
    st.running.emplace(worker_id, std::move(request));
    self->send(st.workers[worker_id], std::move(batch));
  }
}

caf::behavior scheduler(sched_ptr self, std::shared_ptr<objstore::object_table> table,
                        std::shared_ptr<task_context> context) {
  auto& st = self->state;
  st.table = std::move(table);
  st.context = std::move(context);
  st.available = st.context->total;
  self->set_down_handler([=](caf::down_msg&) {
    ++self->state.workers_down;
    finish_drain_if_idle(self);
  });
  return {
    [=](inbox_atom) {
      auto& st = self->state;
      for (auto& task : st.context->take_inbox()) {
        if (st.draining)
          fail_task(*st.table, task, shutdown_before_start(*task));
        else if (task->nested)
          st.ready.push_front(std::move(task));
        else
          st.ready.push_back(std::move(task));
      }
      dispatch(self);
    },
    [=](done_atom, std::size_t worker_id) {
      auto& st = self->state;
      auto i = st.running.find(worker_id);
      if (i == st.running.end())
        return;
      if (st.blocked.erase(worker_id) == 0)
        take(st.available, *i->second, -1);
      st.running.erase(i);
      st.idle.push_back(worker_id);
      dispatch(self);
      close_if_stuck(self);
      finish_drain_if_idle(self);
    },
    [=](blocked_atom, std::size_t worker_id) {
      auto& st = self->state;
      auto i = st.running.find(worker_id);
      if (i == st.running.end() || !st.blocked.insert(worker_id).second)
        return;
      // The blocked task lends its resources to others, as in Ray.
      take(st.available, *i->second, -1);
      dispatch(self);
      close_if_stuck(self);
    },
    [=](unblocked_atom, std::size_t worker_id) {
      auto& st = self->state;
      auto i = st.running.find(worker_id);
      if (i == st.running.end() || st.blocked.erase(worker_id) == 0)
        return;
      take(st.available, *i->second, 1); // may oversubscribe until it ends
    },
    [=](requeue_atom, task_batch& batch) {
      // Handed back by a worker whose task blocked: first in line again.
      auto& ready = self->state.ready;
      for (auto i = batch.tasks.rbegin(); i != batch.tasks.rend(); ++i)
        ready.push_front(std::move(*i));
      dispatch(self);
    },
    [=](snapshot_atom) {
      const auto& st = self->state;
      return scheduler_snapshot{st.workers.size(), st.idle.size(), st.running.size(),
                                st.blocked.size(), st.available};
    },
    [=](drain_atom) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      st.draining = true;
      st.context->draining = true;
      for (auto& task : st.ready)
        fail_task(*st.table, task, shutdown_before_start(*task));
      st.ready.clear();
      st.drained = self->make_response_promise();
      close_if_stuck(self);
      finish_drain_if_idle(self);
      return st.drained;
    },
  };
}

} // namespace

void task_context::submit(const caf::actor& scheduler, task_ptr task) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> guard{inbox_mtx_};
    was_empty = inbox_.empty();
    inbox_.push_back(std::move(task));
  }
  if (was_empty)
    caf::anon_send(scheduler, inbox_atom::value);
}

std::vector<task_ptr> task_context::take_inbox() {
  std::vector<task_ptr> result;
  std::lock_guard<std::mutex> guard{inbox_mtx_};
  result.swap(inbox_);
  return result;
}

void fail_task(objstore::object_table& table, const task_ptr& task,
               caf::error reason) {
  for (int from : {task_record::waiting, task_record::queued}) {
    int expected = from;
    if (task->st.compare_exchange_strong(expected, task_record::cancelled)) {
      // As after a run: inputs released before the result (an error) appears.
      // The body is ours alone now: execute lost the race for the state.
      task->body = nullptr;
      release_task(table, *task);
      table.fail(task->result, std::move(reason));
      return;
    }
  }
}

caf::actor spawn_scheduler(caf::actor_system& sys, std::shared_ptr<objstore::object_table> table,
                           std::shared_ptr<task_context> context) {
  return sys.spawn(scheduler, std::move(table), std::move(context));
}

} // namespace rustyray::internal

namespace rustyray {

bool cancel_requested() noexcept {
  auto* task = internal::current_task;
  return task != nullptr && task->cancel_requested.load();
}

} // namespace rustyray
