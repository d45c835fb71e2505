#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "object_table.hpp"

namespace rustyray::objstore {

/// The non-template part of `await_dependencies`.
bool await_each(object_table& table, const std::vector<object_id>& deps,
                std::vector<object_id>& pinned, std::atomic<std::size_t>& unresolved,
                const std::function<waiter()>& make_waiter);

/// Pins each of `deps` (the pins that took are added to `pinned`). Returns
/// true if every one of them already holds a value or an error: the caller
/// goes on at once and `on_ready` is never called (no message round trip for
/// arguments that exist). Otherwise `on_ready` runs on the thread that
/// resolves the last one. No polling, no thread parked. `unresolved` must live
/// until then: keep it in the object that `on_ready` holds.
template <class OnReady>
[[nodiscard]] bool await_dependencies(object_table& table, const std::vector<object_id>& deps,
                                      std::vector<object_id>& pinned,
                                      std::atomic<std::size_t>& unresolved, OnReady on_ready) {
  // Only a dependency still pending pays for a waiter (and a copy of
  // on_ready); this one holds two references, small enough for
  // std::function to keep without allocating.
  auto make_waiter = [&unresolved, &on_ready]() -> waiter {
    return [counter = &unresolved, on_ready](const lookup&) {
      if (--*counter == 0)
        on_ready();
    };
  };
  return await_each(table, deps, pinned, unresolved, make_waiter);
}

/// Drops the pins `await_dependencies` took.
void unpin_all(object_table& table, std::vector<object_id>& pinned);

} // namespace rustyray::objstore
