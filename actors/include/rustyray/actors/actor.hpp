#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "rustyray/actors/actor_handle.hpp"
#include "rustyray/detail/call_args.hpp"
#include "rustyray/detail/callable_traits.hpp"
#include "rustyray/detail/id_list.hpp"
#include "rustyray/detail/inline_function.hpp"
#include "rustyray/detail/invoke.hpp"
#include "rustyray/object_ref.hpp"
#include "rustyray/placement_group.hpp"
#include "rustyray/remote.hpp"

namespace rustyray {

namespace detail {

/// Runs one call on the actor's instance (passed as `void*`), or packs its
/// arguments for the node that hosts the actor (`body_mode::pack`, no
/// instance). A method pointer with a few arguments fits inside: no
/// allocation per call.
using call_body = inline_function<caf::expected<task_output>(void* instance, body_mode mode), 64>;

/// Everything the runtime needs to build (and rebuild) an actor.
struct actor_spec {
  const std::type_info* cls = nullptr;
  std::string name;
  /// The named actor's namespace; empty: the runtime's (`get_namespace()`).
  std::string ray_namespace;
  int max_restarts = 0;
  /// How often a queued call may run again on a rebuilt instance (-1: no
  /// limit) instead of failing with `actor_died`.
  int max_task_retries = 0;
  int max_concurrency = 1;
  /// Runs on a thread of its own instead of the shared actor threads.
  bool dedicated_thread = false;
  /// What the actor holds for its lifetime (none by default, as in Ray).
  double num_cpus = 0;
  std::map<std::string, double> resources;
  /// The placement group it runs in (none: a default handle), and bundle.
  placement_group group;
  int bundle_index = -1;
  /// The node it must run on (`.node(id)`); any node when empty.
  std::string node;
  /// `.detached()`: in a cluster the head owns it, not the creating node.
  bool detached = false;
  /// Objects the factory's arguments wait for.
  id_list deps;
  /// For another node to build it: the factory's registered name (empty
  /// if it has none, or its arguments cannot ship) and its arguments'
  /// values as one message.
  std::string factory_name;
  std::function<caf::expected<task_output>()> pack;
  /// Builds a new instance from the stored arguments (copied, so a restart
  /// can build again), or says which argument holds an error.
  std::function<caf::expected<std::shared_ptr<void>>()> factory;
  void (*on_start)(void*) = nullptr;
  void (*on_stop)(void*) = nullptr;
};

/// Starts the actor; returns its record. Throws `name_taken` and
/// `runtime_not_initialized`.
std::shared_ptr<actor_core> create_actor(actor_spec spec);

/// The actor's ID (nil for a null core).
object_id actor_id_of(const actor_core* core) noexcept;

/// Registers the call's result object, waits for `deps` and queues the call
/// at the actor; returns the result's ID with one local reference. `name`:
/// the call's given name (`.name(...)`), or empty.
object_id submit_call(const std::shared_ptr<actor_core>& core, const object_id& actor,
                      const std::type_info& method, function_identity identity, id_list deps,
                      call_body body, std::string name);

/// Throws `invalid_argument` for an empty actor name or namespace.
void check_actor_name(const std::string& name, const std::string& ns);

/// The actor named `name` in namespace `ns` (empty: the runtime's) if its
/// class is `cls`; empty if there is none of that name; throws
/// `type_mismatch` naming both classes if it has another class.
std::shared_ptr<actor_core> named_actor(const std::string& name, const std::string& ns,
                                        const std::type_info& cls);

/// `kill(handle)`.
void kill_actor(const std::shared_ptr<actor_core>& core, const object_id& actor, bool no_restart);

/// Thrown by `exit_actor()`; deliberately not a std::exception, so that user
/// code catching std::exception does not swallow it.
struct actor_exit_signal {};

} // namespace detail

/// One method call ready to submit: `handle.task(&C::method).remote(args...)`.
template <class C, class M>
class actor_method {
public:
  using traits = detail::callable_traits<M>;
  using params = typename traits::arg_types;
  using result_type = std::decay_t<typename traits::result_type>;

  static_assert(std::is_member_function_pointer_v<M>,
                "rustyray: handle.task() takes a member function pointer: &C::method");
  static_assert(detail::check_takes_copies<params>::value);

  actor_method(actor_handle<C> handle, M method) : handle_(std::move(handle)), method_(method) {}

  /// The call's name in errors, `state()` and the timeline (default: the
  /// method's), as `task(f).name(...)` names a task.
  actor_method& name(std::string label) {
    name_ = std::move(label);
    return *this;
  }

  /// Submits the call and returns a ref to its result at once. Calls from
  /// one caller (thread) run in submission order, one at a time; arguments
  /// are values or `object_ref`s, as for tasks.
  template <class... Args>
  object_ref<result_type> remote(Args&&... args) const {
    static_assert(std::tuple_size_v<params> == sizeof...(Args),
                  "rustyray: remote() got a different number of arguments than the "
                  "method takes");
    return submit(std::index_sequence_for<Args...>{}, std::forward<Args>(args)...);
  }

private:
  template <std::size_t... I, class... Args>
  object_ref<result_type> submit(std::index_sequence<I...>, Args&&... args) const {
    static_assert((detail::stored_arg<std::tuple_element_t<I, params>, Args>::valid && ...),
                  "rustyray: an argument of remote() does not fit the method's parameter: "
                  "pass a value convertible to the parameter type T, or an object_ref<T> "
                  "of exactly that T (a parameter declared object_ref<T> takes the ref "
                  "itself)");
    using stored_type = detail::stored_args_t<params, Args...>;
    // Refs copied into the call count in the submission's trip through the
    // object table.
    detail::add_ref_batch batch;
    stored_type stored{std::forward<Args>(args)...};
    auto deps = detail::dependencies_of<params>(stored, std::index_sequence<I...>{});
    detail::call_body body = [method = method_, stored = std::move(stored)](
                               void* instance, detail::body_mode mode) mutable {
      if (mode == detail::body_mode::pack) {
        if constexpr (detail::ships_call<M>())
          return caf::expected<detail::task_output>{
            detail::pack_args<params>(stored, std::index_sequence<I...>{})};
        else
          return caf::expected<detail::task_output>{detail::cannot_ship()};
      }
      return run(instance, method, stored, std::index_sequence<I...>{});
    };
    return object_ref<result_type>::adopt(
      detail::submit_call(handle_.core(), handle_.id(), typeid(M), detail::identity_of(method_),
                          std::move(deps), std::move(body), name_));
  }

  /// Runs `method` on `instance` with the stored arguments.
  template <class Stored, std::size_t... I>
  static auto run(void* instance, M method, Stored& stored, std::index_sequence<I...> seq) {
    auto call = [&](auto&&... xs) -> decltype(auto) {
      return (static_cast<C*>(instance)->*method)(std::forward<decltype(xs)>(xs)...);
    };
    return detail::run_task<typename traits::result_type, params>(call, stored, true, seq);
  }

  actor_handle<C> handle_;
  M method_;
  std::string name_;
};

/// An actor class ready to start: options chain, `remote` starts it.
///
/// ~~~
/// struct Counter {
///   static Counter create(int start) { return Counter{start}; }
///   int add(int x) { return value += x; }
///   int value;
/// };
/// auto counter = rustyray::actor(Counter::create).name("counter").remote(10);
/// ~~~
template <class F>
class actor_builder {
public:
  using traits = detail::callable_traits<F>;
  using params = typename traits::arg_types;
  using class_type = typename detail::built_class<std::decay_t<typename traits::result_type>>::type;

  static_assert(!std::is_void_v<typename traits::result_type>,
                "rustyray: an actor factory returns the instance: C or std::unique_ptr<C>");
  static_assert(detail::check_takes_copies<params>::value);

  explicit actor_builder(F factory) : factory_(std::move(factory)) {}

  /// Registers the actor under `label` in the runtime's namespace
  /// (`get_namespace()`): `get_actor<C>(label)` finds it, and it lives until
  /// `kill` or `shutdown` even without handles. A name in use in that
  /// namespace makes `remote` throw `name_taken`. In a cluster names are
  /// cluster-wide (claimed at the head: `remote` waits for that round
  /// trip), and a named actor runs on the node that creates it.
  actor_builder& name(std::string label) {
    spec_.name = std::move(label);
    spec_.ray_namespace.clear();
    return *this;
  }

  /// Registers the actor under `label` in namespace `ns`, as Ray's
  /// `SetName(name, namespace)`: `get_actor<C>(label, ns)` finds it. The same
  /// name in two namespaces names two actors. An empty `label` or `ns`
  /// throws `invalid_argument`.
  actor_builder& name(std::string label, std::string ns) {
    detail::check_actor_name(label, ns);
    spec_.name = std::move(label);
    spec_.ray_namespace = std::move(ns);
    return *this;
  }

  /// Rebuilds the actor from its factory and original arguments up to `n`
  /// times when it dies (`kill(h, false)`, `exit_actor()`); -1 rebuilds it
  /// every time, as in Ray.
  actor_builder& max_restarts(int n) {
    spec_.max_restarts = n;
    return *this;
  }

  /// When the actor restarts (see `max_restarts`), the calls queued at that
  /// moment run on the rebuilt instance instead of failing with
  /// `actor_died`: each call up to `n` times (-1: no limit), as Ray's
  /// `max_task_retries`. The call that ended the instance through
  /// `exit_actor()` is not run again; without a restart left, calls fail.
  actor_builder& max_task_retries(int n) {
    spec_.max_task_retries = n;
    return *this;
  }

  /// Lets up to `n` calls run at once (default 1). Calls are then not
  /// ordered, and the class must be safe to call concurrently. They run on
  /// the shared actor threads, which grow while calls block.
  actor_builder& max_concurrency(int n) {
    spec_.max_concurrency = n;
    return *this;
  }

  /// CPUs the actor holds from its start until it stops for good, as
  /// Ray's actor `num_cpus` (default 0: an actor holds none, and its calls
  /// do not count against the tasks' CPUs). Tasks and other actors get what
  /// is left; an actor that does not fit now waits (in state `starting`,
  /// its calls queued) until it does. More than the node has in total is
  /// `task_unschedulable` at `remote`. Amounts as for tasks; the same
  /// quantity as a `"CPU"` entry of `resources` (the last set wins).
  actor_builder& num_cpus(double n) {
    spec_.num_cpus = n;
    spec_.resources.erase("CPU");
    return *this;
  }

  /// Resources the actor holds for its lifetime, by name, e.g.
  /// `{{"GPU", 1}}`; as `num_cpus`, and checked as a task's are.
  actor_builder& resources(std::map<std::string, double> amounts) {
    spec_.resources = std::move(amounts);
    return *this;
  }

  /// Runs the actor in bundle `bundle_index` of `group` (-1: any bundle),
  /// as Ray's actor option: what it holds comes out of the bundle, it waits
  /// while the group is pending, and it dies (`actor_died`) when the group
  /// is removed. A request larger than the bundle is `task_unschedulable`
  /// at `remote`.
  actor_builder& placement_group(const rustyray::placement_group& group, int bundle_index = -1) {
    spec_.group = group;
    spec_.bundle_index = bundle_index;
    return *this;
  }

  /// Starts the actor on the node `id` (a `node_info::id` from `nodes()`),
  /// as tasks' `.node(id)`: `invalid_argument` at `remote` for a node not
  /// in the cluster, `task_unschedulable` for one that can never hold what
  /// it asks for. On another node the factory must be registered with
  /// `RUSTYRAY_REMOTE` (else `function_not_registered`), and so must the
  /// methods called there.
  actor_builder& node(std::string id) {
    spec_.node = std::move(id);
    return *this;
  }

  /// Lets a named actor outlive the process that creates it, as Ray's
  /// `lifetime="detached"`. In a cluster the head owns it instead of the
  /// creating node: it lives on when its creator exits or dies, starts
  /// again on another node when its own node dies (while `max_restarts`
  /// allows), is found by name from every node, and ends only by `kill` or
  /// `exit_actor` (its name is then free). It is placed as an unnamed
  /// actor is (`.node`, resources), and its factory's arguments must exist
  /// when it is created. Without a name, `remote` throws
  /// `invalid_argument`. On a single node it changes nothing: a named
  /// actor lives until `kill` or `shutdown` there anyway.
  actor_builder& detached() {
    spec_.detached = true;
    return *this;
  }

  /// Runs the actor on a thread of its own instead of the shared actor
  /// threads: for methods that block for long periods (a socket read, a
  /// device) or call libraries that must stay on one thread. Costs a thread
  /// (about 8 MiB of address space for its stack) per actor; without it an
  /// idle actor costs only memory, and a method that blocks in `get`, `wait`
  /// or a lock still does not hold up other actors (the shared threads grow
  /// while calls block). With max_concurrency > 1, calls take turns on that
  /// one thread.
  actor_builder& dedicated_thread() {
    spec_.dedicated_thread = true;
    return *this;
  }

  /// Starts the actor and returns its handle at once; the factory runs on an
  /// actor thread once every `object_ref` argument exists. Arguments
  /// are checked as for tasks.
  template <class... Args>
  actor_handle<class_type> remote(Args&&... args) const {
    static_assert(std::tuple_size_v<params> == sizeof...(Args),
                  "rustyray: remote() got a different number of arguments than the "
                  "factory takes");
    return start(std::index_sequence_for<Args...>{}, std::forward<Args>(args)...);
  }

private:
  template <std::size_t... I, class... Args>
  actor_handle<class_type> start(std::index_sequence<I...>, Args&&... args) const {
    static_assert((detail::stored_arg<std::tuple_element_t<I, params>, Args>::valid && ...),
                  "rustyray: an argument of remote() does not fit the factory's parameter: "
                  "pass a value convertible to the parameter type T, or an object_ref<T> "
                  "of exactly that T");
    // Kept for restarts: the factory copies them at every build.
    detail::stored_args_t<params, Args...> stored{std::forward<Args>(args)...};
    auto spec = spec_;
    spec.cls = &typeid(class_type);
    spec.deps = detail::dependencies_of<params>(stored, std::index_sequence<I...>{});
    if constexpr (std::is_pointer_v<F> && detail::call_types<void, params>::ship) {
      spec.factory_name = detail::remote_name_of(typeid(F), detail::identity_of(factory_));
      if (!spec.factory_name.empty())
        spec.pack = [stored]() mutable {
          return detail::pack_args<params>(stored, std::index_sequence<I...>{});
        };
    }
    spec.factory = [f = factory_,
                    stored = std::move(stored)]() mutable -> caf::expected<std::shared_ptr<void>> {
      std::shared_ptr<void> instance;
      auto failure =
        detail::with_args<params>(stored, false, std::index_sequence<I...>{}, [&](auto&&... xs) {
          auto built = std::invoke(f, std::forward<decltype(xs)>(xs)...);
          if constexpr (std::is_same_v<decltype(built), class_type>)
            instance = std::make_shared<class_type>(std::move(built));
          else
            instance = std::shared_ptr<class_type>(std::move(built));
        });
      if (failure)
        return failure;
      return instance;
    };
    if constexpr (detail::has_on_start<class_type>::value)
      spec.on_start = [](void* instance) { static_cast<class_type*>(instance)->on_start(); };
    if constexpr (detail::has_on_stop<class_type>::value)
      spec.on_stop = [](void* instance) { static_cast<class_type*>(instance)->on_stop(); };
    auto core = detail::create_actor(std::move(spec));
    auto id = detail::actor_id_of(core.get());
    return actor_handle<class_type>{std::move(core), id};
  }

  F factory_;
  detail::actor_spec spec_;
};

/// Turns a factory (a static member or free function returning `C` or
/// `std::unique_ptr<C>`, or a lambda) into an actor ready to start.
template <class F>
actor_builder<std::decay_t<F>> actor(F&& factory) {
  return actor_builder<std::decay_t<F>>{std::forward<F>(factory)};
}

/// The actor named `name` in namespace `ns` (by default the runtime's,
/// `get_namespace()`), or nothing. Throws `type_mismatch` if that actor's
/// class is not `C`. In a cluster it finds actors of every node (asking
/// the head for a name this node does not know; `node_lost` if it does not
/// answer).
template <class C>
std::optional<actor_handle<C>> get_actor(const std::string& name, const std::string& ns = {}) {
  auto core = detail::named_actor(name, ns, typeid(C));
  if (!core)
    return std::nullopt;
  auto id = detail::actor_id_of(core.get());
  return actor_handle<C>{std::move(core), id};
}

/// The namespace this runtime creates and finds named actors in:
/// `config.ray_namespace`, or `anonymous-<node ID>` when that is empty, as
/// Ray gives each job an anonymous namespace (in a cluster, the head's
/// node ID: every node shares it). Throws
/// `runtime_not_initialized` without a runtime.
[[nodiscard]] std::string get_namespace();

/// Kills the actor: the calls queued and every later call fail with
/// `actor_died`, `on_stop` runs, the name is released. With
/// `no_restart = false` an actor with restarts left is rebuilt instead, and
/// later calls run on the new instance. An actor that has stopped already is
/// left alone; a default-constructed handle is `invalid_argument`.
template <class C>
void kill(const actor_handle<C>& handle, bool no_restart = true) {
  detail::kill_actor(handle.core(), handle.id(), no_restart);
}

/// Inside an actor method: ends the actor after this call, which fails with
/// `actor_died`; an actor with restarts left is rebuilt. Outside an actor
/// method it throws `invalid_argument`.
[[noreturn]] void exit_actor();

/// Inside an actor (factory, hooks, methods): whether this instance was
/// rebuilt after the actor died.
[[nodiscard]] bool was_restarted() noexcept;

} // namespace rustyray
