#pragma once

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>

#include "rustyray/placement_group.hpp"

namespace rustyray {

/// How a task is run: set through the builder (`task(f).max_retries(2)...`).
struct task_options {
  /// Extra attempts after a failure that may be retried: a timeout, a worker
  /// that died, and (with `retry_exceptions`) an exception. Must be >= 0.
  int max_retries = 0;
  /// Whether an exception thrown by the function is such a failure.
  bool retry_exceptions = false;
  /// CPUs the task holds while it runs (0 for none; fractions below 1,
  /// whole numbers above), unless `resources` has a `"CPU"` entry.
  double num_cpus = 1.0;
  /// Resources the task holds while it runs, by name: each amount positive,
  /// fractions below 1, whole numbers above. A `"CPU"` entry is the CPU
  /// request (`num_cpus` is then not used).
  std::map<std::string, double> resources;
  /// The name in errors and logs; the function's name when empty.
  std::string name;
  /// How long one attempt may run; no limit when empty. Must be positive;
  /// `nanoseconds::max()` (what `rustyray::forever` converts to) is no limit.
  std::optional<std::chrono::nanoseconds> timeout;
  /// The placement group the task runs in (none: a default-constructed
  /// handle), and its bundle (-1: any).
  placement_group group;
  int bundle_index = -1;
  /// The node the task must run on (`node_info::id`); any node when empty.
  std::string node;
};

namespace detail {

/// `d` in nanoseconds, saturating instead of overflowing: `forever` and
/// other huge durations become `nanoseconds::max()`, a NaN becomes
/// `nanoseconds::min()` (refused at submission like any non-positive value).
template <class Rep, class Period>
std::chrono::nanoseconds saturating_nanoseconds(std::chrono::duration<Rep, Period> d) {
  using ns = std::chrono::nanoseconds;
  auto exact = std::chrono::duration<long double, std::nano>(d).count();
  if (std::isnan(exact))
    return ns::min();
  if (exact >= static_cast<long double>(std::numeric_limits<ns::rep>::max()))
    return ns::max();
  if (exact <= static_cast<long double>(std::numeric_limits<ns::rep>::min()))
    return ns::min();
  return ns{static_cast<ns::rep>(exact)};
}

} // namespace detail

} // namespace rustyray
