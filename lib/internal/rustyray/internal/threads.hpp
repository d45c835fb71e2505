#pragma once

// What RustyRay knows of the thread it runs on: whether a wait here lends a
// task's CPU, whether it is a CAF scheduler thread, and CAF's per-thread
// logger reference.

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

/// Drops the calling thread's reference to CAF's logger. CAF 0.17 takes one
/// in a thread_local on every spawn and every scoped_actor, and keeps it
/// until the thread ends; `~actor_system` waits for the logger's destructor.
/// A user thread keeping it (the one that called `init`, say) would make a
/// `shutdown` on another thread hang forever. Call it after spawning or
/// using a scoped_actor on a thread that is not CAF's own. Debian's CAF is
/// built with logging compiled out, so no log line is lost.
void release_thread_logger() noexcept;

} // namespace rustyray::internal
