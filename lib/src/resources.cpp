#include "rustyray/internal/resources.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include "rustyray/errc.hpp"
#include "rustyray/error.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/placement_state.hpp"

namespace rustyray::internal {

namespace {

/// Amounts beyond this are all the same to the scheduler (no node has that
/// much); capping them keeps the thousandths, and their sums, in range.
constexpr double max_amount = 1e15;

std::int64_t thousandths(double amount) {
  return static_cast<std::int64_t>(std::llround(std::min(amount, max_amount) * 1000));
}

/// Why `amount` is no resource request (as Ray rules: finite, not
/// negative, above 1 only whole units), or an empty string.
std::string malformed_amount(double amount) {
  if (!(std::isfinite(amount) && amount >= 0))
    return "must be a finite number >= 0";
  if (amount > 1 && std::floor(amount) != amount)
    return "above 1 must be a whole number (fractions only below 1)";
  return {};
}

} // namespace

caf::expected<resource_amounts> resource_request(const std::string& who, double num_cpus,
                                                 const std::map<std::string, double>& resources) {
  auto invalid = [&](const std::string& what, double amount, const std::string& why) {
    return make_error(errc::invalid_argument,
                      who + ": " + what + " " + why + ", got " + number_text(amount));
  };
  resource_amounts request;
  // A "CPU" entry is the CPU request; num_cpus counts only without one.
  if (resources.count("CPU") == 0) {
    if (auto why = malformed_amount(num_cpus); !why.empty())
      return invalid("num_cpus", num_cpus, why);
    if (num_cpus > 0)
      request["CPU"] = thousandths(num_cpus);
  }
  for (const auto& [name, amount] : resources) {
    if (name.empty())
      return make_error(errc::invalid_argument,
                        who + ": a resource has an empty name (resources({{\"\", "
                          + number_text(amount) + "}})); name every resource");
    auto why = malformed_amount(amount);
    if (why.empty() && amount == 0)
      why = "must be positive (leave the entry out"
            + std::string{name == "CPU" ? ", or use num_cpus(0)" : ""} + ")";
    if (!why.empty())
      return invalid("resource \"" + name + "\"", amount, why);
    request[name] = thousandths(amount);
  }
  return request;
}

namespace {

/// The first resource of `request` that `total` has less of: its name, the
/// amount asked for and the amount there is (in units); none if all fit.
std::optional<std::tuple<std::string, double, double>> shortfall(const resource_amounts& request,
                                                                 const resource_amounts& total) {
  for (const auto& [name, amount] : request) {
    auto i = total.find(name);
    auto have = i == total.end() ? 0 : i->second;
    if (amount > have)
      return std::make_tuple(name, amount / 1000.0, have / 1000.0);
  }
  return std::nullopt;
}

} // namespace

std::string unmet(const resource_amounts& request, const resource_amounts& total) {
  auto missing = shortfall(request, total);
  if (!missing)
    return {};
  auto& [name, need, have] = *missing;
  return "it needs " + number_text(need) + " " + name + " but this node has " + number_text(have)
         + " " + name + "; lower the request or add the resource to config.resources";
}

bool fits(const resource_amounts& available, const resource_amounts& request) {
  for (const auto& [name, amount] : request) {
    auto i = available.find(name);
    if (amount > 0 && (i == available.end() || i->second < amount))
      return false;
  }
  return true;
}

void add_amounts(resource_amounts& into, const resource_amounts& amounts, int sign) {
  for (const auto& [name, amount] : amounts)
    into[name] += sign * amount;
}

std::string bundle_resource(const std::string& name, const std::string& group, int index) {
  return index < 0 ? name + "_group_" + group
                   : name + "_group_" + std::to_string(index) + "_" + group;
}

resource_amounts in_bundle(const resource_amounts& request, const std::string& group, int index) {
  resource_amounts result;
  for (const auto& [name, amount] : request) {
    result[bundle_resource(name, group, -1)] += amount;
    if (index >= 0)
      result[bundle_resource(name, group, index)] += amount;
  }
  // Every bundle offers 1000 "bundle" units; everything in it takes a
  // thousandth of one, so a request without resources also waits for the
  // group and fails once it is removed, as in Ray.
  result[bundle_resource("bundle", group, -1)] += 1;
  if (index >= 0)
    result[bundle_resource("bundle", group, index)] += 1;
  return result;
}

caf::expected<resource_amounts> placed_request(const std::string& who, double num_cpus,
                                               const std::map<std::string, double>& resources,
                                               const detail_placement_state* placed, int index) {
  auto request = resource_request(who, num_cpus, resources);
  if (!request || placed == nullptr)
    return request;
  const auto& group = *placed;
  auto count = static_cast<int>(group.bundles.size());
  if (index < -1 || index >= count)
    return make_error(errc::invalid_argument,
                      who + ": bundle index " + std::to_string(index) + " of placement group "
                        + group.text + ", which has " + std::to_string(count)
                        + " bundles; use 0 to " + std::to_string(count - 1) + ", or -1 for any");
  std::string why;
  for (int i = 0; i < count; ++i) {
    if (index >= 0 && i != index)
      continue;
    auto offered = resource_request(who, 0, group.bundles[static_cast<std::size_t>(i)]);
    if (!offered)
      return offered.error();
    auto missing = shortfall(*request, *offered);
    if (!missing)
      return in_bundle(*request, group.text, index);
    auto& [name, need, have] = *missing;
    why = "it needs " + number_text(need) + " " + name + " but bundle " + std::to_string(i)
          + " of placement group " + group.text + " has " + number_text(have) + " " + name
          + (index < 0 ? " (and no bundle has enough)" : "");
  }
  return make_error(errc::task_unschedulable, who + " can never run: " + why
                                                + "; lower the request or use a bundle "
                                                  "that fits it");
}

bool is_bundle_resource(const resource_amounts& request) {
  // On every task's path: no string is built for the comparison.
  for (const auto& entry : request)
    if (entry.first.compare(0, 13, "bundle_group_") == 0)
      return true;
  return false;
}

} // namespace rustyray::internal

namespace rustyray {

const char* to_string(placement_strategy strategy) noexcept {
  switch (strategy) {
    case placement_strategy::pack:
      return "PACK";
    case placement_strategy::spread:
      return "SPREAD";
    case placement_strategy::strict_pack:
      return "STRICT_PACK";
    case placement_strategy::strict_spread:
      return "STRICT_SPREAD";
  }
  return "?";
}

object_id placement_group::id() const noexcept {
  return state_ ? state_->id : object_id{};
}

namespace {

const detail::placement_state& checked(const std::shared_ptr<detail::placement_state>& state) {
  if (!state)
    throw error{errc::invalid_argument, "this placement_group handle names no group (a "
                                        "default-constructed one); create one with "
                                        "rustyray::placement_group(bundles, strategy)"};
  return *state;
}

} // namespace

const std::vector<bundle>& placement_group::bundles() const {
  return checked(state_).bundles;
}

placement_strategy placement_group::strategy() const {
  return checked(state_).strategy;
}

bool placement_group::ready() const {
  return checked(state_).current() == detail::placement_state::created;
}

bool placement_group::removed() const {
  return checked(state_).current() == detail::placement_state::removed;
}

bool placement_group::wait(std::chrono::milliseconds timeout) const {
  if (timeout.count() < 0)
    throw error{errc::invalid_argument, "placement_group::wait: a timeout must not be negative"};
  return checked(state_).wait_created(timeout);
}

} // namespace rustyray

namespace rustyray::detail {

void placement_state::set(phase ph, std::string why) {
  {
    std::lock_guard<std::mutex> guard{mtx};
    if (phase_ == removed)
      return; // for good
    phase_ = ph;
    why_ = std::move(why);
  }
  changed_.notify_all();
}

placement_state::phase placement_state::current() const {
  std::lock_guard<std::mutex> guard{mtx};
  return phase_;
}

std::string placement_state::pending_why() const {
  std::lock_guard<std::mutex> guard{mtx};
  return phase_ == pending ? why_ : std::string{};
}

bool placement_state::wait_created(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{mtx};
  auto done = [this] { return phase_ != pending; };
  if (timeout >= std::chrono::hours(24 * 365 * 100))
    changed_.wait(guard, done);
  else
    changed_.wait_for(guard, timeout, done);
  return phase_ == created;
}

} // namespace rustyray::detail
