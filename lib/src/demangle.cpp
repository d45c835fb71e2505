#include "demangle.hpp"

#include <cstdlib>
#include <cxxabi.h>
#include <memory>

namespace rustyray::internal {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{
    abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free};
  return status == 0 && name ? name.get() : mangled;
}

} // namespace rustyray::internal
