#pragma once

#include <map>
#include <string>

namespace rustyray {

/// How a task is run: set through the builder (`task(f).max_retries(2)...`).
struct task_options {
  /// Extra attempts after a failure that may be retried.
  int max_retries = 0;
  /// Whether an exception thrown by the function is such a failure.
  bool retry_exceptions = false;
  /// CPUs the task holds while it runs (fractions allowed).
  double num_cpus = 1.0;
  /// Custom resources the task holds while it runs, by name.
  std::map<std::string, double> resources;
  /// The name in errors and logs; the function's name when empty.
  std::string name;
};

} // namespace rustyray
