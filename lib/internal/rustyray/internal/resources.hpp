#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace rustyray::detail {
struct placement_state;
} // namespace rustyray::detail

namespace rustyray::internal {

using detail_placement_state = rustyray::detail::placement_state;

/// Resource amounts in thousandths, so fractions add up exactly.
using resource_amounts = std::map<std::string, std::int64_t>;

/// `num_cpus` and `resources` as the scheduler counts them, checked as Ray
/// checks them (names not empty, amounts finite and positive, above 1 only
/// whole units; a "CPU" entry is the CPU request and `num_cpus` is then not
/// used). `who` starts the message of the `invalid_argument` error:
/// `task f`, `actor Counter`.
caf::expected<resource_amounts> resource_request(const std::string& who, double num_cpus,
                                                 const std::map<std::string, double>& resources);

/// Why `request` can never fit into `total`, or an empty string.
std::string unmet(const resource_amounts& request, const resource_amounts& total);

/// Whether `request` fits into `available` now.
bool fits(const resource_amounts& available, const resource_amounts& request);

/// Adds `amounts` to `into` (`sign` 1) or takes them off (`sign` -1).
void add_amounts(resource_amounts& into, const resource_amounts& amounts, int sign);

/// A reservation of a node's resources, held while this object lives
/// (destroying it gives them back, or withdraws a reservation still
/// waiting).
class resource_lease {
public:
  virtual ~resource_lease() = default;
};

/// What a lease's owner learns, once granted (no error) or when the lease
/// ends without its owner's doing (an error: refused because the runtime
/// shuts down, or revoked because its placement group was removed). Called
/// on any thread, with no lock of the broker held.
using lease_listener = std::function<void(const caf::error& why)>;

/// The node's resources, as the task scheduler accounts them, for what
/// holds resources longer than a task: actors for their lifetime, and
/// placement groups' bundles.
class resource_broker {
public:
  virtual ~resource_broker() = default;

  /// Reserves `request` (which must fit the node's total: see `unmet`):
  /// at once if it fits now, else once running tasks and other leases leave
  /// room (before queued tasks are dispatched). `listener` is told when a
  /// lease not granted at once is granted, and when any lease ends without
  /// its owner's doing.
  /// `granted_now` tells whether it was granted at once (then `listener`
  /// hears only of its end). Refused because shutdown has begun, the
  /// listener hears so before this returns.
  virtual std::shared_ptr<resource_lease> reserve(resource_amounts request, lease_listener listener,
                                                  bool& granted_now) = 0;

  /// Why `request` can never be met on this node, or an empty string.
  [[nodiscard]] virtual std::string unmet(const resource_amounts& request) const = 0;

  /// Makes `amounts` part of the node's resources (total and available):
  /// a placement group's bundles, named as `bundle_resource` names them.
  virtual void add_resources(const resource_amounts& amounts) = 0;

  /// Withdraws resources `add_resources` added: leases asking for or
  /// holding any of them end with `why`, and so do queued tasks asking for
  /// them. Running tasks finish.
  virtual void remove_resources(const resource_amounts& amounts, const caf::error& why) = 0;
};

/// The resource a bundle of a placement group offers in place of `name`:
/// `CPU_group_0_<group>` for bundle 0, `CPU_group_<group>` for the group as
/// a whole (index -1), as Ray names them.
std::string bundle_resource(const std::string& name, const std::string& group, int index);

/// `request` rewritten to run in bundle `index` of a group (-1: any
/// bundle): each resource as that bundle's and the group's, so that both
/// are counted.
resource_amounts in_bundle(const resource_amounts& request, const std::string& group, int index);

/// `resource_request` of a task or an actor placed in bundle `index` of
/// `group` (-1: any bundle; null: no group), rewritten by `in_bundle`:
/// `invalid_argument` for an index out of range, `task_unschedulable` if
/// the request exceeds the bundle (every bundle, for -1).
caf::expected<resource_amounts> placed_request(const std::string& who, double num_cpus,
                                               const std::map<std::string, double>& resources,
                                               const detail_placement_state* group, int index);

/// Whether `request` was made by `in_bundle`.
bool is_bundle_resource(const resource_amounts& request);

} // namespace rustyray::internal
