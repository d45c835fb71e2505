#pragma once

#include <type_traits>
#include <utility>

#include <caf/make_message.hpp>

#include "rustyray/detail/value_size.hpp"
#include "rustyray/object_ref.hpp"

namespace rustyray {

/// Stores `value` in the object store and returns a ref to it. The value is
/// moved in (pass an rvalue to avoid the copy into the parameter), so a byte
/// buffer is copied at most once. `T` must be a type CAF can serialize (an
/// `inspect` overload, registered with `add_message_type` if it crosses
/// processes). Throws `error` with `object_store_full` when it cannot fit, or
/// `runtime_not_initialized`.
///
/// ~~~
/// auto ref = rustyray::put(std::vector<int>{1, 2, 3});
/// ~~~
template <class T>
[[nodiscard]] object_ref<T> put(T value) {
  static_assert(!std::is_pointer_v<T>,
                "rustyray::put stores values, not pointers: put a std::string or a "
                "std::vector instead of a pointer");
  auto size = detail::value_size(value);
  return object_ref<T>::adopt(detail::put_message(caf::make_message(std::move(value)), size));
}

} // namespace rustyray
