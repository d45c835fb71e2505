#include "task_pool.hpp"

#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "rustyray/errc.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/tasks/internal/task_observability.hpp"
#include "rustyray/tasks/internal/task_offload.hpp"

namespace rustyray::tasks::internal {

using namespace rustyray::internal; // the base layer's internals

caf::error shutdown_before_start(const task_record& task) {
  return make_error(errc::runtime_not_initialized,
                    "rustyray::shutdown() ran before task " + task.name() + " started");
}

caf::error no_worker_thread(const task_record& task) {
  return make_error(errc::system_error,
                    "task " + task.name()
                      + " could not start: no task worker runs and the system refused a thread "
                        "for a new one (the process's or the machine's thread limit, or memory "
                        "for its stack, ran out); end some threads or raise the limit (ulimit "
                        "-u, vm.max_map_count), then submit it again");
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
  for (auto& [lease, why] : out.told)
    if (lease->listener)
      lease->listener(why);
}

void take_resources(resource_amounts& available, const resource_amounts& request, int sign) {
  for (const auto& [name, amount] : request)
    available[name] -= sign * amount;
}

caf::error withdrawn_from(const pool_state& st, const task_record& task) {
  for (const auto& [name, amount] : *task.request)
    if (st.withdrawn.count(name) != 0)
      return make_error(errc::task_unschedulable, "task " + task.name()
                                                    + " can never run: its placement group was "
                                                      "removed");
  return {};
}

void release_worker(pool_state& st, std::size_t id) {
  auto i = st.running.find(id);
  if (i == st.running.end())
    return;
  if (st.blocked.erase(id) == 0) {
    take_resources(st.available, *i->second, -1);
    // A removed placement group's resources do not come back.
    if (!st.withdrawn.empty())
      for (const auto& [name, amount] : *i->second)
        if (st.withdrawn.count(name) != 0)
          st.available.erase(name);
  }
  st.running.erase(i);
  st.timed.erase(id);
}

namespace {

/// Offers the cluster the ready tasks this node cannot start now: those
/// pinned to another node, and those that do not fit here while every
/// worker is busy or the resources are taken.
void offer_ready(pool_state& st, const task_context& context) {
  const bool workers_full = st.running.size() - st.blocked.size() >= context.num_workers;
  std::size_t kept = 0;
  for (auto i = st.ready.begin(); i != st.ready.end() && kept < 256;) {
    const auto& task = **i;
    if (task.st.load() != task_record::queued) {
      i = st.ready.erase(i);
      continue;
    }
    if (task.remote_function.empty()
        || (task.pinned == 0 && !workers_full && fits(st.available, *task.request))) {
      ++i;
      ++kept;
      continue;
    }
    auto verdict = context.offload->take(*i);
    if (verdict == task_offload::verdict::full)
      return;
    if (verdict == task_offload::verdict::taken) {
      i = st.ready.erase(i);
    } else {
      ++i;
      ++kept;
    }
  }
}

/// `dispatch` on this node's workers.
void dispatch_here(pool_state& st, const task_context& context, after_unlock& out,
                   const spawn_fn* spawn, std::size_t caller) {
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
    if ((*i)->pinned != 0 || !fits(st.available, *(*i)->request)) {
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
      auto started = (*spawn)();
      if (!started) {
        if (st.running.size() > st.blocked.size())
          break; // a running worker takes it once free
        // Nothing runs tasks, and no worker can start: the task fails now
        // instead of waiting for a thread that may never come.
        out.unstarted.emplace_back(*i, no_worker_thread(**i));
        i = st.ready.erase(i);
        continue;
      }
      worker_id = *started;
    } else {
      break;
    }
    auto& entry = st.workers[worker_id];
    auto& batch = entry.slot->tasks;
    auto request = (*i)->request;
    auto share = context.offload && context.offload->has_room()
                   ? std::size_t{1}
                   : std::clamp<std::size_t>(st.ready.size() / max_active, 1, 64);
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
    take_resources(st.available, *request, 1);
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

} // namespace

void dispatch(pool_state& st, const task_context& context, after_unlock& out, const spawn_fn* spawn,
              std::size_t caller) {
  if (!st.waiting_leases.empty())
    grant_leases(st, out);
  dispatch_here(st, context, out, spawn, caller);
  if (context.offload && !st.ready.empty())
    offer_ready(st, context);
}

void start_batch(task_context& context, std::size_t id, after_unlock& out) {
  auto locked = context.pool().lock();
  auto& st = *locked;
  auto& entry = st.workers[id];
  if (!entry.woken)
    return;
  entry.woken = false;
  --st.waking;
  if (!st.ready.empty())
    dispatch(st, context, out, nullptr, id);
}

bool finish_batch(task_context& context, std::size_t id, bool& again, after_unlock& out) {
  auto locked = context.pool().lock();
  auto& st = *locked;
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

task_context::task_context(std::size_t num_workers, resource_amounts total,
                           std::shared_ptr<rustyray::internal::recorder> recording)
  : num_workers(num_workers), total(std::move(total)), recording(std::move(recording)),
    pool_(std::make_unique<guarded<pool_state>>()) {
  auto st = pool_->lock();
  st->available = this->total;
  st->total = this->total;
}

task_context::~task_context() = default;

guarded<pool_state>& task_context::pool() noexcept {
  return *pool_;
}

void task_context::submit(const caf::actor& scheduler, task_ptr task) {
  after_unlock out;
  {
    auto st = pool_->lock();
    if (draining.load()) {
      out.unstarted.emplace_back(task, shutdown_before_start(*task));
    } else if (auto why = st->withdrawn.empty() ? caf::error{} : withdrawn_from(*st, *task)) {
      out.unstarted.emplace_back(task, std::move(why));
    } else {
      if (task->nested)
        st->ready.push_front(std::move(task));
      else
        st->ready.push_back(std::move(task));
      dispatch(*st, *this, out, nullptr);
    }
  }
  carry_out(out, *table, scheduler);
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

scheduler_snapshot task_context::snapshot() const {
  auto locked = pool_->lock();
  auto& st = *locked;
  return {st.alive,       st.idle.size(), st.running.size(), st.blocked.size(),
          st.overrunning, st.total,       st.available};
}

void task_context::offer(const caf::actor& scheduler) {
  after_unlock out;
  {
    auto st = pool_->lock();
    if (!draining.load() && !st->ready.empty())
      offer_ready(*st, *this);
  }
  carry_out(out, *table, scheduler);
}

std::string task_context::unmet(const resource_amounts& request) const {
  // The configured resources never change: most requests need no lock.
  if (!rustyray::internal::is_bundle_resource(request))
    return rustyray::internal::unmet(request, total);
  auto st = pool_->lock();
  for (const auto& [name, amount] : request)
    if (st->withdrawn.count(name) != 0)
      return "its placement group was removed";
  return {}; // a pending group's bundles are not offered yet
}

} // namespace rustyray::tasks::internal
