#pragma once

// The multi-node lines: this process the head of a cluster on loopback (and
// its driver), two worker processes of this program joined to it; RustyRay's
// tasks to the workers next to raw CAF requests between the same processes
// (each worker also publishes a plain CAF echo actor in an actor system of
// its own). Measured after the single-node metrics, in a runtime of its own.

#include <memory>
#include <string>
#include <vector>

#include "metric.hpp"
#include "timeit.hpp"

namespace bench {

/// `microbenchmark --node ADDRESS TOKEN`: one worker of the benchmark's
/// cluster. Prints "node <node ID> <echo port>", serves until the head goes.
int run_cluster_node(const std::string& address, const std::string& token);

class bench_cluster {
public:
  /// Starts the runtime as the head and `workers` worker processes of
  /// `program` (this benchmark's own file).
  bench_cluster(const std::string& program, int workers);
  /// Kills the workers, shuts the runtime down.
  ~bench_cluster();
  bench_cluster(const bench_cluster&) = delete;
  bench_cluster& operator=(const bench_cluster&) = delete;

  /// The multi-node metrics and their floors, in run order.
  [[nodiscard]] std::vector<metric> metrics(const schedule& s);

  /// Their names, in the same order, known before the cluster starts.
  [[nodiscard]] static const std::vector<std::string>& metric_names();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace bench
