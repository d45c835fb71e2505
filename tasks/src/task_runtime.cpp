#include "rustyray/tasks/internal/task_runtime.hpp"

#include "rustyray/internal/published.hpp"

namespace rustyray::tasks::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

published<task_runtime>& task_slot = *new published<task_runtime>; // never destroyed

} // namespace

std::shared_ptr<task_runtime> current_tasks_or_throw() {
  return task_slot.get_or_throw();
}

std::shared_ptr<task_runtime> current_tasks() noexcept {
  return task_slot.get();
}

void publish_tasks(std::shared_ptr<task_runtime> tasks) {
  task_slot.publish(std::move(tasks));
}

} // namespace rustyray::tasks::internal
