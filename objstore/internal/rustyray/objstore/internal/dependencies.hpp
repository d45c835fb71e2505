#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "rustyray/objstore/internal/dependency_wait.hpp"
#include "rustyray/objstore/internal/object_table.hpp"

namespace rustyray::objstore::internal {

/// The non-template part of `await_dependencies`: true if every dependency
/// is resolved already.
caf::expected<bool> await_each(object_table& table, dependency_wait& deps,
                               const std::function<waiter(std::size_t)>& make_waiter,
                               const object_id& result = {},
                               std::shared_ptr<producer> made_by = {});

/// Builds the waiter of one dependency for `await_each`: it keeps what the
/// dependency resolved to and, if it was the last, calls `on_ready`.
template <class MakeOnReady>
std::function<waiter(std::size_t)> waiter_factory(dependency_wait& deps,
                                                  MakeOnReady& make_on_ready) {
  // Only a dependency still pending pays for a waiter and for building the
  // function (copies of shared pointers, atomic counts).
  return [&deps, &make_on_ready](std::size_t slot) -> waiter {
    return [&deps, slot, on_ready = make_on_ready()](const lookup& found) {
      deps.value(slot) = found;
      if (--deps.unresolved == 0)
        on_ready();
    };
  };
}

/// Pins each of `deps`. Returns true if every one of them already holds a
/// value or an error: the caller goes on at once (no message round trip for
/// arguments that exist). Otherwise the function `make_on_ready()` returns
/// runs on the thread that resolves the last one. No polling, no thread
/// parked. `deps` must live until then: keep it in the object that function
/// holds.
template <class MakeOnReady>
[[nodiscard]] bool await_dependencies(object_table& table, dependency_wait& deps,
                                      MakeOnReady make_on_ready) {
  // Without a result to register, the table is never refused.
  return *await_each(table, deps, waiter_factory(deps, make_on_ready));
}

/// As `await_dependencies`, registering `result` (made by `made_by`) as a
/// pending object first, in the same trip through the table: the table's
/// refusal (it is closed) if that fails, then nothing is pinned.
template <class MakeOnReady>
[[nodiscard]] caf::expected<bool>
register_and_await(object_table& table, const object_id& result, std::shared_ptr<producer> made_by,
                   dependency_wait& deps, MakeOnReady make_on_ready) {
  return await_each(table, deps, waiter_factory(deps, make_on_ready), result, std::move(made_by));
}

/// Drops the pins `await_dependencies` took.
void unpin_all(object_table& table, dependency_wait& deps);

} // namespace rustyray::objstore::internal
