#include "rustyray/objstore/internal/dependencies.hpp"

#include "thread_context.hpp"

namespace rustyray::objstore::internal {

caf::expected<bool> await_each(object_table& table, dependency_wait& deps,
                               const std::function<waiter(std::size_t)>& make_waiter,
                               const object_id& result, std::shared_ptr<producer> made_by) {
  // One extra count while the waiters are registered, so that no waiter can
  // see zero before the table said how many resolved at once.
  deps.unresolved = deps.ids.size() + 1;
  std::size_t resolved = 0;
  // In a cluster, arguments that other nodes own are fetched meanwhile.
  if (auto* remote = table.remote())
    for (const auto& id : deps.ids)
      if (table.is_remote(id))
        remote->fetch(id);
  // The refs this submission copied count in the same trip.
  auto& noted = this_thread_context().noted;
  if (auto err = table.register_and_pin(noted.empty() ? nullptr : &noted, result,
                                        std::move(made_by), deps, make_waiter, resolved))
    return err;
  return deps.unresolved.fetch_sub(resolved + 1) == resolved + 1;
}

void unpin_all(object_table& table, dependency_wait& deps) {
  for (std::size_t i = 0; i < deps.pinned; ++i)
    (void)table.unpin(deps.ids[i]);
  deps.pinned = 0;
  // The values would keep the objects' memory (say, an actor's factory
  // arguments, for its whole life). A waiter still to come writes into
  // them, though: only with none left may they go.
  if (deps.unresolved.load() == 0)
    deps.clear_values();
}

} // namespace rustyray::objstore::internal
