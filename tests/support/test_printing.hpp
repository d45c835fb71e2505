#pragma once

// How Boost.Test prints RustyRay and CAF values in failed assertions.

#include <ostream>

#include <caf/error.hpp>

#include "rustyray/errc.hpp"
#include "rustyray/object_id.hpp"
#include "rustyray/object_ref.hpp"

namespace rustyray {

inline std::ostream& boost_test_print_type(std::ostream& os, errc code) {
  return os << to_string(code);
}

inline std::ostream& boost_test_print_type(std::ostream& os, const object_id& id) {
  return os << to_string(id);
}

template <class T>
std::ostream& boost_test_print_type(std::ostream& os, const object_ref<T>& ref) {
  return os << "object_ref(" << to_string(ref.id()) << ")";
}

} // namespace rustyray

namespace caf {

inline std::ostream& boost_test_print_type(std::ostream& os, const error& err) {
  return os << to_string(err);
}

} // namespace caf
