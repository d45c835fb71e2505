#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "object_table.hpp"

namespace rustyray::objstore {

/// Pins each of `deps` (the pins that took are added to `pinned`) and calls
/// `on_ready` once every one of them holds a value or an error: at once on
/// this thread if all are resolved, otherwise on the thread that resolves the
/// last one. No polling, no thread parked. `unresolved` must live until then:
/// keep it in the object that `on_ready` holds.
void await_dependencies(object_table& table, const std::vector<object_id>& deps,
                        std::vector<object_id>& pinned, std::atomic<std::size_t>& unresolved,
                        const std::function<void()>& on_ready);

/// Drops the pins `await_dependencies` took.
void unpin_all(object_table& table, std::vector<object_id>& pinned);

} // namespace rustyray::objstore
