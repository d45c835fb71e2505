#include "rustyray/timeline.hpp"

#include <fstream>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "rustyray/internal/recorder.hpp"
#include "runtime_state.hpp"
#include "rustyray/error.hpp"

namespace rustyray {

namespace {

const char* outcome_name(internal::execution::outcome how) {
  return how == internal::execution::outcome::finished ? "finished" : "failed";
}

/// Trace-event timestamps are microseconds; fractions keep short tasks apart.
double micros(std::int64_t nanos) {
  return static_cast<double>(nanos) / 1000.0;
}

} // namespace

void timeline(const std::string& path) {
  auto rt = internal::current_or_throw();
  auto snap = rt->node->recording().collect();
  auto node = internal::node_text(rt->node->id());
  // The node as the process: 31 bits of its ID fit every trace viewer, and
  // the full ID is the process's name.
  auto pid = static_cast<std::int64_t>(rt->node->id() & 0x7fffffff);
  auto events = nlohmann::json::array();
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", pid},
                    {"args", {{"name", "rustyray node " + node}}}});
  std::set<std::uint32_t> tracks;
  for (const auto& e : snap.events) {
    tracks.insert(e.track);
    // A task is known by its result object (cancel takes the result's ref):
    // its task ID is its result ID.
    nlohmann::json args{{"task_id", to_string(e.result)},
                        {"result_id", to_string(e.result)},
                        {"outcome", outcome_name(e.how)}};
    if (e.what == internal::execution::kind::actor_call)
      args["actor_id"] = to_string(e.actor);
    if (e.attempts > 1)
      args["attempts"] = e.attempts;
    if (e.extra && !e.extra->error.empty())
      args["error"] = e.extra->error;
    events.push_back({{"name", e.shown_name()},
                      {"cat", e.what == internal::execution::kind::task ? "task" : "actor_call"},
                      {"ph", "X"},
                      {"ts", micros(e.start)},
                      {"dur", micros(e.end - e.start)},
                      {"pid", pid},
                      {"tid", e.track + 1},
                      {"args", std::move(args)}});
  }
  for (auto track : tracks) {
    auto label = snap.labels.find(track);
    auto name = (label == snap.labels.end() ? std::string{"thread"} : label->second) + " #"
                + std::to_string(track + 1);
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", pid},
                      {"tid", track + 1},
                      {"args", {{"name", std::move(name)}}}});
  }
  nlohmann::json document{{"traceEvents", std::move(events)},
                          {"displayTimeUnit", "ms"},
                          {"otherData",
                           {{"node", node},
                            {"capacity", rt->node->recording().capacity()},
                            {"dropped_events", snap.dropped}}}};
  std::ofstream out{path};
  out << document.dump();
  out.close();
  if (!out)
    throw error{errc::invalid_argument, "rustyray::timeline could not write \"" + path
                                          + "\": check that the directory exists and is writable"};
}

} // namespace rustyray
