#pragma once

// The loop the raw-CAF floors share (caf_floors.cpp, cluster_bench.cpp):
// CAF's actor headers, so only their translation units include it.

#include <chrono>
#include <stdexcept>
#include <string>

#include <caf/all.hpp>

namespace bench {

/// `calls` messages (call i to `target_of(i)`), then every reply. A reply
/// that does not come within a minute fails the run instead of hanging it.
template <class Target>
inline void send_then_receive(caf::scoped_actor& self, int calls, Target target_of) {
  for (int i = 0; i < calls; ++i)
    self->send(target_of(i), 1);
  int received = 0;
  bool late = false;
  while (received < calls && !late)
    self->receive([&](int) { ++received; },
                  caf::after(std::chrono::minutes(1)) >> [&] { late = true; });
  if (late)
    throw std::runtime_error("CAF floor: " + std::to_string(calls - received) + " of "
                             + std::to_string(calls) + " replies missing after a minute");
}

} // namespace bench
