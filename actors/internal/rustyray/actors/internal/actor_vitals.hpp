#pragma once

#include <atomic>
#include <string>
#include <typeinfo>

namespace rustyray::actors::internal {

/// What `state()` shows about one actor beyond its ID: written by the actor's
/// host thread, read by any thread, shared by the host and the directory.
struct actor_vitals {
  enum phase : int { starting, alive, dead };

  actor_vitals(const std::type_info& cls, std::string name) : cls(cls), name(std::move(name)) {}

  const std::type_info& cls;
  const std::string name;
  std::atomic<int> current{starting};
  std::atomic<int> restarts{0};
};

} // namespace rustyray::actors::internal
