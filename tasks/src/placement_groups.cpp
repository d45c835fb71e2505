// Placement groups on one node: a group's bundles are reserved together as
// one lease of the node's resources; once held, the node offers them under
// the bundles' own names (`CPU_group_0_<id>`, ...), which the requests of
// tasks and actors placed in the group ask for.

#include <caf/all.hpp>

#include "rustyray/detail/object_access.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/error.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/placement_state.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"
#include "rustyray/tasks/task.hpp"

namespace rustyray {

namespace {

using rustyray::internal::resource_amounts;

/// Units of the "bundle" resource each bundle offers (everything placed in
/// it takes a thousandth of one: see `in_bundle`).
constexpr std::int64_t bundle_units = 1000 * 1000;

/// What the group's bundles take from the node (their sum), and what the
/// node offers in their place.
void amounts_of(const detail::placement_state& group, resource_amounts& taken,
                resource_amounts& offered) {
  for (std::size_t i = 0; i < group.bundles.size(); ++i) {
    auto index = static_cast<int>(i);
    auto amounts = rustyray::internal::resource_request(
      "placement group " + group.text + ", bundle " + std::to_string(i), 0, group.bundles[i]);
    if (!amounts)
      detail::throw_caf_error(amounts.error());
    if (amounts->empty())
      throw error{errc::invalid_argument, "placement group bundle " + std::to_string(i)
                                            + " reserves nothing; give each bundle at least one "
                                              "resource, e.g. {{\"CPU\", 1}}"};
    rustyray::internal::add_amounts(taken, *amounts, 1);
    for (const auto& [name, amount] : *amounts) {
      offered[rustyray::internal::bundle_resource(name, group.text, index)] += amount;
      offered[rustyray::internal::bundle_resource(name, group.text, -1)] += amount;
    }
    offered[rustyray::internal::bundle_resource("bundle", group.text, index)] = bundle_units;
    offered[rustyray::internal::bundle_resource("bundle", group.text, -1)] += bundle_units;
  }
}

/// The lease is held: the node offers the bundles, unless the group was
/// removed meanwhile.
void commit(tasks::internal::task_runtime& rt, detail::placement_state& group) {
  resource_amounts offered;
  {
    std::lock_guard<std::mutex> guard{group.mtx};
    if (group.withdrawn)
      return;
    offered = group.offered;
  }
  // Outside the group's lock: adding wakes what waited for the bundles. A
  // removal in between withdrew the names first, so they are not added.
  rt.resources->add_resources(offered);
  group.set(detail::placement_state::created);
}

} // namespace

placement_group::placement_group(std::vector<bundle> bundles, placement_strategy strategy) {
  auto rt = tasks::internal::current_tasks_or_throw();
  rt->node().check_accepting();
  if (bundles.empty())
    throw error{errc::invalid_argument,
                "a placement group needs at least one bundle, e.g. {{{\"CPU\", 1}}}"};
  auto group =
    std::make_shared<detail::placement_state>(rt->node().next_id(), std::move(bundles), strategy);
  resource_amounts taken;
  amounts_of(*group, taken, group->offered);
  std::string infeasible;
  if (strategy == placement_strategy::strict_spread && group->bundles.size() > 1)
    infeasible = "STRICT_SPREAD puts every bundle on a node of its own: "
                 + std::to_string(group->bundles.size())
                 + " bundles need as many nodes, and this runtime is one node";
  else if (auto why = rt->resources->unmet(taken); !why.empty())
    infeasible = "its bundles together can never fit: " + why;
  state_ = group;
  rt->groups.lock()->emplace(group->id, group);
  if (!infeasible.empty()) {
    group->set(detail::placement_state::pending, "infeasible: " + infeasible);
    return;
  }
  std::weak_ptr<tasks::internal::task_runtime> weak_rt = rt;
  std::weak_ptr<detail::placement_state> weak_group = group;
  auto listener = [weak_rt, weak_group](const caf::error& why) {
    auto rt = weak_rt.lock();
    auto group = weak_group.lock();
    if (!rt || !group)
      return;
    if (!why)
      commit(*rt, *group);
    else // shutdown: the group goes with the runtime
      group->set(detail::placement_state::removed);
  };
  group->set(detail::placement_state::pending,
             "waiting for resources: running tasks and actors hold some of them");
  bool granted = false;
  auto lease = rt->resources->reserve(std::move(taken), std::move(listener), granted);
  {
    std::lock_guard<std::mutex> guard{group->mtx};
    if (!group->withdrawn) // else removed already: the lease goes below
      group->lease = std::move(lease);
  }
  lease.reset();
  if (granted)
    commit(*rt, *group);
}

void remove_placement_group(const placement_group& group) {
  auto rt = tasks::internal::current_tasks_or_throw();
  const auto& state = group.state();
  if (!state)
    throw error{errc::invalid_argument, "remove_placement_group: this handle names no group (a "
                                        "default-constructed one)"};
  std::shared_ptr<rustyray::internal::resource_lease> lease;
  resource_amounts offered;
  {
    std::lock_guard<std::mutex> guard{state->mtx};
    if (state->withdrawn)
      return; // removed before
    state->withdrawn = true;
    lease = std::move(state->lease);
    offered = state->offered;
  }
  rt->groups.lock()->erase(state->id);
  rt->resources->remove_resources(
    offered, make_error(errc::actor_died, "placement group " + state->text + " was removed"));
  lease.reset(); // the node's resources are free again
  state->set(detail::placement_state::removed);
}

} // namespace rustyray
