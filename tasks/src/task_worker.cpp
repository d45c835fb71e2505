#include "task_pool.hpp"

#include <atomic>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <caf/all.hpp>

#include "rustyray/errc.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/tasks/internal/task_observability.hpp"

namespace rustyray::tasks::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

thread_local task_record* current_task = nullptr;
/// The attempt running on this thread, for tasks with a timeout only.
thread_local const task_attempt* current_attempt = nullptr;
thread_local caf::event_based_actor* current_worker_self = nullptr;

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
    result.output = body(last ? detail::body_mode::last_attempt : detail::body_mode::attempt);
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
  auto started = context.recording->now();
  try {
    attempt->timer_token =
      context.timer.arm(deadline_timer::clock::now() + task.timeout, [attempt, scheduler] {
        if (!attempt->abandon())
          return; // finished in time
        attempt->cancelled = true;
        caf::anon_send(scheduler, overrun_atom::value, attempt);
      });
  } catch (const std::system_error& e) {
    // Without its deadline the attempt must not run: it could run forever.
    attempt_result refused;
    refused.output = make_error(
      errc::system_error,
      "task " + task.name() + " did not run: the thread that enforces timeouts could not start ("
        + e.what()
        + "): the system refused a new thread; end some threads, raise the limit (ulimit -u, "
          "kernel.threads-max), or leave .timeout(...) out");
    return refused;
  }
  detail::task_body body = last ? std::move(task.body) : task.body;
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
      objstore::internal::arguments_scope fetched{table, task};
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

} // namespace

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

caf::actor current_worker() {
  return current_worker_self == nullptr ? caf::actor{}
                                        : caf::actor_cast<caf::actor>(current_worker_self);
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
