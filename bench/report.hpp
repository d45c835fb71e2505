#pragma once

// The report: latest.json (everything measured, the Ray figures and how the
// run was made), and two views of it, latest.md (tables) and latest.svg (a
// bar chart on a log scale). The views are rendered from the JSON alone.

#include <string>

#include <nlohmann/json.hpp>

namespace bench {

/// `x` rounded to `digits` significant digits (keeps the JSON readable).
[[nodiscard]] double round_sig(double x, int digits);

/// The Markdown view: every metric with Ray 2.48's figure and the ratios, the
/// chart, the scaling tables, and how to reproduce the run.
[[nodiscard]] std::string render_markdown(const nlohmann::ordered_json& report);

/// The chart: each RustyRay metric in ops/s next to its peers, floors and
/// Ray 2.48, horizontal bars on a log scale. Plain SVG text.
[[nodiscard]] std::string render_svg(const nlohmann::ordered_json& report);

/// Writes latest.json, latest.md and latest.svg into `dir` (created if
/// missing); each file appears complete or not at all. Throws
/// `std::runtime_error` naming the file it could not write.
void write_report(const std::string& dir, const nlohmann::ordered_json& report);

} // namespace bench
