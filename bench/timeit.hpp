#pragma once

// Ray's timeit (python/ray/_private/ray_microbenchmark_helpers.py): a warm-up,
// then a few timed runs whose rates give a mean and a standard deviation.

#include <cstddef>
#include <functional>
#include <vector>

namespace bench {

/// How long each metric runs. The default is Ray's schedule, 4 timed runs of
/// 2 s each after a warm-up of 1 s, with the runs spread over 4 passes over
/// the metrics (each pass warms up again): a floor or peer and the RustyRay
/// line compared with it then take turns, and a slow or fast phase of a
/// shared machine falls on both instead of on one of them.
struct schedule {
  double warmup_s = 1.0;
  int runs = 4;
  double run_s = 2.0;
  /// Bytes of the buffer the bandwidth metrics copy.
  std::size_t big_buffer = std::size_t{800} << 20;
  /// Passes the runs are spread over; divides `runs`.
  int passes = 4;

  /// A smoke run: every code path, no meaningful figure.
  [[nodiscard]] static schedule quick() {
    return {0.1, 2, 0.2, std::size_t{64} << 20, 2};
  }

  /// What one pass runs of each metric: its share of the runs.
  [[nodiscard]] schedule per_pass() const {
    auto one = *this;
    one.runs = runs / passes;
    one.passes = 1;
    return one;
  }
};

/// Mean and standard deviation of the timed runs' rates.
struct result {
  double mean = 0;
  double sd = 0;
  std::vector<double> rates;
};

/// The mean and standard deviation of `rates`, which it keeps.
[[nodiscard]] result summarize(std::vector<double> rates);

/// Ray's timeit: calls `fn` for the warm-up, then for each timed run; one
/// call of `fn` is worth `multiplier` units (1,000 for a loop of 1,000 calls).
[[nodiscard]] result timeit(const schedule& s, const std::function<void()>& fn,
                            double multiplier = 1);

/// Seconds on the steady clock since some fixed point (for stopwatches).
[[nodiscard]] double now_s();

} // namespace bench
