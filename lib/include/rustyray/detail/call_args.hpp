#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

#include "rustyray/detail/id_list.hpp"
#include "rustyray/object_ref.hpp"

namespace rustyray::detail {

template <class T>
struct is_object_ref : std::false_type {};

template <class T>
struct is_object_ref<object_ref<T>> : std::true_type {};

template <class T>
struct ref_value {
  using type = void;
};

template <class T>
struct ref_value<object_ref<T>> {
  using type = T;
};

/// How an argument of type `Arg` is kept, until the task runs, for a parameter
/// of type `Param`: the ref itself, or the value (copied or moved in once).
template <class Param, class Arg>
struct stored_arg {
  using param = std::decay_t<Param>;
  using arg = std::decay_t<Arg>;
  static constexpr bool param_is_ref = is_object_ref<param>::value;
  static constexpr bool arg_is_ref = is_object_ref<arg>::value;

  /// A ref passed where the function takes the value: the task waits for it.
  static constexpr bool is_dependency = arg_is_ref && !param_is_ref;

  static constexpr bool valid = param_is_ref ? std::is_same_v<arg, param>
                                : arg_is_ref ? std::is_same_v<typename ref_value<arg>::type, param>
                                             : std::is_convertible_v<Arg, param>;

  using type = std::conditional_t<arg_is_ref, arg, param>;
};

/// The tuple that keeps the arguments `Args` for parameters `Params` until
/// the call runs.
template <class Params, class Indices, class... Args>
struct stored_args;

template <class Params, std::size_t... I, class... Args>
struct stored_args<Params, std::index_sequence<I...>, Args...> {
  using type = std::tuple<typename stored_arg<std::tuple_element_t<I, Params>, Args>::type...>;
};

template <class Params, class... Args>
using stored_args_t = typename stored_args<Params, std::index_sequence_for<Args...>, Args...>::type;

/// The IDs of the stored refs that the call waits for (refs passed where the
/// function takes the value), in argument order.
template <class Params, class Stored, std::size_t... I>
id_list dependencies_of(const Stored& stored, std::index_sequence<I...>) {
  id_list deps;
  (
    [&](const auto& x) {
      using entry = stored_arg<std::tuple_element_t<I, Params>, std::tuple_element_t<I, Stored>>;
      if constexpr (entry::is_dependency)
        deps.push_back(x.id());
    }(std::get<I>(stored)),
    ...);
  return deps;
}

} // namespace rustyray::detail
