#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "rustyray/object_id.hpp"
#include "rustyray/tasks/task.hpp"

namespace rustyray::internal {

/// Resource amounts in thousandths, so fractions add up exactly.
using resource_amounts = std::map<std::string, std::int64_t>;

/// One submitted task, from submission until it finished or was cancelled.
struct task_record {
  enum state : int { waiting, queued, running, finished, cancelled };

  object_id result;
  task_options options;
  resource_amounts request;
  std::vector<object_id> deps;
  /// The deps this task pinned (and unpins when it is done).
  std::vector<object_id> pinned;
  detail::task_body body;
  /// Submitted from inside a running task: dispatched first, depth-first.
  bool nested = false;

  std::atomic<int> st{waiting};
  /// Dependencies not yet resolved, plus one while submission registers them.
  std::atomic<std::size_t> unresolved{0};
  std::atomic<bool> cancel_requested{false};
};

using task_ptr = std::shared_ptr<task_record>;

} // namespace rustyray::internal

// Local only: tasks travel between the scheduler and its workers in-process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::internal::task_ptr)
