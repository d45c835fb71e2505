#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace rustyray {

/// A snapshot of what this node's runtime is doing, as JSON a person or a
/// tool can read (Ray's `ray status` and state API in one): the node (ID,
/// resources total and available, workers busy and idle), tasks by state with
/// the oldest ones waiting for arguments and what they wait for, actors, the
/// object store, the configuration in effect, and counters since `init`. The
/// README's "Observability" section shows and explains every key. Callable
/// from any thread, also inside tasks and actor methods; throws
/// `runtime_not_initialized` without a runtime.
///
/// ~~~
/// auto s = rustyray::state();
/// std::cout << s["tasks"]["running"] << " running, "
///           << s["counters"]["tasks_finished"] << " finished\n";
/// std::cout << s.dump(2) << "\n";
/// ~~~
[[nodiscard]] nlohmann::json state();

/// The application's metrics (`rustyray/metrics.hpp`) and RustyRay's own
/// (`rustyray_`: tasks by state and since `init`, actor calls, actors,
/// workers, resources, object store bytes, objects and evictions) in
/// Prometheus' text exposition format (version 0.0.4), for a scraper to
/// read: serve it on an HTTP endpoint, or write it to a file for node
/// exporter's textfile collector. Any thread; without a runtime, only the
/// application's metrics.
[[nodiscard]] std::string metrics_text();

} // namespace rustyray
