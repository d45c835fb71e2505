#include "dependencies.hpp"

namespace rustyray::objstore {

bool await_each(object_table& table, dependency_wait& deps,
                const std::function<waiter()>& make_waiter) {
  // One extra count while the waiters are registered, so that no waiter can
  // see zero before the loop is done.
  deps.unresolved = deps.ids.size() + 1;
  deps.pinned = 0;
  for (std::size_t i = 0; i < deps.ids.size(); ++i) {
    bool pin_took = false;
    if (table.pin_or_wait(deps.ids[i], pin_took, make_waiter))
      --deps.unresolved;
    if (pin_took)
      std::swap(deps.ids[i], deps.ids[deps.pinned++]);
  }
  return --deps.unresolved == 0;
}

void unpin_all(object_table& table, dependency_wait& deps) {
  for (std::size_t i = 0; i < deps.pinned; ++i)
    (void)table.unpin(deps.ids[i]);
  deps.pinned = 0;
}

} // namespace rustyray::objstore
