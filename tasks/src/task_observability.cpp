#include "rustyray/tasks/internal/task_observability.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/placement_state.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"

namespace rustyray::tasks::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

/// How many waiting tasks `state()` lists.
constexpr std::size_t oldest_listed = 10;

const char* state_name(int st) {
  switch (st) {
    case task_record::waiting:
      return "waiting for arguments";
    case task_record::queued:
      return "queued";
    case task_record::running:
      return "running";
    case task_record::finished:
      return "finished";
    case task_record::cancelled:
      return "cancelled";
  }
  return "unknown";
}

/// Amounts in thousandths as numbers of units.
nlohmann::json units(const resource_amounts& amounts) {
  auto result = nlohmann::json::object();
  for (const auto& [name, amount] : amounts)
    result[name] = static_cast<double>(amount) / 1000.0;
  return result;
}

std::uint64_t total(const counter_values& totals, counter c) {
  return totals[static_cast<std::size_t>(c)];
}

} // namespace

std::string task_record::describe() const {
  return "task " + name() + " (" + state_name(st.load()) + ")";
}

namespace {

void record_event(rustyray::internal::recorder& recording, recorder::lane& lane,
                  const task_record& task, std::int64_t started, int attempts,
                  const caf::expected<detail::task_output>& output) {
  auto ended = recording.now();
  if (recording.capacity() == 0)
    return;
  lane.label([] { return std::string{"task worker"}; });
  execution e;
  // A name per run would cost a demangle per task: each lane computes a
  // function's name once.
  if (task.options.name.empty())
    e.name = lane.name(task.function, task.identity, [&] { return task.name(); });
  e.result = task.result;
  e.start = started;
  e.end = ended;
  e.attempts = static_cast<std::uint16_t>(std::min(attempts, 65535));
  e.what = execution::kind::task;
  if (!output)
    e.how = execution::outcome::failed;
  e.describe(task.options.name,
             output ? std::string{} : rustyray::internal::error_text(output.error()));
  lane.record(std::move(e));
}

} // namespace

void record_run(rustyray::internal::recorder& recording, const task_record& task,
                std::int64_t started, int attempts,
                const caf::expected<detail::task_output>& output) {
  auto& lane = recording.local();
  lane.bump(output ? counter::tasks_finished : counter::tasks_failed);
  if (attempts > 1)
    lane.bump(counter::tasks_retried, static_cast<std::uint64_t>(attempts - 1));
  record_event(recording, lane, task, started, attempts, output);
}

void record_attempt(rustyray::internal::recorder& recording, const task_record& task,
                    std::int64_t started, int attempt, const caf::error& why) {
  record_event(recording, recording.local(), task, started, attempt,
               caf::expected<detail::task_output>{why});
}

void count_failed(rustyray::internal::recorder& recording, int attempts) {
  auto& lane = recording.local();
  lane.bump(counter::tasks_failed);
  if (attempts > 1)
    lane.bump(counter::tasks_retried, static_cast<std::uint64_t>(attempts - 1));
}

nlohmann::json workers_state(const task_runtime& rt) {
  const auto& context = *rt.tasks;
  nlohmann::json workers{{"limit", context.num_workers}};
  auto snap = context.snapshot();
  nlohmann::json resources{{"total", units(snap.total)}};
  if (rt.node().stopping()) {
    workers["error"] = "shutdown is running";
    return {{"resources", resources}, {"workers", workers}};
  }
  workers["started"] = snap.started;
  workers["busy"] = snap.busy;
  workers["blocked_in_get"] = snap.blocked;
  workers["idle"] = snap.idle;
  workers["timed_out"] = snap.timed_out;
  if (snap.started > context.num_workers)
    workers["over_limit_because"] =
      "workers blocked in get or wait lend their CPU, and workers still running a timed-out "
      "function no longer count: new workers take their place, so started exceeds the limit "
      "until those return";
  resources["available"] = units(snap.available);
  return {{"resources", resources}, {"workers", workers}};
}

nlohmann::json placement_groups_state(task_runtime& rt) {
  std::vector<std::shared_ptr<detail::placement_state>> groups;
  for (const auto& [id, group] : *rt.groups.lock())
    groups.push_back(group);
  auto result = nlohmann::json::array();
  for (const auto& group : groups) {
    nlohmann::json entry{
      {"id", group->text}, {"strategy", to_string(group->strategy)}, {"bundles", group->bundles}};
    if (group->current() == detail::placement_state::created) {
      entry["state"] = "created";
    } else {
      entry["state"] = "pending";
      entry["why"] = group->pending_why();
    }
    result.push_back(std::move(entry));
  }
  return result;
}

nlohmann::json tasks_state(const task_runtime& rt, const producer_list& pending,
                           const counter_values& totals) {
  std::size_t waiting = 0;
  std::size_t queued = 0;
  std::size_t running = 0;
  std::vector<std::shared_ptr<task_record>> oldest;
  std::unordered_map<object_id, const objstore::internal::producer*> producer_of;
  for (const auto& [id, made_by] : pending) {
    producer_of.emplace(id, made_by.get());
    auto task = std::dynamic_pointer_cast<task_record>(made_by);
    if (!task)
      continue;
    switch (task->st.load()) {
      case task_record::waiting:
        ++waiting;
        oldest.push_back(std::move(task));
        break;
      case task_record::queued:
        ++queued;
        break;
      case task_record::running:
        ++running;
        break;
      default: // finished or cancelled, its result about to appear
        break;
    }
  }
  // Sequence numbers count up from init: the smallest were submitted first.
  auto by_age = [](const auto& a, const auto& b) {
    return a->result.sequence() < b->result.sequence();
  };
  auto listed = std::min(oldest.size(), oldest_listed);
  std::partial_sort(oldest.begin(), oldest.begin() + static_cast<std::ptrdiff_t>(listed),
                    oldest.end(), by_age);
  oldest.resize(listed);
  auto oldest_json = nlohmann::json::array();
  for (const auto& task : oldest) {
    auto waiting_for = nlohmann::json::array();
    for (const auto& dep : task->deps.ids) {
      if (rt.table().status(dep) != objstore::internal::object_status::pending)
        continue;
      auto p = producer_of.find(dep);
      waiting_for.push_back(
        {{"object", to_string(dep)},
         {"producer",
          p == producer_of.end() ? nlohmann::json{} : nlohmann::json(p->second->describe())}});
    }
    oldest_json.push_back({{"task_id", to_string(task->result)},
                           {"name", task->name()},
                           {"waiting_for", std::move(waiting_for)}});
  }
  return {{"waiting_for_arguments", waiting},
          {"queued", queued},
          {"running", running},
          {"finished", total(totals, counter::tasks_finished)},
          {"failed", total(totals, counter::tasks_failed)},
          {"cancelled", total(totals, counter::tasks_cancelled)},
          {"oldest_waiting", std::move(oldest_json)}};
}

} // namespace rustyray::tasks::internal
