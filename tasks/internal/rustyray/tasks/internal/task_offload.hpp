#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "rustyray/internal/resources.hpp"
#include "rustyray/tasks/internal/task_record.hpp"

namespace rustyray::tasks::internal {

/// Where ready tasks go that this node does not run now: the other nodes
/// of a cluster. The cluster implements it; the pool offers it the tasks it
/// cannot start (no room here, or pinned to another node) and runs the rest
/// itself. Without a cluster there is none, and nothing changes.
class task_offload {
public:
  virtual ~task_offload() = default;

  enum class verdict {
    /// Sent to another node: the pool forgets it.
    taken,
    /// Not this one (it runs here only, or its node is full): look further.
    kept,
    /// No node has room for anything now: stop offering.
    full,
  };

  /// Under the pool's lock (keep it short; it sends at most one message to
  /// its own actor): takes `task` if a node has room for it, or its pinned
  /// node does.
  virtual verdict take(const task_ptr& task) = 0;

  /// Under the pool's lock: whether some node has room for a one-CPU task
  /// now. While one has, this node's workers take one task at a time, not
  /// batches: a batch queued behind a busy worker would wait while other
  /// nodes idle.
  virtual bool has_room() = 0;

  /// At submission, for a task pinned to `node` (not this one) or one that
  /// this node can never fit: why no node of the cluster can run it
  /// (`invalid_argument` for an unknown node, `task_unschedulable`), or no
  /// error.
  virtual caf::error placeable(const task_record& task, std::uint64_t node) = 0;

  /// `cancel` of a running task (`cancel_requested` is set): if it runs on
  /// another node, that node cancels it too.
  virtual void cancel(const task_record& task) = 0;
};

} // namespace rustyray::tasks::internal
