#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rustyray/object_id.hpp"

namespace rustyray {

/// How a placement group's bundles are laid out over nodes, as Ray's
/// strategies. On one node every bundle is on it: PACK, SPREAD and
/// STRICT_PACK are met, STRICT_SPREAD only with a single bundle (more
/// bundles stay pending until the cluster has as many nodes).
enum class placement_strategy { pack, spread, strict_pack, strict_spread };

/// "PACK", "SPREAD", "STRICT_PACK" or "STRICT_SPREAD".
const char* to_string(placement_strategy strategy) noexcept;

/// Resources by name, as in `task(f).resources(...)`: `{{"CPU", 1}}`.
using bundle = std::map<std::string, double>;

namespace detail {
struct placement_state;
} // namespace detail

/// Resources reserved together, in bundles, for tasks and actors to run in
/// (`.placement_group(pg, bundle_index)`): Ray's placement group. Made by
/// `rustyray::placement_group(bundles, strategy)`; reserved until
/// `remove_placement_group`. Copies name the same group.
///
/// ~~~
/// auto pg = rustyray::placement_group({{{"CPU", 1}}, {{"CPU", 1}}},
///                                     rustyray::placement_strategy::pack);
/// if (!pg.wait(std::chrono::seconds(5))) { /* still pending: see state() */ }
/// auto r = rustyray::task(work).placement_group(pg, 0).remote(1);
/// rustyray::remove_placement_group(pg);
/// ~~~
class placement_group {
public:
  /// Names no group (as a default-constructed handle).
  placement_group() = default;

  /// Creates a group: reserves every bundle of `bundles` at once, with the
  /// node's resources (each bundle as `task(f).resources(...)` takes them;
  /// at least one resource each). Returns at once; `wait` tells when the
  /// bundles are held. A group that can never fit (more than the node has,
  /// or STRICT_SPREAD over more bundles than nodes) stays pending, and
  /// `state()["placement_groups"]` says why. Throws `invalid_argument` for
  /// no bundles or a malformed one, `runtime_not_initialized` without a
  /// runtime.
  placement_group(std::vector<bundle> bundles, placement_strategy strategy);

  /// Its ID (nil for a default-constructed handle).
  [[nodiscard]] object_id id() const noexcept;

  [[nodiscard]] const std::vector<bundle>& bundles() const;

  [[nodiscard]] placement_strategy strategy() const;

  /// Whether every bundle is reserved now (false while pending, and once
  /// removed).
  [[nodiscard]] bool ready() const;

  /// Waits up to `timeout` until every bundle is reserved: true if it is,
  /// false if the time ran out (the group stays pending; `state()` says
  /// why) or the group was removed (or its runtime shut down). Blocks the
  /// calling thread (as `get`).
  [[nodiscard]] bool wait(std::chrono::milliseconds timeout) const;

  /// Whether `remove_placement_group` removed it, or `shutdown` ended the
  /// runtime it belonged to.
  [[nodiscard]] bool removed() const;

  friend bool operator==(const placement_group& a, const placement_group& b) noexcept {
    return a.state_ == b.state_;
  }
  friend bool operator!=(const placement_group& a, const placement_group& b) noexcept {
    return !(a == b);
  }

  /// The group's shared state, for the runtime (null for a
  /// default-constructed handle).
  [[nodiscard]] const std::shared_ptr<detail::placement_state>& state() const noexcept {
    return state_;
  }

  explicit placement_group(std::shared_ptr<detail::placement_state> state)
    : state_(std::move(state)) {}

private:
  std::shared_ptr<detail::placement_state> state_;
};

/// Frees the group's reservation: tasks placed in it that have not
/// started fail with `task_unschedulable`, actors placed in it die
/// (`actor_died`, their calls fail), and later `.placement_group(...)`
/// requests for it fail. Tasks running in it finish (a thread cannot be
/// stopped; Ray ends their worker processes). Removing twice does nothing.
void remove_placement_group(const placement_group& group);

} // namespace rustyray
