#pragma once

// The lines of the benchmark (metrics.cpp): every RustyRay metric with the
// peers and floors it is compared with, in run order.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <rustyray/object_ref.hpp>

#include "caf_floors.hpp"
#include "peers.hpp"
#include "timeit.hpp"

namespace bench {

/// One line of the benchmark: a RustyRay metric, a peer or a floor.
struct metric {
  std::string name;
  std::string kind;   // "rustyray", "peer" or "floor"
  std::string series; // its bar colour in the chart: "RustyRay", "std::async", ...
  std::string unit;
  std::string about; // what the loop does, for the report
  std::function<result()> measure;
  /// The lines this one is compared with: {ratio key, metric name}.
  std::vector<std::pair<std::string, std::string>> against = {};
  nlohmann::ordered_json extra = nlohmann::ordered_json::object(); // more fields, e.g. n
};

/// What the metrics measure with; owned by the caller, which keeps it alive
/// (and the RustyRay runtime up) while the metrics run.
struct metric_context {
  const schedule& sched;
  caf_floors& floors;
  asio_pool& pool;
  mutex_map& map;
  std::size_t pool_threads;               // the pool's threads (RustyRay's task workers)
  std::size_t n;                          // actors in the 1:n and n:n patterns
  const rustyray::object_ref<int>& small; // read by the get metric
  std::vector<std::uint8_t>& buffer;      // filled by the first bandwidth metric
  std::vector<std::uint8_t>& target;
};

/// Every metric, in run order: peers and floors before the RustyRay lines
/// that are compared with them.
[[nodiscard]] std::vector<metric> all_metrics(const metric_context& ctx);

} // namespace bench
