#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "rustyray/internal/resources.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/object_id.hpp"
#include "rustyray/tasks/task.hpp"

namespace rustyray::tasks::internal {

using rustyray::internal::resource_amounts;

/// A task's request, shared: most tasks ask for the same (one CPU), and the
/// scheduler compares and holds requests per dispatch.
using resource_request = std::shared_ptr<const resource_amounts>;

/// One submitted task, from submission until it finished or was cancelled.
struct task_record : objstore::internal::run_record {
  enum state : int { waiting, queued, running, finished, cancelled };

  task_options options;
  /// The function's type and pointer bytes: its name, found only when an
  /// error needs it (`name()`), so submitting costs no name lookup.
  const std::type_info* function = nullptr;
  detail::function_identity identity;
  resource_request request;
  detail::task_body body;
  /// Submitted from inside a running task: dispatched first, depth-first.
  bool nested = false;
  /// In a cluster: the node it must run on (0: any), and the registered
  /// name its function runs under elsewhere (empty: it runs here only).
  std::uint64_t pinned = 0;
  std::string remote_function;
  /// `options.timeout` checked at submission; zero for no limit.
  std::chrono::nanoseconds timeout{0};

  std::atomic<int> st{waiting};
  std::atomic<bool> cancel_requested{false};
  /// Attempts started so far, on any worker (a retry after a timeout or a
  /// worker's death runs on another one).
  std::atomic<int> attempts{0};

  /// Attempts allowed in all: 1 + `max_retries`.
  [[nodiscard]] int attempt_budget() const noexcept {
    return 1 + options.max_retries;
  }

  /// `.name(...)`, else the `RUSTYRAY_REMOTE` name, else the function's type.
  std::string name() const;

  /// "task plus1 (waiting for arguments)".
  std::string describe() const override;
};

using task_ptr = std::shared_ptr<task_record>;

/// One attempt of a task with a timeout. The worker running it and the timer
/// race for `st`: whoever moves it from `running` decides: the worker keeps
/// its output (`done`), or the timer (or the death of the worker) makes the
/// scheduler retry or fail the task (`overrun`) and the output is dropped.
struct task_attempt {
  enum state : int { running, done, overrun };

  task_attempt(task_ptr task, std::size_t worker, int number)
    : task(std::move(task)), worker(worker), number(number) {}

  const task_ptr task;
  /// The scheduler's number of the worker running it.
  const std::size_t worker;
  /// 1 for the first attempt.
  const int number;
  std::atomic<int> st{running};
  /// Set when it overran: `cancel_requested()` inside the attempt.
  std::atomic<bool> cancelled{false};
  /// The timer's call for this attempt.
  std::uint64_t timer_token = 0;

  /// The worker finished the attempt in time: false if it overran.
  bool finish() noexcept {
    int expected = running;
    return st.compare_exchange_strong(expected, done);
  }

  /// The deadline passed (or the worker died): false if it finished.
  bool abandon() noexcept {
    int expected = running;
    return st.compare_exchange_strong(expected, overrun);
  }
};

using attempt_ptr = std::shared_ptr<task_attempt>;

/// Ready tasks with the same resource request, run one after another by one
/// worker: one message hop for many small tasks.
struct task_batch {
  std::vector<task_ptr> tasks;
};

} // namespace rustyray::tasks::internal

// Local only: tasks travel between the scheduler and its workers in-process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::tasks::internal::task_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::tasks::internal::task_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::tasks::internal::attempt_ptr)
