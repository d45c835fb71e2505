#pragma once

// Waiting for a condition that another thread makes true, for the tests of
// faults and load: a generous deadline (sanitizers and a loaded machine make
// everything slower), checked often, so a passing test does not wait long.

#include <chrono>
#include <future>
#include <thread>

namespace rustyray::test {

/// Whether `holds()` becomes true within `limit`.
template <class Predicate>
bool eventually(Predicate holds, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!holds()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Whether `f` is ready within `limit` (a hang fails the test instead of
/// blocking it).
template <class Future>
bool ready_within(const Future& f, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  return f.wait_for(limit) == std::future_status::ready;
}

} // namespace rustyray::test
