// rustyray::state(): the sections come from the modules that own the state
// (tasks/src/task_observability.hpp, actors/src/actor_observability.hpp),
// as runtime.cpp starts them.

#include "rustyray/state.hpp"

#include <algorithm>

#include "rustyray/actors/internal/actor_observability.hpp"
#include "rustyray/internal/metric_registry.hpp"
#include "rustyray/internal/recorder.hpp"
#include "runtime_state.hpp"
#include "rustyray/tasks/internal/task_observability.hpp"

namespace rustyray {

namespace {

/// How many of the largest objects `state()` lists.
constexpr std::size_t largest_listed = 5;

nlohmann::json store_state(const objstore::internal::object_table& table) {
  auto stats = table.stats();
  auto largest = nlohmann::json::array();
  for (const auto& [id, size] : table.largest(largest_listed))
    largest.push_back({{"object", to_string(id)}, {"bytes", size}});
  return {{"objects", stats.objects},
          {"bytes_used", stats.bytes_used},
          {"capacity", stats.capacity},
          {"pinned", stats.pinned},
          {"pinned_bytes", stats.pinned_bytes},
          {"puts", stats.puts},
          {"gets", stats.gets},
          {"hits", stats.hits},
          {"misses", stats.misses},
          {"evictions", stats.evictions},
          {"largest", std::move(largest)}};
}

/// "tasks_submitted" as "tasks submitted", for a metric's help text.
std::string spaced(std::string words) {
  std::replace(words.begin(), words.end(), '_', ' ');
  return words;
}

/// RustyRay's own metrics of the running runtime, under `rustyray_`.
void write_runtime_metrics(const internal::runtime_state& rt, internal::exposition& out) {
  auto totals = rt.node->recording().totals();
  for (std::size_t i = 0; i < totals.size(); ++i) {
    auto name = std::string{"rustyray_"} + internal::counter_names[i] + "_total";
    out.family(name, "counter",
               std::string{"RustyRay: "} + internal::counter_names[i] + " since init");
    out.sample(name, {}, static_cast<double>(totals[i]));
  }
  auto tasks = tasks::internal::tasks_state(*rt.tasks, rt.table().producers(), totals);
  out.family("rustyray_tasks", "gauge", "RustyRay: live tasks by state");
  for (const char* phase : {"waiting_for_arguments", "queued", "running"})
    out.sample("rustyray_tasks", {{"state", phase}}, tasks[phase].get<double>());
  out.family("rustyray_actors", "gauge", "RustyRay: actors whose host runs");
  out.sample("rustyray_actors", {}, static_cast<double>(rt.actors->actors->size()));
  auto node = tasks::internal::workers_state(*rt.tasks);
  out.family("rustyray_workers", "gauge", "RustyRay: task workers by state");
  for (const char* phase : {"busy", "blocked_in_get", "idle", "timed_out"})
    if (node["workers"].contains(phase))
      out.sample("rustyray_workers", {{"state", phase}}, node["workers"][phase].get<double>());
  for (const char* which : {"total", "available"}) {
    auto name = std::string{"rustyray_resources_"} + which;
    out.family(name, "gauge", std::string{"RustyRay: resources of this node, "} + which);
    auto amounts = node["resources"].value(which, nlohmann::json::object());
    for (const auto& [resource, amount] : amounts.items())
      out.sample(name, {{"resource", resource}}, amount.get<double>());
  }
  auto stats = rt.table().stats();
  const std::pair<const char*, std::uint64_t> store_gauges[] = {
    {"objects", stats.objects},
    {"bytes", stats.bytes_used},
    {"capacity_bytes", stats.capacity},
    {"pinned_objects", stats.pinned},
    {"pinned_bytes", stats.pinned_bytes}};
  for (const auto& [what, value] : store_gauges) {
    auto name = std::string{"rustyray_object_store_"} + what;
    out.family(name, "gauge", "RustyRay: object store " + spaced(what));
    out.sample(name, {}, static_cast<double>(value));
  }
  const std::pair<const char*, std::uint64_t> store_counters[] = {{"puts", stats.puts},
                                                                  {"gets", stats.gets},
                                                                  {"hits", stats.hits},
                                                                  {"misses", stats.misses},
                                                                  {"evictions", stats.evictions}};
  for (const auto& [what, value] : store_counters) {
    auto name = std::string{"rustyray_object_store_"} + what + "_total";
    out.family(name, "counter", std::string{"RustyRay: object store "} + what + " since init");
    out.sample(name, {}, static_cast<double>(value));
  }
}

} // namespace

std::string metrics_text() {
  internal::exposition out;
  if (auto rt = internal::current(); rt && !rt->node->stopping())
    write_runtime_metrics(*rt, out);
  internal::write_user_metrics(out);
  return out.take();
}

nlohmann::json state() {
  auto rt = internal::current_or_throw();
  auto& recording = rt->node->recording();
  auto totals = recording.totals();
  auto pending = rt->table().producers();
  auto node = tasks::internal::workers_state(*rt->tasks);
  node["id"] = internal::node_text(rt->node->id());
  node["namespace"] = rt->node->ray_namespace();
  node["uptime_seconds"] = static_cast<double>(recording.now()) / 1e9;
  auto counters = nlohmann::json::object();
  for (std::size_t i = 0; i < totals.size(); ++i)
    counters[internal::counter_names[i]] = totals[i];
  return {{"node", std::move(node)},
          {"tasks", tasks::internal::tasks_state(*rt->tasks, pending, totals)},
          {"actors", actors::internal::actors_state(*rt->actors, pending)},
          {"placement_groups", tasks::internal::placement_groups_state(*rt->tasks)},
          {"object_store", store_state(rt->table())},
          {"counters", std::move(counters)},
          {"metrics", internal::user_metrics_json()},
          {"config", rt->node->cfg().to_json()}};
}

} // namespace rustyray
