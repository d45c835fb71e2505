#include "dependencies.hpp"

namespace rustyray::objstore {

bool await_dependencies(object_table& table, const std::vector<object_id>& deps,
                        std::vector<object_id>& pinned, std::atomic<std::size_t>& unresolved,
                        const std::function<void()>& on_ready) {
  // One extra count while the waiters are registered, so `on_ready` cannot
  // run before the loop is done.
  unresolved = deps.size() + 1;
  for (const auto& dep : deps) {
    if (!table.pin(dep))
      pinned.push_back(dep);
    std::uint64_t token = 0;
    auto resolved = table.get_or_wait(
      dep,
      [counter = &unresolved, on_ready](const lookup&) {
        if (--*counter == 0)
          on_ready();
      },
      token);
    if (resolved)
      --unresolved;
  }
  return --unresolved == 0;
}

void unpin_all(object_table& table, std::vector<object_id>& pinned) {
  for (const auto& dep : pinned)
    (void)table.unpin(dep);
  pinned.clear();
}

} // namespace rustyray::objstore
