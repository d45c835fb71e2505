#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

/// Application metrics, as Ray's metrics API (`ray.util.metrics`) offers
/// them: counters, gauges and histograms with tags. Their values show in
/// `rustyray::state()["metrics"]` and, with RustyRay's own counters, in
/// `rustyray::metrics_text()` (Prometheus' text format, for a scraper).
///
/// ~~~
/// rustyray::metrics::counter requests{"app_requests", "requests served", {"route"}};
/// rustyray::metrics::histogram latency{"app_latency_ms", "time per request",
///                                      {1, 10, 100}, {"route"}};
/// requests.inc(1, {{"route", "/users"}});
/// latency.observe(3.5, {{"route", "/users"}});
/// ~~~
///
/// A metric belongs to the process, not to a runtime: it can be created
/// before `init`, from any thread, and keeps its values across `shutdown`
/// and a new `init`. Creating a metric whose name exists already gives
/// another handle on the same one (when type, description, tag keys and
/// boundaries match; otherwise `invalid_argument`). Every call is
/// thread-safe.
namespace rustyray::metrics {

/// Tag values by tag key. An update gives a value for each of the metric's
/// tag keys and no other key; each distinct set of values is a series of
/// its own.
using tags = std::map<std::string, std::string>;

namespace detail {
class family;
} // namespace detail

/// A value that only goes up: requests served, bytes sent.
class counter {
public:
  /// `name`: letters, digits, `_` and `:`, not starting with a digit (as
  /// Prometheus names are), not starting with `rustyray_` (RustyRay's own).
  /// Tag keys: letters, digits and `_`, not starting with a digit or `__`.
  /// A bad name or key throws `invalid_argument`.
  explicit counter(const std::string& name, const std::string& description = {},
                   const std::vector<std::string>& tag_keys = {});

  /// Adds `amount` (positive and finite, as Ray requires) to the series of
  /// `tag_values`; anything else, or tags that do not match the tag keys,
  /// throws `invalid_argument`.
  void inc(double amount = 1, const tags& tag_values = {});

private:
  std::shared_ptr<detail::family> family_;
};

/// A value that goes up and down: queue length, memory in use.
class gauge {
public:
  /// Names and tag keys as for `counter`.
  explicit gauge(const std::string& name, const std::string& description = {},
                 const std::vector<std::string>& tag_keys = {});

  /// Sets the series of `tag_values` to `value` (finite).
  void set(double value, const tags& tag_values = {});

private:
  std::shared_ptr<detail::family> family_;
};

/// A distribution: how many observations fell at or below each boundary,
/// with their count and sum.
class histogram {
public:
  /// `boundaries`: the buckets' upper bounds, finite and strictly
  /// increasing, at least one (an implicit last bucket, `+Inf`, takes the
  /// rest). Names and tag keys as for `counter`; the tag key `le` is
  /// Prometheus' bucket label and cannot be used.
  histogram(const std::string& name, const std::string& description,
            const std::vector<double>& boundaries, const std::vector<std::string>& tag_keys = {});

  /// Records one observation of `value` (finite) in the series of
  /// `tag_values`.
  void observe(double value, const tags& tag_values = {});

private:
  std::shared_ptr<detail::family> family_;
};

} // namespace rustyray::metrics
