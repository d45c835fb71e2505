#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "object_table.hpp"

namespace rustyray::objstore {

/// The objects one task or call waits for, pinned while it waits and runs.
struct dependency_wait {
  dependency_wait() = default;
  explicit dependency_wait(std::vector<object_id> ids) : ids(std::move(ids)) {
  }
  /// The first `pinned` of them hold this wait's pins (an object already
  /// gone cannot be pinned; the task then finds its error).
  std::vector<object_id> ids;
  std::size_t pinned = 0;
  /// Not resolved yet, counted down by the store's waiters.
  std::atomic<std::size_t> unresolved{0};
};

/// The non-template part of `await_dependencies`.
bool await_each(object_table& table, dependency_wait& deps,
                const std::function<waiter()>& make_waiter);

/// Pins each of `deps`. Returns true if every one of them already holds a
/// value or an error: the caller goes on at once (no message round trip for
/// arguments that exist). Otherwise the function `make_on_ready()` returns
/// runs on the thread that resolves the last one. No polling, no thread
/// parked. `deps` must live until then: keep it in the object that function
/// holds.
template <class MakeOnReady>
[[nodiscard]] bool await_dependencies(object_table& table, dependency_wait& deps,
                                      MakeOnReady make_on_ready) {
  // Only a dependency still pending pays for a waiter and for building the
  // function (copies of shared pointers, atomic counts); this one holds two
  // references, small enough for std::function to keep without allocating.
  auto make_waiter = [&deps, &make_on_ready]() -> waiter {
    return [counter = &deps.unresolved, on_ready = make_on_ready()](const lookup&) {
      if (--*counter == 0)
        on_ready();
    };
  };
  return await_each(table, deps, make_waiter);
}

/// Drops the pins `await_dependencies` took.
void unpin_all(object_table& table, dependency_wait& deps);

} // namespace rustyray::objstore
