#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "object_table.hpp"

namespace rustyray::objstore {

/// Pins each of `deps` (the pins that took are added to `pinned`). Returns
/// true if every one of them already holds a value or an error: the caller
/// goes on at once and `on_ready` is never called (no message round trip for
/// arguments that exist). Otherwise `on_ready` runs on the thread that
/// resolves the last one. No polling, no thread parked. `unresolved` must live
/// until then: keep it in the object that `on_ready` holds.
[[nodiscard]] bool await_dependencies(object_table& table, const std::vector<object_id>& deps,
                        std::vector<object_id>& pinned, std::atomic<std::size_t>& unresolved,
                        const std::function<void()>& on_ready);

/// Drops the pins `await_dependencies` took.
void unpin_all(object_table& table, std::vector<object_id>& pinned);

} // namespace rustyray::objstore
