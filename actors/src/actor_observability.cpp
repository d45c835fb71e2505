#include "rustyray/actors/internal/actor_observability.hpp"

#include <unordered_map>

#include <nlohmann/json.hpp>

#include "rustyray/actors/internal/actor_directory.hpp"
#include "rustyray/internal/demangle.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/actors/internal/actor_runtime.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

std::string call_record::describe() const {
  return "call " + name() + " of actor " + to_string(actor)
         + (ready.load() ? " (queued or running)" : " (waiting for arguments)");
}

void record_call(recorder& recording, const call_record& call, const std::string& actor,
                 std::int64_t started) {
  auto ended = recording.now();
  auto& lane = recording.local();
  lane.bump(counter::actor_calls);
  if (!call.output)
    lane.bump(counter::actor_calls_failed);
  if (recording.capacity() == 0)
    return;
  lane.label([&] { return actor.empty() ? std::string{"actor thread"} : "actor " + actor; });
  execution e;
  if (call.method != nullptr && call.by_name.empty())
    e.name = lane.name(call.method, call.identity, [&] { return call.name(); });
  e.result = call.result;
  e.actor = call.actor;
  e.start = started;
  e.end = ended;
  e.what = execution::kind::actor_call;
  if (!call.output)
    e.how = execution::outcome::failed;
  // A named call (and one from plain CAF code, by its registered name) goes
  // by its name.
  e.describe(call.by_name, call.output ? std::string{} : error_text(call.output.error()));
  lane.record(std::move(e));
}

nlohmann::json actors_state(
  const actor_runtime& rt,
  const std::vector<std::pair<object_id, std::shared_ptr<objstore::internal::producer>>>& pending) {
  std::unordered_map<object_id, std::size_t> unfinished;
  for (const auto& [id, made_by] : pending)
    if (auto call = dynamic_cast<const call_record*>(made_by.get()))
      ++unfinished[call->actor];
  static const char* const phases[] = {"starting", "alive", "dead"};
  auto result = nlohmann::json::array();
  for (const auto& [id, host] : rt.actors->hosts()) {
    auto vitals = host->vitals();
    auto calls = unfinished.find(id);
    nlohmann::json actor{{"id", to_string(id)},
                         {"class", demangle(vitals.cls->name())},
                         {"name", vitals.name},
                         {"state", phases[vitals.current]},
                         {"restarts", vitals.restarts},
                         {"queued_calls", calls == unfinished.end() ? 0 : calls->second}};
    if (!vitals.ray_namespace.empty())
      actor["namespace"] = vitals.ray_namespace;
    result.push_back(std::move(actor));
  }
  return result;
}

} // namespace rustyray::actors::internal
