#pragma once

#include <string>

#include <caf/rtti_pair.hpp>

namespace rustyray::internal {

/// The readable C++ name of a mangled type name (`typeid(T).name()`), or the
/// mangled name itself if it cannot be demangled.
std::string demangle(const char* mangled);

/// A readable name for a type as CAF identifies it in messages: `int32_t`,
/// `std::string`, or the demangled name of a type CAF does not number.
std::string type_name(caf::rtti_pair type);

} // namespace rustyray::internal
