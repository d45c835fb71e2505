// Tasks this node submits and other nodes run: placement among the nodes,
// shipping in batches, results, and nodes that die with tasks in flight.

#include "task_router.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <caf/all.hpp>

#include "rustyray/errc.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/internal/recorder.hpp"
#include "rustyray/detail/value_size.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/tasks/internal/task_observability.hpp"
#include "shipped_args.hpp"

namespace rustyray::cluster::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

resource_amounts thousandths(const std::map<std::string, double>& units) {
  resource_amounts result;
  for (const auto& [name, amount] : units)
    result[name] = static_cast<std::int64_t>(amount * 1000 + 0.5);
  return result;
}

std::int64_t cpus_of(const resource_amounts& amounts) {
  auto i = amounts.find("CPU");
  return i == amounts.end() ? 0 : i->second;
}

} // namespace

task_router::task_router(rustyray::internal::node& node, std::shared_ptr<link_outbox> out)
  : node_(node), out_(std::move(out)) {}

void task_router::attach(std::weak_ptr<tasks::internal::task_runtime> tasks) {
  std::lock_guard<std::mutex> guard{mtx_};
  tasks_ = std::move(tasks);
}

std::shared_ptr<tasks::internal::task_runtime> task_router::tasks() {
  std::lock_guard<std::mutex> guard{mtx_};
  return tasks_.lock();
}

std::string task_router::address_of(std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = peers_.find(id);
  return i == peers_.end() || !i->second.alive ? std::string{} : i->second.address;
}

std::string task_router::describe(std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = peers_.find(id);
  if (i == peers_.end() || i->second.address.empty())
    return "node " + node_text(id);
  return "node " + node_text(id) + " (at " + i->second.address + ")";
}

bool task_router::may_join(std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = peers_.find(id);
  return i == peers_.end() && !stopped_;
}

std::int64_t task_router::depth_of(const std::string& function) const {
  auto i = run_ns_.find(function);
  if (i == run_ns_.end())
    return min_depth;
  return std::clamp(static_cast<std::int64_t>(pipeline_ns / std::max(i->second, 1.0)), min_depth,
                    max_depth);
}

bool task_router::room(const peer& p, const resource_amounts& request, std::int64_t depth) const {
  auto cpus = std::max<std::int64_t>(cpus_of(p.total), 1000) / 1000;
  if (p.tasks >= static_cast<std::size_t>(cpus * max_depth))
    return false;
  for (const auto& [name, amount] : request) {
    auto total = p.total.find(name);
    if (total == p.total.end() || total->second < amount)
      return false; // never fits there
    auto held = p.in_flight.find(name);
    if ((held == p.in_flight.end() ? 0 : held->second) + amount > total->second * depth)
      return false;
  }
  return true;
}

task_router::peer* task_router::holder_of_arguments(task_record& task, std::int64_t depth) {
  // Most tasks have no argument another node owns: nothing to weigh.
  std::vector<std::pair<peer*, std::uint64_t>> bytes;
  for (std::size_t i = 0; i < task.deps.pinned; ++i) {
    const auto& id = task.deps.ids[i];
    if (id.node() == node_.id())
      continue;
    auto p = peers_.find(id.node());
    if (p == peers_.end() || !p->second.alive || !room(p->second, *task.request, depth))
      continue;
    const auto& value = task.deps.value(i);
    auto size = value ? detail::message_size(*value) : 0;
    auto held = std::find_if(bytes.begin(), bytes.end(),
                             [&](const auto& b) { return b.first == &p->second; });
    if (held == bytes.end())
      bytes.emplace_back(&p->second, size);
    else
      held->second += size;
  }
  auto most = std::max_element(bytes.begin(), bytes.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return most == bytes.end() ? nullptr : most->first;
}

tasks::internal::task_offload::verdict task_router::take(const task_ptr& task) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_)
    return verdict::full;
  const auto& request = *task->request;
  const auto depth = depth_of(task->remote_function);
  peer* target = nullptr;
  if (task->pinned != 0) {
    auto i = peers_.find(task->pinned);
    if (i == peers_.end() || !i->second.alive) {
      refused_.emplace_back(
        task,
        make_error(errc::node_lost, "task " + task->name() + " is pinned to node "
                                      + node_text(task->pinned) + ", which has left the cluster"));
      out_->request_flush();
      return verdict::taken;
    }
    if (!room(i->second, request, depth))
      return verdict::kept;
    target = &i->second;
  } else if (target = holder_of_arguments(*task, depth); target == nullptr) {
    // The least loaded node with room: spread.
    double best = std::numeric_limits<double>::max();
    bool any_room = false;
    for (auto& [id, p] : peers_) {
      if (!p.alive || !room(p, request, depth))
        continue;
      any_room = true;
      auto load = static_cast<double>(cpus_of(p.in_flight) + 1)
                  / static_cast<double>(std::max<std::int64_t>(cpus_of(p.total), 1));
      if (load < best) {
        best = load;
        target = &p;
      }
    }
    if (!any_room)
      return verdict::full;
  }
  add_amounts(target->in_flight, request, 1);
  ++target->tasks;
  target->outbox.push_back(task);
  out_->request_flush();
  return verdict::taken;
}

bool task_router::has_room() {
  static const resource_amounts one_cpu{{"CPU", 1000}};
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_)
    return false;
  for (const auto& [id, p] : peers_)
    if (p.alive && room(p, one_cpu, min_depth))
      return true;
  return false;
}

caf::error task_router::placeable(const task_record& task, std::uint64_t node) {
  std::lock_guard<std::mutex> guard{mtx_};
  const auto& request = *task.request;
  auto never = [&](const std::string& where, const resource_amounts& total) {
    auto why = unmet(request, total);
    return why.empty()
             ? caf::error{}
             : make_error(errc::task_unschedulable,
                          "task " + task.name() + " can never run on " + where + ": " + why);
  };
  if (node != 0) {
    auto i = peers_.find(node);
    if (i == peers_.end() || !i->second.alive)
      return make_error(errc::invalid_argument,
                        "task " + task.name() + ": .node(\"" + node_text(node)
                          + "\") names no live node of the cluster (rustyray::nodes() lists "
                            "them)");
    return never("node " + node_text(node), i->second.total);
  }
  for (const auto& [id, p] : peers_)
    if (p.alive && unmet(request, p.total).empty())
      return {};
  return make_error(errc::task_unschedulable,
                    "task " + task.name()
                      + " can never run: no node of the cluster has the resources it asks for ("
                      + unmet(request, {}) + ")");
}

caf::expected<std::uint64_t> task_router::place_actor(const std::string& who,
                                                      const resource_amounts& request,
                                                      std::uint64_t pinned, bool ships) {
  static const std::string unregistered =
    "its factory is not registered with RUSTYRAY_REMOTE (or its arguments cannot be "
    "serialized), so it starts only on the node that creates it";
  auto rt = tasks();
  std::string local_never = rt ? rt->resources->unmet(request) : std::string{"no runtime"};
  bool local_now = false;
  if (local_never.empty() && !request.empty() && rt)
    local_now = fits(rt->tasks->snapshot().available, request);
  std::lock_guard<std::mutex> guard{mtx_};
  if (pinned != 0) {
    auto i = peers_.find(pinned);
    if (i == peers_.end() || !i->second.alive)
      return make_error(errc::invalid_argument,
                        who + ": .node(\"" + node_text(pinned)
                          + "\") names no live node of the cluster (rustyray::nodes() lists "
                            "them)");
    if (!ships)
      return make_error(errc::function_not_registered,
                        who + " cannot start on node " + node_text(pinned) + ": " + unregistered);
    if (auto why = unmet(request, i->second.total); !why.empty())
      return make_error(errc::task_unschedulable,
                        who + " can never start on node " + node_text(pinned) + ": " + why);
    add_amounts(i->second.available, request, -1);
    return pinned;
  }
  // The usual actor holds nothing: it starts where it was created.
  if (request.empty() || local_now)
    return std::uint64_t{0};
  if (ships) {
    // The node with the most room now (as it last reported): spread.
    peer* best = nullptr;
    std::uint64_t best_id = 0;
    for (auto& [id, p] : peers_)
      if (p.alive && fits(p.available, request)
          && (best == nullptr || cpus_of(p.available) > cpus_of(best->available))) {
        best = &p;
        best_id = id;
      }
    if (best != nullptr) {
      add_amounts(best->available, request, -1);
      return best_id;
    }
  }
  // Nowhere now: it waits for room where it fits at all, here first.
  if (local_never.empty())
    return std::uint64_t{0};
  bool fits_elsewhere = false;
  for (auto& [id, p] : peers_)
    if (p.alive && unmet(request, p.total).empty()) {
      if (ships)
        return id;
      fits_elsewhere = true;
    }
  return make_error(errc::task_unschedulable,
                    who + " can never start: "
                      + (fits_elsewhere
                           ? "this node cannot hold it (" + local_never + ") and " + unregistered
                           : "no node of the cluster has the resources it asks "
                             "for ("
                               + unmet(request, {}) + ")"));
}

void task_router::update(const std::vector<node_record>& table) {
  // A death is the service's to handle (`lost`, with the objects and
  // actors of that node); a node that died before this one heard of it is
  // kept as dead, so that no one waits for it to join.
  std::lock_guard<std::mutex> guard{mtx_};
  for (const auto& r : table) {
    if (r.id == node_.id() || r.service.empty())
      continue;
    auto i = peers_.find(r.id);
    if (i == peers_.end()) {
      peer p;
      p.address = r.service;
      p.total = thousandths(r.total);
      p.available = thousandths(r.available);
      p.alive = r.alive;
      peers_.emplace(r.id, std::move(p));
    } else if (r.alive && i->second.alive) {
      i->second.available = thousandths(r.available);
    }
  }
}

void task_router::bury(std::uint64_t id, peer& p, std::vector<task_ptr>& orphans) {
  p.alive = false;
  for (auto& task : p.outbox)
    orphans.push_back(std::move(task));
  p.outbox.clear();
  for (auto i = flights_.begin(); i != flights_.end();) {
    if (i->second.peer == id) {
      orphans.push_back(std::move(i->second.task));
      i = flights_.erase(i);
    } else {
      ++i;
    }
  }
  p.in_flight.clear();
  p.tasks = 0;
}

void task_router::rehome(std::vector<task_ptr>& orphans, const std::string& who,
                         const std::string& why) {
  auto rt = tasks();
  if (!rt)
    return;
  for (auto& task : orphans) {
    auto st = task->st.load();
    if (st == task_record::queued) {
      // Never shipped: the pool places it again.
      rt->tasks->submit(rt->scheduler, task);
      continue;
    }
    if (st != task_record::running)
      continue;
    auto attempt = task->attempts.load();
    if (attempt < task->attempt_budget() && task->pinned == 0) {
      task->st = task_record::queued;
      rt->tasks->submit(rt->scheduler, task);
      continue;
    }
    complete(
      task, rt->node().recording().now(),
      make_error(errc::node_lost,
                 who + " running task " + task->name() + " died (" + "attempt "
                   + std::to_string(attempt) + " of " + std::to_string(task->attempt_budget())
                   + "): " + why
                   + (task->pinned == 0 ? "; .max_retries(n) runs it again on another node" : "")));
  }
}

std::vector<std::pair<std::uint64_t, shipped_tasks>> task_router::flush() {
  std::vector<std::pair<std::uint64_t, shipped_tasks>> result;
  auto rt = tasks();
  std::vector<std::pair<std::uint64_t, std::vector<task_ptr>>> taken;
  std::vector<std::pair<task_ptr, caf::error>> refused;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    refused.swap(refused_);
    for (auto& [id, p] : peers_)
      if (!p.outbox.empty() && p.alive) {
        taken.emplace_back(id, std::move(p.outbox));
        p.outbox.clear();
      }
  }
  if (!rt)
    return result;
  for (auto& [task, why] : refused)
    tasks::internal::fail_task(rt->table(), task, std::move(why));
  auto now = rt->node().recording().now();
  for (auto& [where, tasks] : taken) {
    shipped_tasks batch;
    batch.reserve(tasks.size());
    for (auto& task : tasks) {
      int expected = task_record::queued;
      bool started = task->st.compare_exchange_strong(expected, task_record::running);
      caf::expected<detail::task_output> packed{caf::error{}};
      caf::expected<caf::message> args{caf::message{}};
      std::vector<detail::arg_ref> refs;
      if (started) {
        task->attempts.fetch_add(1);
        packed = task->body(detail::body_mode::pack);
        if (packed) {
          args = args_for(where, *task, *packed, refs);
          if (!args)
            packed = std::move(args.error());
        }
      }
      if (!started || !packed) {
        {
          std::lock_guard<std::mutex> guard{mtx_};
          if (auto p = peers_.find(where); p != peers_.end())
            release(p->second, *task);
        }
        if (started)
          complete(task, now, std::move(packed.error()));
        task = nullptr;
        continue;
      }
      const auto& options = task->options;
      shipped_task shipped;
      shipped.result = task->result;
      shipped.function = task->remote_function;
      shipped.args = std::move(*args);
      shipped.refs = std::move(refs);
      shipped.name = options.name;
      shipped.timeout = task->timeout.count();
      // One budget for the task wherever it runs: each shipment is an
      // attempt here (a node's death costs one, as in Ray), and the node
      // running it retries exceptions only with what is left.
      shipped.max_retries = std::max(0, task->attempt_budget() - task->attempts.load());
      shipped.retry_exceptions = options.retry_exceptions;
      shipped.num_cpus = options.num_cpus;
      shipped.resources = options.resources;
      batch.push_back(std::move(shipped));
    }
    {
      // Recorded before the results can come back; a cancel that came
      // before this (see `cancel`) goes after the task.
      std::lock_guard<std::mutex> guard{mtx_};
      for (auto& task : tasks)
        if (task) {
          flights_.emplace(task->result, flight{task, where, now});
          if (task->cancel_requested.load())
            out_->add(where, [&](link_batch& b) { b.cancel.push_back(task->result); });
        }
    }
    if (!batch.empty())
      result.emplace_back(where, std::move(batch));
  }
  return result;
}

void task_router::cancel(const task_record& task) {
  std::lock_guard<std::mutex> guard{mtx_};
  // Not in flight (yet): `flush` sees the flag when it ships the task.
  if (auto i = flights_.find(task.result); i != flights_.end())
    out_->add(i->second.peer, [&](link_batch& b) { b.cancel.push_back(task.result); });
}

void task_router::release(peer& p, const task_record& task) {
  add_amounts(p.in_flight, *task.request, -1);
  if (p.tasks > 0)
    --p.tasks;
}

/// The producer of a result another node keeps: says where it is, and when
/// the table drops it (nothing here refers to the result any more) lets the
/// router tell that node.
class task_router::held_result final : public objstore::internal::producer {
public:
  held_result(std::weak_ptr<task_router> router, const object_id& result, std::string label)
    : router_(std::move(router)), result_(result), label_(std::move(label)) {}

  ~held_result() override {
    if (!quiet.load())
      if (auto router = router_.lock())
        router->unheld(result_);
  }

  [[nodiscard]] std::string describe() const override {
    return label_;
  }

  /// The router took the result back (fetched, run again, or lost).
  std::atomic<bool> quiet{false};

private:
  const std::weak_ptr<task_router> router_;
  const object_id result_;
  const std::string label_;
};

void task_router::hold(flight done, const shipped_result& r) {
  auto rt = tasks();
  if (!rt)
    return;
  auto record = std::make_shared<held_result>(
    weak_from_this(), r.result,
    "task " + done.task->name() + " (done on node " + node_text(done.peer)
      + ", its result kept there until it is needed here)");
  {
    std::lock_guard<std::mutex> guard{mtx_};
    held_[r.result] = held{std::move(done), r.copy, record, false};
  }
  if (rt->table().hand_over(r.result, record, true))
    return;
  // Nothing here refers to it any more: its node drops it (unless that
  // node died meanwhile, and `lost` settled it).
  held h;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = held_.find(r.result);
    if (i == held_.end())
      return;
    h = unhold(i);
  }
  settle(std::move(h), make_error(errc::object_lost, "no longer referred to"));
}

void task_router::settle(held h, caf::expected<detail::task_output> output) {
  complete(h.done.task, h.done.started, std::move(output));
  out_->add(h.done.peer, [&](link_batch& b) { b.stored.push_back(h.copy); });
}

task_router::held task_router::unhold(std::unordered_map<object_id, held>::iterator i) {
  auto h = std::move(i->second);
  held_.erase(i);
  if (auto record = h.record.lock())
    record->quiet = true;
  return h;
}

void task_router::wanted(const object_id& result) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = held_.find(result);
    if (i == held_.end() || i->second.wanted)
      return;
    i->second.wanted = true;
    wanted_.push_back(result);
  }
  out_->request_flush();
}

void task_router::unheld(const object_id& result) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    dropped_.push_back(result);
  }
  out_->request_flush();
}

std::vector<task_router::pull_order> task_router::pulls_due() {
  std::vector<pull_order> due;
  std::vector<held> gone;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (const auto& id : dropped_)
      if (auto i = held_.find(id); i != held_.end())
        gone.push_back(unhold(i));
    dropped_.clear();
    for (const auto& id : wanted_)
      if (auto i = held_.find(id); i != held_.end())
        due.push_back(pull_order{i->second.done.peer, i->second.copy, id});
    wanted_.clear();
  }
  for (auto& h : gone)
    settle(std::move(h), make_error(errc::object_lost, "no longer referred to"));
  return due;
}

void task_router::held_arrived(const object_id& result, caf::expected<caf::message> value,
                               std::uint64_t size) {
  held h;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = held_.find(result);
    if (i == held_.end())
      return; // its node died meanwhile: run again or lost
    h = unhold(i);
  }
  if (value)
    settle(std::move(h), detail::task_output{std::move(*value), size, {}});
  else
    settle(std::move(h), std::move(value.error()));
}

void task_router::finished(std::uint64_t peer, shipped_results& results,
                           std::vector<object_id>& stored) {
  auto rt = tasks();
  for (auto& r : results) {
    if (!r.copy.is_nil() && !r.in_slices)
      stored.push_back(r.copy);
    if (!rt)
      continue;
    flight done;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto i = flights_.find(r.result);
      if (i == flights_.end() || i->second.peer != peer)
        continue; // its node was given up on meanwhile
      done = std::move(i->second);
      flights_.erase(i);
      if (auto p = peers_.find(done.peer); p != peers_.end())
        release(p->second, *done.task);
      if (r.run_ns > 0) {
        auto& mean = run_ns_[done.task->remote_function];
        mean = mean == 0 ? static_cast<double>(r.run_ns) : 0.8 * mean + 0.2 * r.run_ns;
      }
    }
    if (r.in_slices)
      hold(std::move(done), r);
    else if (r.error)
      complete(done.task, done.started, std::move(r.error));
    else
      complete(done.task, done.started, detail::task_output{std::move(r.value), r.size, {}});
  }
  if (rt)
    rt->tasks->offer(rt->scheduler);
}

void task_router::lost(std::uint64_t peer, const std::string& who, const std::string& why) {
  std::vector<task_ptr> orphans;
  std::vector<held> kept;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = peers_.find(peer);
    if (i == peers_.end() || !i->second.alive)
      return;
    bury(peer, i->second, orphans);
    for (auto h = held_.begin(); h != held_.end();)
      if (h->second.done.peer == peer)
        kept.push_back(unhold(h++));
      else
        ++h;
  }
  rehome(orphans, who, why);
  // Results whose only copy was there: made again while the task may run
  // again (lineage reconstruction, an attempt as any retry), else lost.
  if (auto rt = tasks())
    for (auto& h : kept) {
      auto& task = h.done.task;
      auto attempt = task->attempts.load();
      if (attempt < task->attempt_budget() && task->pinned == 0) {
        if (rt->table().hand_over(task->result, task, false)) {
          task->st = task_record::queued;
          rt->tasks->submit(rt->scheduler, task);
          continue;
        }
      }
      complete(
        task, h.done.started,
        make_error(errc::object_lost,
                   "object " + to_string(task->result) + ", the result of task " + task->name()
                     + ", is lost: its only copy was on " + who + ", which is gone (" + why
                     + "); the task ran " + std::to_string(attempt) + " of "
                     + std::to_string(task->attempt_budget()) + " attempts"
                     + (task->pinned == 0 ? ": .max_retries(n) lets a lost result be made again"
                                          : " and was pinned to that node")));
    }
  if (auto rt = tasks())
    rt->tasks->offer(rt->scheduler);
}

void task_router::complete(const task_ptr& task, std::int64_t started,
                           caf::expected<detail::task_output> output) {
  auto rt = tasks();
  if (!rt)
    return;
  tasks::internal::record_run(rt->node().recording(), *task, started, task->attempts.load(),
                              output);
  task->st = task_record::finished;
  (void)objstore::internal::complete_run(rt->table(), *task, task->body, std::move(output));
}

void task_router::stop() {
  std::vector<task_ptr> orphans;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return;
    stopped_ = true;
    for (auto& [id, p] : peers_)
      bury(id, p, orphans);
    for (auto& [task, why] : refused_)
      orphans.push_back(task);
    refused_.clear();
    // A result another node kept is not fetched any more.
    while (!held_.empty())
      orphans.push_back(unhold(held_.begin()).done.task);
  }
  if (auto rt = tasks()) {
    auto why = make_error(errc::runtime_not_initialized,
                          "rustyray::shutdown() ran before the task finished on another node");
    for (auto& task : orphans) {
      if (task->st.load() == task_record::running)
        complete(task, rt->node().recording().now(), why);
      else
        tasks::internal::fail_task(rt->table(), task, why);
    }
  }
}

} // namespace rustyray::cluster::internal
