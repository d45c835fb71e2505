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
                             void* arguments, completion& done) {
  auto& here = this_thread_context();
  // The arguments go first, collected: their refs are dropped in the trip
  // that unpins them and stores the result. The thread's list is taken for
  // this completion (its memory reused: no allocation per run), so one
  // nested in it (in a destructor, or in a waiter the table calls) finds
  // none and starts its own.
  auto released = std::move(here.spare_releases);
  auto* outer = here.releases;
  here.releases = &released;
  drop(arguments);
  here.releases = outer;
  done.result = run.result;
  done.released = &released;
  done.fetched_gets = run.fetched_gets;
  auto err = table.complete(std::move(done), run.deps);
  released.clear();
  here.spare_releases = std::move(released);
  return err;
}

} // namespace rustyray::objstore::internal
