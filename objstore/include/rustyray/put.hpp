#pragma once

#include <type_traits>
#include <utility>

#include <caf/make_message.hpp>

#include "rustyray/detail/byte_buffer.hpp"
#include "rustyray/detail/value_size.hpp"
#include "rustyray/object_ref.hpp"

namespace rustyray {

/// Stores `value` in the object store and returns a ref to it. An rvalue is
/// moved in; an lvalue is copied once (a large byte buffer into huge pages). `T` must be a type CAF can serialize (an
/// `inspect` overload, registered with `add_message_type` if it crosses
/// processes). Throws `error` with `object_store_full` when it cannot fit, or
/// `runtime_not_initialized`.
///
/// ~~~
/// auto ref = rustyray::put(std::vector<int>{1, 2, 3});
/// ~~~
template <class T>
[[nodiscard]] object_ref<std::decay_t<T>> put(T&& value) {
  using value_type = std::decay_t<T>;
  static_assert(!std::is_pointer_v<value_type>,
                "rustyray::put stores values, not pointers: put a std::string or a "
                "std::vector instead of a pointer");
  auto size = detail::value_size(value);
  auto message = [&] {
    if constexpr (std::is_lvalue_reference_v<T>)
      return caf::make_message(detail::copy_value<value_type>(value));
    else
      return caf::make_message(std::move(value));
  }();
  return object_ref<value_type>::adopt(detail::put_message(std::move(message), size));
}

} // namespace rustyray
