#pragma once

// The scaling runs: how the cost of a RustyRay operation grows with the
// amount of work (tasks outstanding, object size, chain depth, actors).
// Each series is a JSON object that the report renders as a table.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

/// The points of each series and how often each point repeats (its figure
/// is the median of the repeats).
struct scaling_plan {
  std::vector<std::size_t> outstanding_tasks;
  std::vector<std::size_t> object_sizes; // bytes
  std::vector<std::size_t> chain_depths;
  std::vector<std::size_t> actor_counts;
  int min_repeats = 3;
  double min_seconds = 0.5; // repeat small points until they took this long
  int max_repeats = 50;

  /// 1k…1M tasks, 1 KiB…256 MiB, depth 1…10,000, 1…10,000 actors.
  [[nodiscard]] static scaling_plan full();
  /// A few small points, each once: every code path, no meaningful figure.
  [[nodiscard]] static scaling_plan quick();
};

/// Told what runs next, for the progress line on stderr.
using progress_fn = std::function<void(const std::string&)>;

/// One scaling series: its name (`scaling_...`) and the function that runs it.
struct scaling_series {
  std::string name;
  std::function<nlohmann::ordered_json(const scaling_plan&, const progress_fn&)> run;
};

/// Every series, in run order. They need a running RustyRay runtime with room
/// for the largest object twice over.
[[nodiscard]] std::vector<scaling_series> scaling_series_list();

} // namespace bench
