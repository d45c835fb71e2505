#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

#include <caf/expected.hpp>

#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/internal/resources.hpp"

namespace rustyray::actors::internal {

/// The part of an actor's record for an actor another node hosts: it takes
/// the calls made here and ships them there. The cluster implements it; the
/// record (`actor_core`) holds it, and destroying it (the last handle here
/// is gone) tells the actor's owner.
class remote_actor {
public:
  virtual ~remote_actor() = default;

  /// Ships `call` (its result registered, its arguments pinned) to the
  /// host once its arguments exist, after the calls its caller made before.
  virtual void send(const call_ptr& call) = 0;

  /// `call`'s arguments exist.
  virtual void ready(const call_ptr& call) = 0;

  /// `kill(handle, no_restart)`, carried out by the host.
  virtual void kill(bool no_restart) = 0;
};

/// How this node reaches actors that other nodes host: a cluster
/// implements it (without one every actor is local, and nothing changes).
class remote_actors {
public:
  virtual ~remote_actors() = default;

  /// At creation: the node to host an actor (`who` in errors) that holds
  /// `request` for its lifetime: 0 for this node, or another node's ID.
  /// `pinned`: the node `.node(id)` named (0: none). `ships`: its factory
  /// can run on another node. Errors: `invalid_argument` (no such node),
  /// `task_unschedulable` (no node can ever hold it),
  /// `function_not_registered` (pinned elsewhere, and it cannot ship).
  virtual caf::expected<std::uint64_t> place(const std::string& who,
                                             const rustyray::internal::resource_amounts& request,
                                             std::uint64_t pinned, bool ships) = 0;

  /// Starts the actor `id` on node `host` (from `place`): the factory's
  /// arguments go there once they exist. Returns the actor's record here,
  /// whose calls go there.
  virtual std::shared_ptr<detail::actor_core> start(const object_id& id, std::uint64_t host,
                                                    detail::actor_spec spec) = 0;

  /// Starts a detached actor (`.detached()`, named) on node `host` (this
  /// node's ID for here): the cluster's head owns it and claims its name.
  /// Returns the record of its handles here. Throws `name_taken`,
  /// `node_lost` (the head does not answer), `invalid_argument` (an
  /// argument that does not exist yet).
  virtual std::shared_ptr<detail::actor_core> start_detached(std::uint64_t host,
                                                             detail::actor_spec spec) = 0;

  /// A handle to actor `id` loaded here, and not hosted here: the record
  /// every handle here shares (the first makes this node a borrower of the
  /// actor at its owner), or null for an actor of this node that is gone.
  virtual std::shared_ptr<detail::actor_core> attach(const object_id& id,
                                                     const std::type_info& cls) = 0;

  /// Names are cluster-wide: before a named actor starts here, its name
  /// is claimed for actor `id` of class `cls` in the cluster's table
  /// (`name_taken` if any node has an actor of that name in `ns`,
  /// `node_lost` if the head does not answer). Blocks for a round trip to
  /// the head.
  virtual caf::error claim_name(const std::string& ns, const std::string& name, const object_id& id,
                                const std::type_info& cls) = 0;

  /// The actor named `name` in `ns` anywhere in the cluster: its ID and
  /// class (mangled), or a nil ID. Blocks for a round trip to the head;
  /// throws `node_lost` if it does not answer.
  virtual std::pair<object_id, std::string> find_name(const std::string& ns,
                                                      const std::string& name) = 0;

  /// The name claimed for `id` is free again (the actor died for good).
  virtual void release_name(const std::string& ns, const std::string& name,
                            const object_id& id) = 0;
};

} // namespace rustyray::actors::internal

namespace rustyray::actors::internal {

/// Starts here the actor `id` that another node placed here (`spec` built
/// from the registered factory, with its arguments' values). Throws as
/// `actor(...).remote()` does.
std::shared_ptr<detail::actor_core> start_placed_actor(const object_id& id,
                                                       detail::actor_spec spec);

/// Queues a call another node shipped here: the registered method `method`
/// of the actor `actor` (hosted here) on the values `args` and the objects
/// `refs` (by argument position; another node's are borrowed and fetched,
/// and the call runs once they are here). `caller` names the calling
/// node's caller (calls of one run in order). Returns the call's result
/// here, with one local reference; an actor not hosted here makes it
/// `actor_died`.
object_id submit_shipped_call(const object_id& actor, std::string method, std::uint64_t caller,
                              caf::message args, std::vector<detail::arg_ref> refs,
                              std::string name);

} // namespace rustyray::actors::internal
