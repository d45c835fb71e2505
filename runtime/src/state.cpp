// rustyray::state(): the sections come from the modules that own the state
// (tasks/src/task_observability.hpp, actors/src/actor_observability.hpp),
// as runtime.cpp starts them.

#include "rustyray/state.hpp"

#include "rustyray/actors/internal/actor_observability.hpp"
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

} // namespace

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
          {"object_store", store_state(rt->table())},
          {"counters", std::move(counters)},
          {"config", rt->node->cfg().to_json()}};
}

} // namespace rustyray
