#pragma once

#include <string>
#include <typeinfo>

namespace rustyray::actors::internal {

/// What `state()` shows about one actor beyond its ID, as its host saw it
/// when asked.
struct actor_vitals {
  enum phase : int { starting, alive, dead };

  const std::type_info* cls = nullptr;
  std::string name;
  std::string ray_namespace; // of a named actor
  phase current = starting;
  int restarts = 0;
};

} // namespace rustyray::actors::internal
