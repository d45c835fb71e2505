#pragma once

// Ray's timeit (python/ray/_private/ray_microbenchmark_helpers.py): a warm-up,
// then a few timed runs whose rates give a mean and a standard deviation.

#include <cstddef>
#include <functional>

namespace bench {

/// How long each metric runs. The default is Ray's schedule: 1 s of warm-up,
/// then 4 timed runs of 2 s each.
struct schedule {
  double warmup_s = 1.0;
  int runs = 4;
  double run_s = 2.0;
  /// Bytes of the buffer the bandwidth metrics copy.
  std::size_t big_buffer = std::size_t{800} << 20;

  /// A smoke run: every code path, no meaningful figure.
  [[nodiscard]] static schedule quick() {
    return {0.1, 2, 0.2, std::size_t{64} << 20};
  }
};

/// Mean and standard deviation of the timed runs' rates.
struct result {
  double mean = 0;
  double sd = 0;
};

/// Ray's timeit: calls `fn` for the warm-up, then for each timed run; one
/// call of `fn` is worth `multiplier` units (1,000 for a loop of 1,000 calls).
[[nodiscard]] result timeit(const schedule& s, const std::function<void()>& fn,
                            double multiplier = 1);

/// Seconds on the steady clock since some fixed point (for stopwatches).
[[nodiscard]] double now_s();

} // namespace bench
