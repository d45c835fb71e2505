#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "buffer_pool.hpp"
#include "object_table.hpp"
#include "recorder.hpp"
#include "rustyray/config.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::internal {

/// Told when a `get` or `wait` on this thread is about to block, and when it
/// returns: set on the threads of task workers, so the scheduler can lend the
/// blocked task's CPU to others (nested tasks must not starve the pool).
class blocking_observer {
public:
  virtual ~blocking_observer() = default;
  virtual void on_block() = 0;
  virtual void on_unblock() = 0;
};

/// The observer of this thread, if it runs tasks.
extern thread_local blocking_observer* current_blocking_observer;

/// Whether this thread is one of a CAF scheduler's (set by the thread hook
/// that `configure` installs).
extern thread_local bool on_scheduler_thread;

/// Prints, once per process, why a blocking wait on a scheduler thread may
/// deadlock and what to use instead.
void warn_blocking_on_scheduler_thread() noexcept;

/// Calls the thread's observer around a blocking wait.
class blocking_scope {
public:
  blocking_scope() : observer_(current_blocking_observer) {
    if (observer_)
      observer_->on_block();
    else if (on_scheduler_thread)
      warn_blocking_on_scheduler_thread();
  }
  ~blocking_scope() {
    if (observer_)
      observer_->on_unblock();
  }
  blocking_scope(const blocking_scope&) = delete;
  blocking_scope& operator=(const blocking_scope&) = delete;

private:
  blocking_observer* observer_;
};

class task_context;
class actor_directory;

/// Everything one runtime (one `init` … `shutdown`) owns.
struct runtime_state {
  config cfg;
  /// This runtime's node ID: random, nonzero, new at every `init`.
  std::uint64_t node = 0;
  std::atomic<std::uint64_t> next_sequence{1};

  // Declared before the handles below so that it is destroyed after them.
  std::unique_ptr<caf::actor_system_config> own_config;
  std::unique_ptr<caf::actor_system> own_system;
  caf::actor_system* system = nullptr;

  /// Counters and executed work, for `state()` and `timeline()`.
  std::shared_ptr<recorder> recording;
  std::shared_ptr<buffer_pool> pool;
  std::shared_ptr<objstore::object_table> table;
  caf::actor store;
  std::shared_ptr<task_context> tasks;
  caf::actor scheduler;
  std::shared_ptr<actor_directory> actors;
  /// Sends requests to the application's CAF actors for `wrap(...).ask`.
  caf::actor bridge;
  /// Set by shutdown: new submissions and puts are refused.
  std::atomic<bool> stopping{false};

  object_id next_id() noexcept {
    return {node, next_sequence.fetch_add(1, std::memory_order_relaxed)};
  }
};

/// A node ID as object IDs print it: 16 hex digits.
std::string node_text(std::uint64_t node);

/// The running runtime, or null. Callers keep the pointer only for the call.
std::shared_ptr<runtime_state> current() noexcept;

/// The running runtime; throws `runtime_not_initialized` without one.
std::shared_ptr<runtime_state> current_or_throw();

/// Throws `runtime_not_initialized` once `shutdown` has begun.
void check_not_stopping(const runtime_state& rt);

/// Drops the calling thread's reference to CAF's logger. CAF 0.17 takes one
/// in a thread_local on every spawn and every scoped_actor, and keeps it
/// until the thread ends; `~actor_system` waits for the logger's destructor.
/// A user thread keeping it (the one that called `init`, say) would make a
/// `shutdown` on another thread hang forever. Call it after spawning or
/// using a scoped_actor on a thread that is not CAF's own. Debian's CAF is
/// built with logging compiled out, so no log line is lost.
void release_thread_logger() noexcept;

} // namespace rustyray::internal
