#pragma once

#include <cstdint>
#include <type_traits>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "rustyray/detail/byte_buffer.hpp"
#include "rustyray/detail/size_counter.hpp"

namespace rustyray::detail {

/// The bytes an object occupies in the store's capacity: exact for strings and
/// byte buffers, `sizeof` for plain numbers, the CAF-serialized size otherwise
/// (what it would cost to ship the object to another node).
template <class T>
std::uint64_t value_size(const T& value) {
  if constexpr (is_byte_buffer_v<T>) {
    return value.size();
  } else if constexpr (std::is_arithmetic_v<
                         T> || std::is_enum_v<T> || caf::allowed_unsafe_message_type<T>::value) {
    return sizeof(T);
  } else {
    size_counter counter;
    // CAF's serializers never modify what they save (see caf/serializer.hpp).
    if (counter(const_cast<T&>(value)))
      return sizeof(T);
    return counter.bytes();
  }
}

/// `value_size` of what a stored message holds, without knowing its types
/// (a value that arrived from another node): exact for a byte buffer or a
/// string, the elements' CAF-serialized size otherwise.
std::uint64_t message_size(const caf::message& value);

} // namespace rustyray::detail
