#pragma once

// How tasks and actor methods call a function on their stored arguments: one
// invocation layer, shared by both.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/message_builder.hpp>

#include "rustyray/detail/call_args.hpp"
#include "rustyray/detail/object_access.hpp"
#include "rustyray/detail/value_size.hpp"
#include "rustyray/object_ref.hpp"

namespace rustyray::detail {

/// What a task's (or an actor call's) body is asked to do.
enum class body_mode {
  /// Run the function on copies of the stored arguments (a retry may follow).
  attempt,
  /// Run it for the last time: the stored arguments may be moved.
  last_attempt,
  /// Run nothing: return the argument values as one message (the value of
  /// the output), but the dependencies' (`by_ref`), for another node to run
  /// the function on. The error `function_not_registered` if the call
  /// cannot ship.
  pack,
};

/// A dependency argument of a call, by its position among the arguments
/// (from 0) and the object that holds its value.
using arg_ref = std::pair<std::uint32_t, object_id>;

/// What a task's function produced: its result as a stored value.
struct task_output {
  caf::message value;
  std::uint64_t size = 0;
  /// `pack`: the dependencies left out of `value`, in argument order. The
  /// shipping side adds their values, or sends a node the IDs of the
  /// objects it holds itself.
  std::vector<arg_ref> by_ref;
};

/// The value of one argument for the call: a stored value (moved on the last
/// attempt, copied before), a ref passed through, or a dependency's value.
template <class Param, class Stored>
caf::expected<std::decay_t<Param>> resolve_arg(Stored& stored, [[maybe_unused]] bool last_attempt) {
  using info = stored_arg<Param, Stored>;
  if constexpr (info::is_dependency) {
    return unpack<std::decay_t<Param>>(stored.id(),
                                       get_message(stored.id(), std::chrono::milliseconds{0}));
  } else {
    if (last_attempt)
      return std::move(stored);
    return stored;
  }
}

/// The message of an argument whose object holds an error: names the argument
/// and the object and keeps the cause's text, so chains read to the root.
caf::error argument_error(std::size_t position, const object_id& id, const caf::error& cause);

/// Resolves the stored arguments for parameters `Params` and passes them to
/// `call`; returns the error of the first argument that holds one instead.
template <class Params, class Stored, class Call, std::size_t... I>
caf::error with_args(Stored& stored, [[maybe_unused]] bool last_attempt, std::index_sequence<I...>,
                     Call&& call) {
  std::tuple<caf::expected<std::decay_t<std::tuple_element_t<I, Params>>>...> args{
    resolve_arg<std::tuple_element_t<I, Params>>(std::get<I>(stored), last_attempt)...};
  caf::error failure;
  (
    [&](auto& arg, std::size_t position, const auto& source) {
      if (!failure && !arg) {
        object_id id;
        if constexpr (is_object_ref<std::decay_t<decltype(source)>>::value)
          id = source.id();
        failure = argument_error(position, id, arg.error());
      }
    }(std::get<I>(args), I + 1, std::get<I>(stored)),
    ...);
  if (failure)
    return failure;
  call(std::move(*std::get<I>(args))...);
  return {};
}

/// The stored arguments for parameters `Params` as one message (copies: the
/// task keeps them for a retry), but the dependencies, listed by ID: the
/// shipping side knows which node needs which value.
template <class Params, class Stored, std::size_t... I>
task_output pack_args(Stored& stored, std::index_sequence<I...>) {
  task_output output;
  caf::message_builder values;
  (
    [&](auto& x) {
      using entry = stored_arg<std::tuple_element_t<I, Params>, std::tuple_element_t<I, Stored>>;
      if constexpr (entry::is_dependency)
        output.by_ref.emplace_back(static_cast<std::uint32_t>(I), x.id());
      else
        values.append(x);
    }(std::get<I>(stored)),
    ...);
  output.value = values.to_message();
  return output;
}

/// The arguments of a call in order: `values` holds them but the
/// dependencies `deps` (by position, ascending; each value one element);
/// an empty value leaves its argument out (it travels by ID). The error
/// `invalid_argument` if the positions do not fit `values` (they may come
/// from another node).
caf::expected<caf::message>
splice_args(const caf::message& values,
            const std::vector<std::pair<std::uint32_t, caf::message>>& deps);

/// A shipped call's arguments: `args` with the value of each object `refs`
/// names (by position), as the call's wait fetched it (another node's
/// object was fetched as a copy first). The argument's error if an object
/// holds one.
caf::expected<caf::message> with_dependencies(const caf::message& args,
                                              const std::vector<arg_ref>& refs);

/// References held on objects for as long as it lives: a shipped call's
/// arguments that came by ID and that another node owns, borrowed (and so
/// fetched and kept) until the call is done.
class held_refs {
public:
  explicit held_refs(std::vector<object_id> ids) noexcept : ids_(std::move(ids)) {
    for (const auto& id : ids_)
      add_ref(id);
  }
  ~held_refs() {
    for (const auto& id : ids_)
      release_ref(id);
  }
  held_refs(const held_refs&) = delete;
  held_refs& operator=(const held_refs&) = delete;

private:
  std::vector<object_id> ids_;
};

/// Adds the objects `refs` names to `deps` (what a shipped call waits for)
/// and borrows those another node than `here` owns: null if there are none.
inline std::shared_ptr<held_refs> borrow_dependencies(const std::vector<arg_ref>& refs,
                                                      std::uint64_t here, id_list& deps) {
  std::vector<object_id> elsewhere;
  for (const auto& ref : refs) {
    deps.push_back(ref.second);
    if (ref.second.node() != here)
      elsewhere.push_back(ref.second);
  }
  return elsewhere.empty() ? nullptr : std::make_shared<held_refs>(std::move(elsewhere));
}

/// The error of `pack` for a call that cannot ship.
caf::error cannot_ship();

/// Calls `f` (returning `R`) on the stored arguments; shared by tasks and
/// actor methods.
template <class R, class Params, class F, class Stored, std::size_t... I>
caf::expected<task_output> run_task(F& f, Stored& stored, bool last_attempt,
                                    std::index_sequence<I...> indices) {
  task_output output;
  auto failure = with_args<Params>(stored, last_attempt, indices, [&](auto&&... args) {
    if constexpr (std::is_void_v<R>) {
      std::invoke(f, std::forward<decltype(args)>(args)...);
    } else {
      auto value = std::invoke(f, std::forward<decltype(args)>(args)...);
      output.size = value_size(value);
      output.value = caf::make_message(std::move(value));
    }
  });
  if (failure)
    return failure;
  return output;
}

} // namespace rustyray::detail
