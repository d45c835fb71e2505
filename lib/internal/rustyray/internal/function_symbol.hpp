#pragma once

#include <string>
#include <typeinfo>

#include "rustyray/detail/function_identity.hpp"

namespace rustyray::internal {

/// The qualified name (`ns::C::f`, without parameters) of the function whose
/// code starts at `address`, from the symbol tables of the program or the
/// shared library holding it; empty where none names it (a stripped binary).
std::string function_symbol(const void* address);

/// A readable name for a member function pointer of type `type` whose bytes
/// are `identity`: `ns::C::method` where the symbols name it; otherwise its
/// type, and how to give it a name.
std::string member_function_name(const std::type_info& type,
                                 const detail::function_identity& identity);

} // namespace rustyray::internal
