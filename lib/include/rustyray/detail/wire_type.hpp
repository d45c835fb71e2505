#pragma once

// Which values may cross to another node, and how their types are announced
// to CAF: CAF 0.17 ships a message element of a type that is not built in
// only if both ends registered it by name in their actor_system_config.
// `RUSTYRAY_REMOTE` collects the parameter and result types of what it
// registers, and `configure` announces them, so that a registered function
// runs on any node without the program naming its types.

#include <tuple>
#include <type_traits>
#include <typeindex>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/type_erased_value.hpp>
#include <caf/type_nr.hpp>

#include "rustyray/detail/callable_traits.hpp"

namespace rustyray::detail {

/// A type another node can rebuild from CAF's bytes: inspectable (or with
/// serialize operators), default- and copy-constructible, and not one that a
/// program allowed into local messages only (`CAF_ALLOW_UNSAFE_MESSAGE_TYPE`).
template <class T>
constexpr bool ships() {
  if constexpr (std::is_void_v<T>)
    return true;
  else
    return caf::detail::is_serializable<T>::value && !caf::allowed_unsafe_message_type<T>::value
           && std::is_default_constructible_v<T> && std::is_copy_constructible_v<T>;
}

template <class R, class Params>
struct call_types;

template <class R, class... Params>
struct call_types<R, std::tuple<Params...>> {
  /// Whether a call can run on another node: its parameters and its
  /// result ship.
  static constexpr bool ship = (ships<std::decay_t<R>>() && ... && ships<std::decay_t<Params>>());
};

template <class F>
constexpr bool ships_call() {
  using traits = callable_traits<F>;
  return call_types<typename traits::result_type, typename traits::arg_types>::ship;
}

/// A type to announce to CAF: its RTTI and how to make an empty value.
struct wire_type {
  std::type_index type;
  caf::type_erased_value_ptr (*make)();
};

template <class T>
void add_wire_type(std::vector<wire_type>& out) {
  using V = std::decay_t<T>;
  if constexpr (!std::is_void_v<V>) {
    if constexpr (ships<V>() && caf::type_nr<V>::value == 0)
      out.push_back({std::type_index(typeid(V)), &caf::make_type_erased_value<V>});
  }
}

template <class R, class... Params>
void add_wire_types(std::vector<wire_type>& out, std::tuple<Params...>*) {
  add_wire_type<R>(out);
  (add_wire_type<Params>(out), ...);
}

/// The types a call of `F` ships that CAF does not know by itself.
template <class F>
std::vector<wire_type> wire_types_of() {
  using traits = callable_traits<F>;
  std::vector<wire_type> out;
  add_wire_types<typename traits::result_type>(out,
                                               static_cast<typename traits::arg_types*>(nullptr));
  return out;
}

} // namespace rustyray::detail
