// The non-template core of task submission and cancellation (task.hpp).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "rustyray/detail/invoke.hpp"
#include "rustyray/detail/object_access.hpp"
#include "rustyray/internal/demangle.hpp"
#include "rustyray/objstore/internal/dependencies.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/internal/recorder.hpp"
#include "rustyray/internal/recycling_allocator.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/tasks/task.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"
#include "rustyray/tasks/internal/task_offload.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/error.hpp"

namespace rustyray {

namespace {

using tasks::internal::task_ptr;
using tasks::internal::task_record;

/// The request in thousandths (rewritten for its placement group's
/// bundle), or an error if it is malformed or can never fit the bundle.
caf::expected<tasks::internal::resource_request> request_of(const task_record& task) {
  const auto& options = task.options;
  if (options.num_cpus == 1.0 && options.resources.empty() && !options.group.state()) {
    static const auto one_cpu = std::make_shared<const tasks::internal::resource_amounts>(
      tasks::internal::resource_amounts{{"CPU", 1000}});
    return one_cpu;
  }
  auto who = "task " + task.name();
  auto request = rustyray::internal::placed_request(
    who, options.num_cpus, options.resources, options.group.state().get(), options.bundle_index);
  if (!request)
    return request.error();
  return std::make_shared<const tasks::internal::resource_amounts>(std::move(*request));
}

/// Timeouts this long are no limit (`forever` converts to the largest):
/// a deadline that far out would overflow the clock.
constexpr auto no_limit = std::chrono::hours(24 * 365 * 100);

/// Checks max_retries and the timeout; sets the task's timeout.
caf::error check_options(task_record& task) {
  const auto& options = task.options;
  if (options.max_retries < 0)
    return make_error(errc::invalid_argument, "task " + task.name()
                                                + ": max_retries must be >= 0, got "
                                                + std::to_string(options.max_retries));
  if (options.timeout) {
    auto limit = *options.timeout;
    if (limit.count() <= 0)
      return make_error(errc::invalid_argument,
                        "task " + task.name() + ": a timeout must be positive, got "
                          + rustyray::internal::milliseconds_text(limit)
                          + "; leave .timeout(...) out (or pass rustyray::forever) for no "
                            "limit");
    if (limit < no_limit)
      task.timeout = limit;
  }
  return {};
}

/// In a cluster, the name a task's function runs under on other nodes
/// (and the node it is pinned to); throws for a `.node(id)` that names no
/// node, or another node that cannot run it.
void place(tasks::internal::task_runtime& rt, task_record& task, bool ships) {
  const auto& pin = task.options.node;
  const auto& offload = rt.tasks->offload;
  std::uint64_t node = 0;
  if (!pin.empty()) {
    auto parsed = rustyray::internal::parse_node_text(pin);
    if (!parsed)
      throw error{errc::invalid_argument, "task " + task.name() + ": .node(\"" + pin
                                            + "\") is no node ID (16 hex digits, as "
                                              "rustyray::nodes() lists them)"};
    node = *parsed;
    if (node == rt.node().id())
      return; // runs here, as an unpinned task without a cluster
    if (!offload)
      throw error{errc::invalid_argument, "task " + task.name() + ": .node(\"" + pin
                                            + "\") names no node: this process runs no "
                                              "cluster (rustyray::nodes() lists the one node)"};
  }
  if (!offload || task.options.group.state() || !ships || task.identity.empty())
    task.remote_function.clear();
  else
    task.remote_function = remote_name_of(*task.function, task.identity);
  if (node == 0)
    return;
  if (task.remote_function.empty())
    throw error{errc::function_not_registered,
                "task " + task.name() + " cannot run on node " + pin
                  + ": only a function registered with RUSTYRAY_REMOTE whose parameters and "
                    "result CAF can serialize runs on another node"
                  + (task.options.group.state() ? " (and not in a placement group)" : "")};
  task.pinned = node;
  if (auto err = offload->placeable(task, node); errc_of(err) == errc::invalid_argument)
    detail::throw_caf_error(err);
}

void enqueue(const std::shared_ptr<tasks::internal::task_context>& context,
             const caf::actor& scheduler, const task_ptr& task) {
  int expected = task_record::waiting;
  if (task->st.compare_exchange_strong(expected, task_record::queued))
    context->submit(scheduler, task);
}

} // namespace

namespace detail {

object_id submit_task(task_options options, const std::type_info& function,
                      function_identity identity, bool ships, id_list deps, task_body body) {
  auto rt = tasks::internal::current_tasks_or_throw();
  rt->node().check_accepting();
  // The records of one submitting thread share a stack of free blocks.
  thread_local const char submitter = 0;
  auto task = std::allocate_shared<task_record>(
    rustyray::internal::recycling_allocator<task_record>{&submitter});
  task->options = std::move(options);
  task->function = &function;
  task->identity = identity;
  task->deps.ids = std::move(deps);
  task->body = std::move(body);
  task->nested = internal::current_blocking_observer != nullptr;
  return tasks::internal::submit_record(*rt, task, ships);
}

} // namespace detail

namespace tasks::internal {

object_id submit_record(task_runtime& rt, const task_ptr& task, bool ships) {
  if (auto err = check_options(*task))
    detail::throw_caf_error(err);
  auto request = request_of(*task);
  if (!request && errc_of(request.error()) != errc::task_unschedulable)
    detail::throw_caf_error(request.error());
  auto& table = rt.table();
  task->result = rt.node().next_id();
  task->request = request ? std::move(*request) : nullptr;
  place(rt, *task, ships);
  // Counted before the task can run (a waiter may start it at once); a
  // refusal by the table below means the runtime is shutting down.
  auto& lane = rt.node().recording().local();
  lane.bump(rustyray::internal::counter::tasks_submitted);
  caf::error unschedulable;
  if (!request)
    unschedulable = request.error(); // placed_request: it never fits its bundle
  else if (task->pinned != 0)
    unschedulable = rt.tasks->offload->placeable(*task, task->pinned);
  else if (auto why = rt.tasks->unmet(*task->request); !why.empty())
    unschedulable =
      task->remote_function.empty()
        ? make_error(errc::task_unschedulable, "task " + task->name() + " can never run: " + why)
        : rt.tasks->offload->placeable(*task, 0);
  if (unschedulable) {
    if (auto err = table.register_pending(task->result, task))
      detail::throw_caf_error(err);
    lane.bump(rustyray::internal::counter::tasks_failed);
    (void)objstore::internal::complete_run(table, *task, task->body,
                                           objstore::internal::lookup{std::move(unschedulable)});
    return task->result;
  }
  // The result is registered and each dependency pinned in one trip through
  // the table. A dependency resolves through the store's waiters: no
  // polling, no worker parked.
  auto make_on_ready = [&] {
    return
      [task, context = rt.tasks, scheduler = rt.scheduler] { enqueue(context, scheduler, task); };
  };
  auto ready =
    objstore::internal::register_and_await(table, task->result, task, task->deps, make_on_ready);
  if (!ready)
    detail::throw_caf_error(ready.error());
  if (*ready)
    enqueue(rt.tasks, rt.scheduler, task);
  return task->result;
}

object_id submit_shipped(task_runtime& rt, std::string function, caf::message args,
                         std::vector<detail::arg_ref> refs, task_options options,
                         std::shared_ptr<std::atomic<std::int64_t>> run_ns) {
  rt.node().check_accepting();
  auto task = std::make_shared<task_record>();
  if (options.name.empty())
    options.name = function;
  options.node.clear();
  task->options = std::move(options);
  task->function = &typeid(detail::remote_invoker);
  // Borrowed (so fetched, and kept) while the task lives.
  auto borrowed = detail::borrow_dependencies(refs, rt.node().id(), task->deps.ids);
  task->body = [function = std::move(function), args = std::move(args), refs = std::move(refs),
                borrowed = std::move(borrowed), run_ns = std::move(run_ns)](
                 detail::body_mode mode) -> caf::expected<detail::task_output> {
    if (mode == detail::body_mode::pack)
      return detail::cannot_ship();
    auto all = detail::with_dependencies(args, refs);
    if (!all)
      return std::move(all.error());
    auto started = std::chrono::steady_clock::now();
    auto result = detail::invoke_remote(function, *all);
    run_ns->store((std::chrono::steady_clock::now() - started).count(), std::memory_order_relaxed);
    if (!result)
      return std::move(result.error());
    detail::task_output output;
    output.size = detail::message_size(*result);
    output.value = std::move(*result);
    return output;
  };
  return submit_record(rt, task, false);
}

using namespace rustyray::internal; // the base layer's internals

std::string task_record::name() const {
  if (!options.name.empty())
    return options.name;
  if (!identity.empty())
    if (auto registered = detail::remote_name_of(*function, identity); !registered.empty())
      return registered;
  return rustyray::internal::demangle(function->name());
}

} // namespace tasks::internal

bool cancel_task(const object_id& result) {
  auto rt = tasks::internal::current_tasks_or_throw();
  auto task = std::dynamic_pointer_cast<task_record>(rt->table().producer_of(result));
  if (!task)
    return false;
  auto st = task->st.load();
  if (st == task_record::waiting || st == task_record::queued) {
    tasks::internal::fail_task(
      rt->table(), task,
      make_error(errc::task_cancelled, "task " + task->name() + " was cancelled before it ran"));
    if (task->st.load() == task_record::cancelled) {
      rt->node().recording().local().bump(rustyray::internal::counter::tasks_cancelled);
      return true;
    }
  }
  if (task->st.load() == task_record::running) {
    task->cancel_requested = true;
    if (const auto& offload = rt->tasks->offload)
      offload->cancel(*task);
    return true;
  }
  return false;
}

} // namespace rustyray
