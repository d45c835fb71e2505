#include "rustyray/objstore/internal/run_record.hpp"

#include "thread_context.hpp"

namespace rustyray::objstore::internal {

arguments_scope::arguments_scope(const object_table& table, run_record& run) noexcept
  : active_(run.deps.pinned > 0) {
  if (!active_)
    return;
  auto& here = this_thread_context();
  previous_ = here.serving;
  // A freed argument lost its value since the pin fetched it: every get
  // then looks in the table, as it would have.
  here.serving = table.frees() == run.deps.frees_seen ? &run : nullptr;
}

arguments_scope::~arguments_scope() {
  if (active_)
    this_thread_context().serving = previous_;
}

caf::error complete_run_with(object_table& table, run_record& run, void (*drop)(void*),
                             void* arguments, lookup& output, std::uint64_t size) {
  auto& here = this_thread_context();
  // The arguments go first, collected: their refs are dropped in the trip
  // that unpins them and stores the result.
  std::vector<object_id> nested;
  bool outermost = !here.completing;
  auto& released = outermost ? here.run_releases : nested;
  here.completing = true;
  auto* outer = here.releases;
  here.releases = &released;
  drop(arguments);
  here.releases = outer;
  completion done{run.result, std::move(output), size, &released, run.fetched_gets};
  auto err = table.complete(done, run.deps);
  if (outermost) {
    released.clear();
    here.completing = false;
  }
  return err;
}

} // namespace rustyray::objstore::internal
