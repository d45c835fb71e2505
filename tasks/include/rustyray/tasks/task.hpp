#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/make_message.hpp>

#include "rustyray/detail/byte_buffer.hpp"
#include "rustyray/detail/id_list.hpp"
#include "rustyray/detail/object_access.hpp"
#include "rustyray/detail/value_size.hpp"
#include "rustyray/detail/wire_type.hpp"
#include "rustyray/object_ref.hpp"
#include "rustyray/detail/callable_traits.hpp"
#include "rustyray/detail/call_args.hpp"
#include "rustyray/detail/invoke.hpp"
#include "rustyray/remote.hpp"
#include "rustyray/tasks/task_options.hpp"

namespace rustyray {

namespace detail {

/// Runs the task once, or packs its arguments. Returns the output, or the
/// error of an argument that holds one.
using task_body = std::function<caf::expected<task_output>(body_mode mode)>;

/// Registers the result object, waits for `deps` through the object store and
/// hands the task to the scheduler; returns the result's ID with one local
/// reference held for the caller.
/// `function` and `identity` (the bytes of a function pointer, empty for other
/// callables) name an unnamed task when an error needs its name.
/// `ships`: the call can run on another node if its function is registered.
object_id submit_task(task_options options, const std::type_info& function,
                      function_identity identity, bool ships, id_list deps, task_body body);

} // namespace detail

/// A remote function ready to submit: options chain, `remote` submits.
///
/// ~~~
/// int add(int a, int b) { return a + b; }
/// auto x = rustyray::task(add).remote(1, 2);            // object_ref<int>
/// auto y = rustyray::task(add).max_retries(2).remote(x, 10); // waits for x
/// ~~~
template <class F>
class task_builder {
public:
  using traits = detail::callable_traits<F>;
  using params = typename traits::arg_types;
  using result_type = std::decay_t<typename traits::result_type>;
  static_assert(detail::check_takes_copies<params>::value);

  explicit task_builder(F f) : f_(std::move(f)) {}

  /// Re-runs the task up to `n` more times after a failure that may be
  /// retried: a timeout, a worker that died, and with `retry_exceptions(true)`
  /// an exception. `n` must be >= 0 (`invalid_argument` at `remote`).
  task_builder& max_retries(int n) {
    options_.max_retries = n;
    return *this;
  }

  /// Whether an exception thrown by the function is retried (default false).
  task_builder& retry_exceptions(bool yes) {
    options_.retry_exceptions = yes;
    return *this;
  }

  /// CPUs the task holds while it runs (default 1; 0 holds none; fractions
  /// below 1 allowed, above 1 whole numbers). The same quantity as a `"CPU"`
  /// entry of `resources`: whichever is set last counts.
  task_builder& num_cpus(double n) {
    options_.num_cpus = n;
    options_.resources.erase("CPU");
    return *this;
  }

  /// Resources the task holds while it runs, by name, e.g. `{{"GPU", 1}}`:
  /// each amount positive, fractions below 1 allowed, above 1 whole numbers
  /// (`invalid_argument` at `remote` otherwise). A `"CPU"` entry is the
  /// task's CPU request, as `num_cpus` is.
  task_builder& resources(std::map<std::string, double> amounts) {
    options_.resources = std::move(amounts);
    return *this;
  }

  /// Runs the task in bundle `bundle_index` of `group` (-1: any of its
  /// bundles), on the resources the group reserved, as Ray's
  /// `SetPlacementGroup`: it waits while the group is pending, its
  /// `num_cpus` and `resources` must fit the bundle (else
  /// `task_unschedulable`), and it fails with `task_unschedulable` if the
  /// group is removed before it starts.
  task_builder& placement_group(const rustyray::placement_group& group, int bundle_index = -1) {
    options_.group = group;
    options_.bundle_index = bundle_index;
    return *this;
  }

  /// Runs the task on the node `id` (a `node_info::id` from `nodes()`), as
  /// Ray's node affinity: `invalid_argument` at `remote` for a node not in
  /// the cluster, `task_unschedulable` for one that can never fit the
  /// task's resources. Only a function registered with `RUSTYRAY_REMOTE`
  /// runs on another node (else `function_not_registered`).
  task_builder& node(std::string id) {
    options_.node = std::move(id);
    return *this;
  }

  /// The task's name in errors (default: the function's name).
  task_builder& name(std::string label) {
    options_.name = std::move(label);
    return *this;
  }

  /// Limits how long one attempt may run (any `std::chrono` duration). When
  /// the limit passes, the result becomes `errc::timeout` (or the task runs
  /// again on another worker while `max_retries` allows), the function sees
  /// `rustyray::cancel_requested()` turn true, a new worker takes its place,
  /// and whatever the function returns later is dropped. A thread cannot be
  /// killed: the function should check `cancel_requested()` and return.
  /// Zero or negative limits are `invalid_argument` at `remote`;
  /// `rustyray::forever` means no limit.
  ///
  /// ~~~
  /// auto r = rustyray::task(crawl).timeout(std::chrono::seconds(5)).max_retries(1).remote(url);
  /// ~~~
  template <class Rep, class Period>
  task_builder& timeout(std::chrono::duration<Rep, Period> limit) {
    options_.timeout = detail::saturating_nanoseconds(limit);
    return *this;
  }

  /// Submits the task and returns a ref to its result at once. Each argument
  /// is a value for the parameter, or an `object_ref<T>` where the function
  /// takes `T`: the task runs once those objects exist and gets their values.
  /// A parameter declared `object_ref<T>` receives the ref itself.
  template <class... Args>
  object_ref<result_type> remote(Args&&... args) const {
    static_assert(std::tuple_size_v<params> == sizeof...(Args),
                  "rustyray: remote() got a different number of arguments than the "
                  "function takes");
    return submit(std::index_sequence_for<Args...>{}, std::forward<Args>(args)...);
  }

private:
  template <std::size_t... I, class... Args>
  object_ref<result_type> submit(std::index_sequence<I...>, Args&&... args) const {
    static_assert((detail::stored_arg<std::tuple_element_t<I, params>, Args>::valid && ...),
                  "rustyray: an argument of remote() does not fit the function's "
                  "parameter: pass a value convertible to the parameter type T, or an "
                  "object_ref<T> of exactly that T (a parameter declared object_ref<T> "
                  "takes the ref itself)");
    // Kept by the body across retries; refs held here count as references,
    // counted in the submission's trip through the object table.
    detail::add_ref_batch batch;
    detail::stored_args_t<params, Args...> stored{std::forward<Args>(args)...};
    auto deps = detail::dependencies_of<params>(stored, std::index_sequence<I...>{});
    detail::function_identity identity;
    if constexpr (std::is_pointer_v<F> || std::is_member_function_pointer_v<F>)
      identity = detail::identity_of(f_);
    constexpr bool ships = std::is_pointer_v<F> && detail::ships_call<F>();
    detail::task_body body =
      [f = f_, stored = std::move(stored)](
        detail::body_mode mode) mutable -> caf::expected<detail::task_output> {
      if (mode == detail::body_mode::pack) {
        if constexpr (ships)
          return detail::pack_args<params>(stored, std::index_sequence<I...>{});
        else
          return detail::cannot_ship();
      }
      return detail::run_task<typename traits::result_type, params>(
        f, stored, mode == detail::body_mode::last_attempt, std::index_sequence<I...>{});
    };
    return object_ref<result_type>::adopt(
      detail::submit_task(options_, typeid(F), identity, ships, std::move(deps), std::move(body)));
  }

  F f_;
  task_options options_;
};

/// Turns a function (pointer, lambda, function object) into a remote task.
template <class F>
task_builder<std::decay_t<F>> task(F&& f) {
  return task_builder<std::decay_t<F>>{std::forward<F>(f)};
}

/// Requests cancellation of the task producing `ref`: a task not yet started
/// never runs and `get` throws `task_cancelled`; a running task sees
/// `cancel_requested()` become true. False (and no change) if the task has
/// finished or `ref` is not a task result.
bool cancel_task(const object_id& result);

template <class T>
bool cancel(const object_ref<T>& ref) {
  return cancel_task(ref.id());
}

/// Inside a running task: whether `cancel` was called on its result, or the
/// attempt ran past its `.timeout(d)` (its result will be dropped). False
/// outside tasks.
[[nodiscard]] bool cancel_requested() noexcept;

} // namespace rustyray
