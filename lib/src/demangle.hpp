#pragma once

#include <string>

namespace rustyray::internal {

/// The readable C++ name of a mangled type name (`typeid(T).name()`), or the
/// mangled name itself if it cannot be demangled.
std::string demangle(const char* mangled);

} // namespace rustyray::internal
