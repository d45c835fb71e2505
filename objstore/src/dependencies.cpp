#include "rustyray/objstore/internal/dependencies.hpp"

#include "rustyray/internal/release_collector.hpp"

namespace rustyray::objstore {

caf::expected<bool> await_each(object_table& table, dependency_wait& deps,
                               const std::function<waiter(std::size_t)>& make_waiter,
                               const object_id& result, std::shared_ptr<producer> made_by) {
  // One extra count while the waiters are registered, so that no waiter can
  // see zero before the table said how many resolved at once.
  deps.unresolved = deps.ids.size() + 1;
  std::size_t resolved = 0;
  // The refs this submission copied count in the same trip.
  if (auto err = table.register_and_pin(internal::noted_add_refs(), result, std::move(made_by),
                                        deps, make_waiter, resolved))
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

namespace {

thread_local fetched_arguments* current_fetched = nullptr;

} // namespace

fetched_arguments::fetched_arguments(const object_table& table, dependency_wait& deps) noexcept
  : deps_(table.frees() == deps.frees_seen ? &deps : nullptr), previous_(current_fetched) {
  current_fetched = this;
}

fetched_arguments::~fetched_arguments() {
  current_fetched = previous_;
}

const lookup* fetched_arguments::find(const object_id& id) noexcept {
  auto* self = current_fetched;
  if (self == nullptr || self->deps_ == nullptr)
    return nullptr;
  auto* found = self->deps_->fetched(id);
  if (found != nullptr)
    ++self->served_;
  return found;
}

} // namespace rustyray::objstore
