#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "dependencies.hpp"
#include "rustyray/object_id.hpp"
#include "rustyray/tasks/task.hpp"

namespace rustyray::internal {

/// Resource amounts in thousandths, so fractions add up exactly.
using resource_amounts = std::map<std::string, std::int64_t>;

/// A task's request, shared: most tasks ask for the same (one CPU), and the
/// scheduler compares and holds requests per dispatch.
using resource_request = std::shared_ptr<const resource_amounts>;

/// One submitted task, from submission until it finished or was cancelled.
struct task_record : objstore::producer {
  enum state : int { waiting, queued, running, finished, cancelled };

  object_id result;
  task_options options;
  /// The function's type and pointer bytes: its name, found only when an
  /// error needs it (`name()`), so submitting costs no name lookup.
  const std::type_info* function = nullptr;
  detail::function_identity identity;
  resource_request request;
  /// Pinned until the task is done.
  objstore::dependency_wait deps;
  detail::task_body body;
  /// Submitted from inside a running task: dispatched first, depth-first.
  bool nested = false;

  std::atomic<int> st{waiting};
  std::atomic<bool> cancel_requested{false};

  /// `.name(...)`, else the `RUSTYRAY_REMOTE` name, else the function's type.
  std::string name() const;

  /// "task plus1 (waiting for arguments)".
  std::string describe() const override;
};

using task_ptr = std::shared_ptr<task_record>;

/// Ready tasks with the same resource request, run one after another by one
/// worker: one message hop for many small tasks.
struct task_batch {
  std::vector<task_ptr> tasks;
};

} // namespace rustyray::internal

// Local only: tasks travel between the scheduler and its workers in-process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::internal::task_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::internal::task_batch)
