#include "rustyray/tasks/internal/task_runtime.hpp"

#include "rustyray/internal/published.hpp"
#include "rustyray/error.hpp"

namespace rustyray::internal {

namespace {

published<task_runtime>& task_slot = *new published<task_runtime>; // never destroyed

} // namespace

std::shared_ptr<task_runtime> current_tasks_or_throw() {
  if (auto tasks = task_slot.get())
    return tasks;
  throw error{errc::runtime_not_initialized,
              "no RustyRay runtime is running in this process; call rustyray::init() first"};
}

void publish_tasks(std::shared_ptr<task_runtime> tasks) {
  task_slot.publish(std::move(tasks));
}

} // namespace rustyray::internal
