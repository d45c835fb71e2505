#include "rustyray/object_id.hpp"

#include <cstdio>

namespace rustyray {

std::string to_string(const object_id& id) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%016llx.%llu", static_cast<unsigned long long>(id.node()),
                static_cast<unsigned long long>(id.sequence()));
  return buf;
}

} // namespace rustyray
