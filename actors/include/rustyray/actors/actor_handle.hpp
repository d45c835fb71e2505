#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <typeinfo>
#include <utility>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

#include "rustyray/object_id.hpp"

namespace rustyray {

namespace detail {

/// The runtime's record of one actor (actors/src/actor_core.hpp): its ID, its
/// class and the CAF actor hosting it.
class actor_core;

/// The live actor with this ID and class in this process, or null (unknown
/// ID, another class, or no runtime).
std::shared_ptr<actor_core> find_actor(const object_id& id, const std::type_info& cls) noexcept;

/// The CAF actor hosting the actor; invalid once the runtime is shut down.
caf::actor caf_actor_of(const actor_core* core) noexcept;

} // namespace detail

template <class C, class M>
class actor_method;

/// A handle to an actor running an instance of `C`, returned by
/// `actor(factory).remote(...)` and `get_actor<C>(name)`.
///
/// Copyable, comparable and hashable; it serializes as the actor's ID only, so
/// it travels in any CAF message: as a task argument, an argument of another
/// actor's method, or inside a stored object, to any node of a cluster.
/// When the last handle in the cluster is gone, the actor stops (after the
/// calls already queued), unless it has a name.
///
/// ~~~
/// auto counter = rustyray::actor(Counter::create).remote(0);
/// auto ref = counter.task(&Counter::add).remote(5); // object_ref<int>
/// ~~~
template <class C>
class actor_handle {
public:
  using actor_type = C;

  /// A handle that names no actor (`id().is_nil()`).
  actor_handle() noexcept = default;

  /// Used by the runtime: a handle to the actor `core`.
  actor_handle(std::shared_ptr<detail::actor_core> core, const object_id& id) noexcept
    : core_(std::move(core)), id_(id) {}

  /// The actor's ID; its `node` names the process that owns the actor.
  [[nodiscard]] const object_id& id() const noexcept {
    return id_;
  }

  /// The CAF actor behind this handle: monitor it, link to it, or send it
  /// the messages of `rustyray::actor_interface`. An exit message sent to it
  /// ends the actor like `kill` (no restart): its calls fail with
  /// `actor_died`. Invalid once the actor has stopped, and for an actor
  /// that another node of a cluster hosts.
  [[nodiscard]] caf::actor caf_handle() const noexcept {
    return detail::caf_actor_of(core_.get());
  }

  /// A call of `method` on the actor: `handle.task(&C::add).remote(5)`.
  template <class M>
  [[nodiscard]] actor_method<C, M> task(M method) const {
    return actor_method<C, M>{*this, method};
  }

  /// Used by the runtime.
  [[nodiscard]] const std::shared_ptr<detail::actor_core>& core() const noexcept {
    return core_;
  }

  friend bool operator==(const actor_handle& x, const actor_handle& y) noexcept {
    return x.id_ == y.id_;
  }

  friend bool operator!=(const actor_handle& x, const actor_handle& y) noexcept {
    return x.id_ != y.id_;
  }

  /// Serializes the actor's ID and nothing else. Loading finds the actor in
  /// this process, or in a cluster on the node that hosts it (this node
  /// then borrows it: the actor lives while a handle to it exists on any
  /// node). A handle to an actor that is gone (or of another class) makes
  /// every call fail with `actor_died`.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, actor_handle& x) {
    if constexpr (Inspector::writes_state) {
      object_id loaded;
      auto result = f(caf::meta::type_name("rustyray::actor_handle"), loaded);
      x.id_ = loaded;
      x.core_ = loaded.is_nil() ? nullptr : detail::find_actor(loaded, typeid(C));
      return result;
    } else {
      return f(caf::meta::type_name("rustyray::actor_handle"), x.id_);
    }
  }

private:
  std::shared_ptr<detail::actor_core> core_;
  object_id id_;
};

} // namespace rustyray

template <class C>
struct std::hash<rustyray::actor_handle<C>> {
  std::size_t operator()(const rustyray::actor_handle<C>& handle) const noexcept {
    return std::hash<rustyray::object_id>{}(handle.id());
  }
};
