#include "dependencies.hpp"

namespace rustyray::objstore {

bool await_each(object_table& table, const std::vector<object_id>& deps,
                std::vector<object_id>& pinned, std::atomic<std::size_t>& unresolved,
                const std::function<waiter()>& make_waiter) {
  // One extra count while the waiters are registered, so that no waiter can
  // see zero before the loop is done.
  unresolved = deps.size() + 1;
  for (const auto& dep : deps) {
    bool pin_took = false;
    if (table.pin_or_wait(dep, pin_took, make_waiter))
      --unresolved;
    if (pin_took)
      pinned.push_back(dep);
  }
  return --unresolved == 0;
}

void unpin_all(object_table& table, std::vector<object_id>& pinned) {
  for (const auto& dep : pinned)
    (void)table.unpin(dep);
  pinned.clear();
}

} // namespace rustyray::objstore
