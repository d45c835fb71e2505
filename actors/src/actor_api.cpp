// The non-template core of actors (actor.hpp, actor_handle.hpp,
// caf_interop.hpp): creation, calls, names, kill, and the bridge to CAF.

#include <atomic>

#include <caf/all.hpp>

#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/actors/internal/actor_directory.hpp"
#include "rustyray/actors/internal/actor_host.hpp"
#include "rustyray/actors/internal/remote_actors.hpp"
#include "caf_face.hpp"
#include "call_execution.hpp"
#include "rustyray/actors/internal/bridge.hpp"
#include "rustyray/internal/recycling_allocator.hpp"
#include "rustyray/internal/demangle.hpp"
#include "rustyray/internal/function_symbol.hpp"
#include "rustyray/objstore/internal/dependencies.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/actors/internal/actor_runtime.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/internal/placement_state.hpp"
#include "rustyray/internal/resources.hpp"
#include "rustyray/actors/actor.hpp"
#include "rustyray/actors/caf_interop.hpp"
#include "rustyray/error.hpp"

namespace rustyray {

namespace actors::internal {

using namespace rustyray::internal; // the base layer's internals

bool actor_restarted() noexcept;

call_record::~call_record() {
  if (reply_to)
    caf::anon_send(reply_to, answer_atom::value, reply_key,
                   make_error(errc::actor_died, "actor " + to_string(actor)
                                                  + " stopped before it answered this call"));
}

std::string call_record::name() const {
  if (method == nullptr || !by_name.empty())
    return by_name;
  if (auto registered = detail::remote_name_of(*method, identity); !registered.empty())
    return registered;
  return member_function_name(*method, identity);
}

} // namespace actors::internal

namespace detail {

using rustyray::internal::demangle;

actor_core::~actor_core() {
  if (auto h = host())
    h->stop();
}

std::shared_ptr<actor_core> find_actor(const object_id& id, const std::type_info& cls) noexcept {
  auto rt = actors::internal::current_actors();
  if (!rt)
    return nullptr;
  auto core = rt->actors->find(id);
  if (!core && rt->remote)
    core = rt->remote->attach(id, cls);
  return core && core->cls == cls ? core : nullptr;
}

caf::actor caf_actor_of(const actor_core* core) noexcept {
  auto host = core == nullptr ? nullptr : core->host();
  return host ? host->caf_handle() : caf::actor{};
}

object_id actor_id_of(const actor_core* core) noexcept {
  return core == nullptr ? object_id{} : core->id;
}

namespace {

/// What the actor holds for its lifetime (rewritten for its placement
/// group's bundle); throws `invalid_argument` for a malformed request.
rustyray::internal::resource_amounts lifetime_request(const actor_spec& spec) {
  if (spec.num_cpus == 0 && spec.resources.empty() && !spec.group.state())
    return {}; // the usual actor: nothing to check (and no name to demangle)
  auto request =
    rustyray::internal::placed_request("actor " + demangle(spec.cls->name()), spec.num_cpus,
                                       spec.resources, spec.group.state().get(), spec.bundle_index);
  if (!request)
    throw_caf_error(request.error());
  return std::move(*request);
}

/// Throws `task_unschedulable` if this node can never hold `request`.
void check_fits_here(const actors::internal::actor_runtime& rt, const actor_spec& spec,
                     const rustyray::internal::resource_amounts& request) {
  if (!request.empty())
    if (auto why = rt.resources->unmet(request); !why.empty())
      throw error{errc::task_unschedulable,
                  "actor " + demangle(spec.cls->name()) + " can never start here: " + why};
}

/// The node to host the actor: 0 for this one. Throws `invalid_argument`
/// for a `.node(id)` that names no node, `task_unschedulable` if no node
/// (or the pinned one) can ever hold `request`.
std::uint64_t host_of(const actors::internal::actor_runtime& rt, const actor_spec& spec,
                      const rustyray::internal::resource_amounts& request) {
  auto who = [&] { return "actor " + demangle(spec.cls->name()); };
  std::uint64_t pinned = 0;
  if (!spec.node.empty()) {
    auto parsed = rustyray::internal::parse_node_text(spec.node);
    if (!parsed)
      throw error{errc::invalid_argument, who() + ": .node(\"" + spec.node
                                            + "\") is no node ID (16 hex digits, as "
                                              "rustyray::nodes() lists them)"};
    if (*parsed != rt.node().id()) {
      if (!rt.remote)
        throw error{errc::invalid_argument, who() + ": .node(\"" + spec.node
                                              + "\") names no node: this process runs no "
                                                "cluster (rustyray::nodes() lists the one node)"};
      pinned = *parsed;
    }
  }
  // A placement group's bundles are this node's: its actors run here.
  if (rt.remote && !spec.group.state()) {
    // A detached actor is placed as an unnamed one: the head owns it.
    bool placed_freely = spec.name.empty() || spec.detached;
    if (pinned != 0 && !placed_freely)
      throw error{errc::invalid_argument,
                  who() + " \"" + spec.name
                    + "\": a named actor runs on the node that creates it (any node finds it "
                      "by name); create it there (a task pinned with .node(id) can), or leave "
                      "the name out"};
    auto placed = rt.remote->place(who(), request, placed_freely ? pinned : 0,
                                   !spec.factory_name.empty() && placed_freely);
    if (!placed)
      throw_caf_error(placed.error());
    return *placed;
  }
  check_fits_here(rt, spec, request);
  return 0;
}

/// Registers the call's result and pins its arguments; `target` (its host,
/// or the record that ships it to another node) hears `ready(call)` from
/// whoever resolves the last one. Throws the table's refusal.
template <class Target>
void await_arguments(objstore::internal::object_table& table,
                     const actors::internal::call_ptr& call,
                     const std::shared_ptr<Target>& target) {
  auto make_on_ready = [&] {
    return [call, target] {
      call->ready.store(true, std::memory_order_release);
      target->ready(call);
    };
  };
  auto ready =
    objstore::internal::register_and_await(table, call->result, call, call->deps, make_on_ready);
  if (!ready)
    throw_caf_error(ready.error());
  if (*ready)
    call->ready.store(true, std::memory_order_release);
}

/// Starts the actor `id` here.
std::shared_ptr<actor_core> start_here(const std::shared_ptr<actors::internal::actor_runtime>& rt,
                                       const object_id& id, actor_spec spec,
                                       rustyray::internal::resource_amounts request) {
  const auto& cls = *spec.cls;
  auto name = spec.name;
  auto ns = spec.ray_namespace;
  auto host = actors::internal::start_actor_host(rt, id, std::move(spec), std::move(request));
  if (!host)
    throw_caf_error(host.error());
  auto core = std::make_shared<actor_core>(id, cls, std::move(name), std::move(ns), *host);
  if (auto err = rt->actors->add(core, *host)) {
    // Lost a race for the name: this actor never runs.
    (*host)->kill(true);
    throw_caf_error(err); // the core's destructor stops the host
  }
  return core;
}

} // namespace

std::shared_ptr<actor_core> create_actor(actor_spec spec) {
  auto rt = actors::internal::current_actors_or_throw();
  rt->node().check_accepting();
  if (spec.max_restarts < -1)
    throw error{errc::invalid_argument, "actor " + demangle(spec.cls->name())
                                          + ": max_restarts must be >= 0, or -1 for no limit, got "
                                          + std::to_string(spec.max_restarts)};
  if (spec.max_task_retries < -1)
    throw error{errc::invalid_argument,
                "actor " + demangle(spec.cls->name())
                  + ": max_task_retries must be >= 0, or -1 for no limit, got "
                  + std::to_string(spec.max_task_retries)};
  if (spec.max_concurrency < 1)
    throw error{errc::invalid_argument, "actor " + demangle(spec.cls->name())
                                          + ": max_concurrency must be >= 1, got "
                                          + std::to_string(spec.max_concurrency)};
  if (spec.name.empty())
    spec.ray_namespace.clear();
  else if (spec.ray_namespace.empty())
    spec.ray_namespace = rt->node().ray_namespace();
  if (auto err = rt->actors->check_name(spec.name, spec.ray_namespace))
    throw_caf_error(err);
  if (spec.detached && spec.name.empty())
    throw error{errc::invalid_argument,
                "actor " + demangle(spec.cls->name())
                  + ": .detached() needs a name (.name(...)): a detached actor outlives its "
                    "creator, and is found by name"};
  auto request = lifetime_request(spec);
  auto where = host_of(*rt, spec, request);
  if (spec.detached && rt->remote)
    return rt->remote->start_detached(where == 0 ? rt->node().id() : where, std::move(spec));
  auto id = rt->node().next_id();
  if (where != 0)
    return rt->remote->start(id, where, std::move(spec));
  if (spec.name.empty() || !rt->remote)
    return start_here(rt, id, std::move(spec), std::move(request));
  // Names are cluster-wide: claimed at the head first, given back if the
  // actor cannot start.
  auto ns = spec.ray_namespace;
  auto name = spec.name;
  if (auto err = rt->remote->claim_name(ns, name, id, *spec.cls))
    throw_caf_error(err);
  try {
    return start_here(rt, id, std::move(spec), std::move(request));
  } catch (...) {
    rt->remote->release_name(ns, name, id);
    throw;
  }
}

object_id submit_call(const std::shared_ptr<actor_core>& core, const object_id& actor,
                      const std::type_info& method, function_identity identity, id_list deps,
                      call_body body, std::string name) {
  auto rt = actors::internal::current_actors_or_throw();
  rt->node().check_accepting();
  auto& table = rt->table();
  auto call = std::allocate_shared<actors::internal::call_record>(
    rustyray::internal::recycling_allocator<actors::internal::call_record>{core.get()});
  call->result = rt->node().next_id();
  call->actor = actor;
  call->caller = actors::internal::this_caller();
  call->method = &method;
  call->identity = identity;
  call->by_name = std::move(name);
  call->deps.ids = std::move(deps);
  call->body = std::move(body);
  if (core && core->remote()) {
    await_arguments(table, call, core->remote());
    auto result = call->result;
    core->remote()->send(call);
    return result;
  }
  auto host = core ? core->host() : nullptr;
  if (!host) {
    if (auto err = table.register_pending(call->result, call))
      throw_caf_error(err);
    caf::error reason;
    if (core) // its host stopped: say why, if it knows
      reason = core->ended_reason();
    if (!reason && core)
      reason = actors::internal::stopped_error(to_string(actor));
    if (!reason)
      reason = make_error(errc::actor_died,
                          "actor " + to_string(actor)
                            + " is not known in this process (a default-constructed handle, "
                              "or one loaded for an actor that is gone); get a handle from "
                              "actor(...).remote() or get_actor");
    (void)objstore::internal::complete_run(table, *call, call->body,
                                           objstore::internal::lookup{std::move(reason)});
    return call->result;
  }
  // The result and the waiters first, then the call: its pins are complete
  // before the host can see it, and a `ready` arriving before the call is
  // simply ignored.
  await_arguments(table, call, host);
  auto result = call->result;
  caf::error reason;
  if (!host->send(call, reason)) {
    // The host ended between the look-up and now (shutdown, or it died), or
    // no thread can run it.
    (void)objstore::internal::complete_run(
      table, *call, call->body,
      objstore::internal::lookup{reason ? std::move(reason)
                                        : actors::internal::stopped_error(to_string(actor))});
  }
  return result;
}

} // namespace detail

namespace actors::internal {

std::shared_ptr<detail::actor_core> start_placed_actor(const object_id& id,
                                                       detail::actor_spec spec) {
  auto rt = current_actors_or_throw();
  rt->node().check_accepting();
  auto request = detail::lifetime_request(spec);
  detail::check_fits_here(*rt, spec, request);
  return detail::start_here(rt, id, std::move(spec), std::move(request));
}

object_id submit_shipped_call(const object_id& actor, std::string method, std::uint64_t caller,
                              caf::message args, std::vector<detail::arg_ref> refs,
                              std::string name) {
  auto rt = current_actors_or_throw();
  rt->node().check_accepting();
  auto core = rt->actors->find(actor);
  auto call = std::make_shared<call_record>();
  call->result = rt->node().next_id();
  call->actor = actor;
  call->caller = caller;
  call->by_name = name.empty() ? method : std::move(name);
  caf::expected<detail::member_invoker> invoker{caf::error{}};
  if (core)
    invoker = detail::find_member_invoker(method, core->cls);
  // Borrowed (so fetched, and kept) while the call lives.
  auto borrowed = detail::borrow_dependencies(refs, rt->node().id(), call->deps.ids);
  call->body =
    body_by_name(std::move(invoker), std::move(args), std::move(refs), std::move(borrowed));
  auto& table = rt->table();
  auto host = core ? core->host() : nullptr;
  if (host && !call->deps.ids.empty()) {
    // Queued in its caller's order at once, run once its arguments are here.
    detail::await_arguments(table, call, host);
  } else {
    call->ready = true;
    if (auto err = table.register_pending(call->result, call))
      detail::throw_caf_error(err);
  }
  caf::error reason;
  if (host && host->send(call, reason))
    return call->result;
  // Not hosted here (any more), or its host ended meanwhile: say why.
  if (!reason && core)
    reason = core->ended_reason();
  if (!reason)
    reason = core ? stopped_error(to_string(actor))
                  : make_error(errc::actor_died, "actor " + to_string(actor)
                                                   + " is not hosted on this node (it stopped)");
  (void)objstore::internal::complete_run(table, *call, call->body,
                                         objstore::internal::lookup{std::move(reason)});
  return call->result;
}

} // namespace actors::internal

namespace detail {

void check_actor_name(const std::string& name, const std::string& ns) {
  if (name.empty())
    throw error{errc::invalid_argument, "an actor's name must not be empty (leave the name out "
                                        "for an actor that get_actor need not find)"};
  if (ns.empty())
    throw error{errc::invalid_argument,
                "actor \"" + name
                  + "\": a namespace must not be empty (name(label) alone "
                    "uses the runtime's namespace, rustyray::get_namespace())"};
}

std::shared_ptr<actor_core> named_actor(const std::string& name, const std::string& ns,
                                        const std::type_info& cls) {
  auto rt = actors::internal::current_actors_or_throw();
  const auto& where = ns.empty() ? rt->node().ray_namespace() : ns;
  auto mismatch = [&](const char* mangled) {
    return error{errc::type_mismatch, "the actor named \"" + name + "\" in namespace \"" + where
                                        + "\" is a " + demangle(mangled) + ", not a "
                                        + demangle(cls.name()) + "; call get_actor with its class"};
  };
  auto core = rt->actors->find_name(name, where);
  if (!core && rt->remote) {
    // Another node's: its ID and class from the cluster's table.
    auto [id, mangled] = rt->remote->find_name(where, name);
    if (id.is_nil())
      return nullptr;
    if (mangled != cls.name())
      throw mismatch(mangled.c_str());
    return find_actor(id, cls);
  }
  if (core && core->cls != cls)
    throw mismatch(core->cls.name());
  return core;
}

void kill_actor(const std::shared_ptr<actor_core>& core, const object_id& actor, bool no_restart) {
  auto rt = actors::internal::current_actors_or_throw();
  if (!core)
    throw error{errc::invalid_argument, "kill: actor " + to_string(actor)
                                          + " is not known in this process (a "
                                            "default-constructed handle, or one loaded for an "
                                            "actor that is gone)"};
  if (core->remote()) {
    core->remote()->kill(no_restart);
    return;
  }
  auto host = core->host();
  if (!host)
    return; // stopped already: nothing left to kill
  host->kill(no_restart);
  if (no_restart)
    rt->actors->release_name(core->id);
}

object_id register_reply() {
  auto rt = actors::internal::current_actors_or_throw();
  rt->node().check_accepting();
  auto id = rt->node().next_id();
  if (auto err = rt->table().register_pending(id))
    throw_caf_error(err);
  return id;
}

void resolve_reply(const object_id& id, caf::message value, std::uint64_t size) {
  if (auto rt = actors::internal::current_actors())
    (void)rt->table().fulfil(id, std::move(value), size);
}

void fail_reply(const object_id& id, const caf::error& reason) {
  if (auto rt = actors::internal::current_actors())
    rt->table().fail(id, rustyray::internal::as_rustyray_error(reason));
}

void throw_invalid_handle() {
  throw error{errc::invalid_argument,
              "wrap(...).ask: the CAF actor handle is invalid (default-constructed or moved "
              "from); wrap a handle that spawn or remote_actor returned"};
}

void run_in_bridge(std::function<void(caf::event_based_actor*)> job) {
  auto rt = actors::internal::current_actors_or_throw();
  caf::anon_send(rt->bridge, actors::internal::bridge_job{std::move(job)});
}

} // namespace detail

void exit_actor() {
  if (!actors::internal::in_actor())
    throw error{errc::invalid_argument,
                "rustyray::exit_actor() was called outside an actor method; only an actor "
                "can end itself (use kill(handle) from outside)"};
  throw detail::actor_exit_signal{};
}

bool was_restarted() noexcept {
  return rustyray::actors::internal::actor_restarted();
}

std::string get_namespace() {
  return actors::internal::current_actors_or_throw()->node().ray_namespace();
}

} // namespace rustyray
