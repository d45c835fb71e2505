#pragma once

// What the tasks module contributes to `state()` and `timeline()`.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json_fwd.hpp>

#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/internal/recorder.hpp"
#include "rustyray/tasks/internal/task_record.hpp"

namespace rustyray::tasks::internal {

struct task_runtime;

/// Pending objects with their producers, as `object_table::producers` lists them.
using producer_list =
  std::vector<std::pair<object_id, std::shared_ptr<objstore::internal::producer>>>;

/// Records one run of `task` (started at `started`, `attempts` tries) in the
/// worker thread's lane: its timeline event and the counters.
void record_run(rustyray::internal::recorder& recording, const task_record& task,
                std::int64_t started, int attempts,
                const caf::expected<detail::task_output>& output);

/// Records an attempt that ended without a result (it ran past the task's
/// timeout) as a failed timeline event; the counters count the task once,
/// when its result is stored.
void record_attempt(rustyray::internal::recorder& recording, const task_record& task,
                    std::int64_t started, int attempt, const caf::error& why);

/// Counts a task that failed without a run recording it (its last attempt
/// timed out, or its worker died): `tasks_failed` and its retries.
void count_failed(rustyray::internal::recorder& recording, int attempts);

/// The scheduler's side of `state()["node"]`: resources total and available,
/// and the workers. Asks the scheduler actor.
nlohmann::json workers_state(const task_runtime& rt);

/// The placement groups not removed: ID, strategy, bundles, `pending` (with
/// why) or `created`.
nlohmann::json placement_groups_state(task_runtime& rt);

/// `state()["tasks"]`: live tasks by state, the oldest waiting ones and what
/// they wait for, and the totals since start.
nlohmann::json tasks_state(const task_runtime& rt, const producer_list& pending,
                           const rustyray::internal::counter_values& totals);

} // namespace rustyray::tasks::internal
