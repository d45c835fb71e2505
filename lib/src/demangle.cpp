#include "rustyray/internal/demangle.hpp"

#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <utility>

#include <caf/type_nr.hpp>

namespace rustyray::internal {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{
    abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free};
  return status == 0 && name ? name.get() : mangled;
}

std::string type_name(caf::rtti_pair type) {
  auto [nr, info] = type;
  if (nr == 0)
    return info ? demangle(info->name()) : "an unknown type";
  // CAF numbers its built-in types and names them "@i32", "@str", ...
  std::string name = caf::numbered_type_names[nr - 1];
  static const std::pair<const char*, const char*> readable[] = {
    {"@i8", "int8_t"},
    {"@i16", "int16_t"},
    {"@i32", "int32_t"},
    {"@i64", "int64_t"},
    {"@u8", "uint8_t"},
    {"@u16", "uint16_t"},
    {"@u32", "uint32_t"},
    {"@u64", "uint64_t"},
    {"@str", "std::string"},
    {"@charbuf", "std::vector<char>"},
    {"@strvec", "std::vector<std::string>"},
    {"@ldouble", "long double"},
  };
  for (auto [caf_name, cpp_name] : readable)
    if (name == caf_name)
      return cpp_name;
  return name[0] == '@' ? "caf::" + name.substr(1) : name;
}

} // namespace rustyray::internal
