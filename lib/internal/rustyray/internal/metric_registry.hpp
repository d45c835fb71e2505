#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace rustyray::internal {

/// Label names and values of one sample, in the order they are written.
using labels = std::vector<std::pair<std::string, std::string>>;

/// Prometheus' text exposition format (version 0.0.4): a `# HELP` and
/// `# TYPE` line per family, then its samples, label values escaped.
class exposition {
public:
  /// Starts a family; `type` is "counter", "gauge" or "histogram".
  void family(const std::string& name, const char* type, const std::string& help);

  /// One sample line: `name{labels} value`.
  void sample(const std::string& name, const labels& tags, double value);

  /// The text written so far.
  [[nodiscard]] std::string take() {
    return std::move(out_);
  }

private:
  std::string out_;
};

/// A number as the exposition writes it: the shortest text that reads
/// back to the same double ("3", "0.1", "+Inf").
std::string metric_number(double value);

/// The application's metrics (`rustyray/metrics.hpp`) for `state()`: by
/// name, each with its type, description, tag keys, boundaries (a
/// histogram) and one entry per series.
nlohmann::json user_metrics_json();

/// Appends the application's metrics to `out`.
void write_user_metrics(exposition& out);

} // namespace rustyray::internal
