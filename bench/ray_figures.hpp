#pragma once

namespace bench {

/// The text of bench/ray_2_48.json (Ray 2.48's published microbenchmark
/// figures and where they come from), built into the program.
[[nodiscard]] const char* ray_figures_json();

} // namespace bench
