#include "rustyray/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>

#include <nlohmann/json.hpp>

#include "rustyray/error.hpp"
#include "rustyray/internal/metric_registry.hpp"

namespace rustyray::metrics::detail {

enum class kind { counter, gauge, histogram };

const char* to_string(kind k) {
  switch (k) {
    case kind::counter:
      return "counter";
    case kind::gauge:
      return "gauge";
    case kind::histogram:
      return "histogram";
  }
  return "?";
}

/// One metric: its definition and a series per distinct set of tag values.
class family {
public:
  family(kind k, std::string name, std::string description, std::vector<std::string> keys,
         std::vector<double> bounds)
    : k(k), name(std::move(name)), description(std::move(description)), keys(std::move(keys)),
      bounds(std::move(bounds)) {}

  const kind k;
  const std::string name;
  const std::string description;
  const std::vector<std::string> keys;
  const std::vector<double> bounds;

  /// Applies `update` to the series of `tag_values`, under the lock.
  template <class Update>
  void update(const tags& tag_values, Update&& update) {
    auto key = series_key(tag_values);
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = series_.find(key);
    if (i == series_.end())
      i =
        series_.emplace(std::move(key), series{0, std::vector<std::uint64_t>(bounds.size() + 1), 0})
          .first;
    update(i->second);
  }

  struct series {
    double value;                       // a counter's or gauge's value; a histogram's sum
    std::vector<std::uint64_t> buckets; // a histogram's counts per bucket (not cumulative)
    std::uint64_t count;                // a histogram's observations
  };

  /// Each series with its tag values, in key order, copied under the lock.
  std::vector<std::pair<std::vector<std::string>, series>> snapshot() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return {series_.begin(), series_.end()};
  }

private:
  /// The values of `tag_values` in the order of `keys`; `invalid_argument`
  /// for a missing or an unknown key.
  std::vector<std::string> series_key(const tags& tag_values) const {
    std::vector<std::string> values;
    values.reserve(keys.size());
    for (const auto& key : keys) {
      auto i = tag_values.find(key);
      if (i == tag_values.end())
        throw error{errc::invalid_argument, "metric \"" + name + "\": the tag \"" + key
                                              + "\" has no value; give a value for every tag "
                                                "key the metric was created with"};
      values.push_back(i->second);
    }
    if (tag_values.size() != keys.size())
      for (const auto& [key, value] : tag_values)
        if (std::find(keys.begin(), keys.end(), key) == keys.end())
          throw error{errc::invalid_argument,
                      "metric \"" + name + "\": \"" + key
                        + "\" is not one of its tag keys; add it to the keys when creating "
                          "the metric"};
    return values;
  }

  mutable std::mutex mtx_;
  std::map<std::vector<std::string>, series> series_; // guarded by mtx_
};

namespace {

/// Every metric of the process, by name. Never shrinks: a metric lives as
/// long as the process, as in Prometheus' client libraries.
struct registry {
  std::mutex mtx;
  std::map<std::string, std::shared_ptr<family>> families; // guarded by mtx
};

registry& the_registry() {
  static auto* instance = new registry; // never destroyed: metrics may update at exit
  return *instance;
}

bool name_char(char c, bool first, bool colon) {
  bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

bool valid_name(const std::string& text, bool colon) {
  if (text.empty())
    return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!name_char(text[i], i == 0, colon))
      return false;
  return true;
}

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw error{errc::invalid_argument, "metric \"" + name + "\": " + what};
}

std::shared_ptr<family> define(kind k, const std::string& name, const std::string& description,
                               const std::vector<std::string>& keys,
                               const std::vector<double>& bounds) {
  if (!valid_name(name, true))
    bad(name, "a name has letters, digits, '_' and ':' and does not start with a digit "
              "(Prometheus' rule)");
  if (name.rfind("rustyray_", 0) == 0)
    bad(name, "names starting with rustyray_ are RustyRay's own; pick another prefix");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!valid_name(keys[i], false) || keys[i].rfind("__", 0) == 0)
      bad(name, "the tag key \"" + keys[i]
                  + "\" must have letters, digits and '_', not start with a digit or \"__\"");
    if (k == kind::histogram && keys[i] == "le")
      bad(name, "\"le\" is the bucket label of a histogram; pick another tag key");
    if (std::find(keys.begin(), keys.begin() + i, keys[i]) != keys.begin() + i)
      bad(name, "the tag key \"" + keys[i] + "\" is given twice");
  }
  if (k == kind::histogram) {
    if (bounds.empty())
      bad(name, "a histogram needs at least one boundary");
    for (std::size_t i = 0; i < bounds.size(); ++i)
      if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
        bad(name, "boundaries must be finite and strictly increasing, got "
                    + internal::metric_number(bounds[i]) + " at index " + std::to_string(i));
  }
  auto& reg = the_registry();
  std::lock_guard<std::mutex> guard{reg.mtx};
  auto& slot = reg.families[name];
  if (!slot) {
    slot = std::make_shared<family>(k, name, description, keys, bounds);
    return slot;
  }
  if (slot->k != k)
    bad(name, std::string{"exists already as a "} + to_string(slot->k) + "; pick another name");
  if (slot->description != description || slot->keys != keys || slot->bounds != bounds)
    bad(name, "exists already with another description, tag keys or boundaries; create it with "
              "the same ones, or pick another name");
  return slot;
}

void check_finite(const family& f, double value) {
  if (!std::isfinite(value))
    bad(f.name, "a value must be finite, got " + internal::metric_number(value));
}

} // namespace

} // namespace rustyray::metrics::detail

namespace rustyray::metrics {

using detail::kind;

counter::counter(const std::string& name, const std::string& description,
                 const std::vector<std::string>& tag_keys)
  : family_(detail::define(kind::counter, name, description, tag_keys, {})) {}

void counter::inc(double amount, const tags& tag_values) {
  if (!(amount > 0) || !std::isfinite(amount))
    detail::bad(family_->name, "a counter goes up by a positive, finite amount, got "
                                 + internal::metric_number(amount)
                                 + " (use a gauge for values "
                                   "that go down)");
  family_->update(tag_values, [&](auto& s) { s.value += amount; });
}

gauge::gauge(const std::string& name, const std::string& description,
             const std::vector<std::string>& tag_keys)
  : family_(detail::define(kind::gauge, name, description, tag_keys, {})) {}

void gauge::set(double value, const tags& tag_values) {
  detail::check_finite(*family_, value);
  family_->update(tag_values, [&](auto& s) { s.value = value; });
}

histogram::histogram(const std::string& name, const std::string& description,
                     const std::vector<double>& boundaries,
                     const std::vector<std::string>& tag_keys)
  : family_(detail::define(kind::histogram, name, description, tag_keys, boundaries)) {}

void histogram::observe(double value, const tags& tag_values) {
  detail::check_finite(*family_, value);
  const auto& bounds = family_->bounds;
  auto bucket = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value)
                                         - bounds.begin()); // the first bound >= value
  family_->update(tag_values, [&](auto& s) {
    ++s.buckets[bucket];
    ++s.count;
    s.value += value;
  });
}

} // namespace rustyray::metrics

namespace rustyray::internal {

namespace {

using metrics::detail::family;
using metrics::detail::kind;

std::vector<std::shared_ptr<family>> all_families() {
  auto& reg = metrics::detail::the_registry();
  std::lock_guard<std::mutex> guard{reg.mtx};
  std::vector<std::shared_ptr<family>> result;
  result.reserve(reg.families.size());
  for (const auto& [name, f] : reg.families)
    result.push_back(f);
  return result;
}

/// Label values may hold any text: `\`, `"` and newlines are escaped.
std::string escaped(const std::string& text, bool quotes) {
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      result += "\\\\";
    else if (c == '\n')
      result += "\\n";
    else if (c == '"' && quotes)
      result += "\\\"";
    else
      result += c;
  }
  return result;
}

} // namespace

std::string metric_number(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  auto end = std::to_chars(text, text + sizeof(text), value).ptr;
  return {text, end};
}

void exposition::family(const std::string& name, const char* type, const std::string& help) {
  out_ += "# HELP " + name + " " + escaped(help, false) + "\n# TYPE " + name + " " + type + "\n";
}

void exposition::sample(const std::string& name, const labels& tags, double value) {
  out_ += name;
  if (!tags.empty()) {
    out_ += '{';
    for (std::size_t i = 0; i < tags.size(); ++i)
      out_ += (i == 0 ? "" : ",") + tags[i].first + "=\"" + escaped(tags[i].second, true) + "\"";
    out_ += '}';
  }
  out_ += ' ' + metric_number(value) + '\n';
}

nlohmann::json user_metrics_json() {
  auto result = nlohmann::json::object();
  for (const auto& f : all_families()) {
    auto series = nlohmann::json::array();
    for (const auto& [values, s] : f->snapshot()) {
      auto tag_values = nlohmann::json::object();
      for (std::size_t i = 0; i < f->keys.size(); ++i)
        tag_values[f->keys[i]] = values[i];
      if (f->k == kind::histogram)
        series.push_back(
          {{"tags", tag_values}, {"count", s.count}, {"sum", s.value}, {"buckets", s.buckets}});
      else
        series.push_back({{"tags", tag_values}, {"value", s.value}});
    }
    nlohmann::json entry{{"type", metrics::detail::to_string(f->k)},
                         {"description", f->description},
                         {"tag_keys", f->keys},
                         {"series", std::move(series)}};
    if (f->k == kind::histogram)
      entry["boundaries"] = f->bounds;
    result[f->name] = std::move(entry);
  }
  return result;
}

void write_user_metrics(exposition& out) {
  for (const auto& f : all_families()) {
    out.family(f->name, metrics::detail::to_string(f->k), f->description);
    for (const auto& [values, s] : f->snapshot()) {
      labels tags;
      for (std::size_t i = 0; i < f->keys.size(); ++i)
        tags.emplace_back(f->keys[i], values[i]);
      if (f->k != kind::histogram) {
        out.sample(f->name, tags, s.value);
        continue;
      }
      std::uint64_t cumulative = 0;
      tags.emplace_back("le", "");
      for (std::size_t i = 0; i < s.buckets.size(); ++i) {
        cumulative += s.buckets[i];
        tags.back().second = metric_number(i < f->bounds.size() ? f->bounds[i] : INFINITY);
        out.sample(f->name + "_bucket", tags, static_cast<double>(cumulative));
      }
      tags.pop_back();
      out.sample(f->name + "_sum", tags, s.value);
      out.sample(f->name + "_count", tags, static_cast<double>(s.count));
    }
  }
}

} // namespace rustyray::internal
