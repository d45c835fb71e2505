#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/error.hpp>

namespace rustyray::internal {

/// Work an `executor` runs: a slice of an actor's mailbox, say. The job
/// decides how much to do per `run` and posts itself again if work is left.
class job {
public:
  virtual ~job() = default;

  /// Runs on one of the executor's threads.
  virtual void run() noexcept = 0;
};

using job_ptr = std::shared_ptr<job>;

struct executor_options {
  /// Threads that run jobs at once, unless some are blocked: while a job
  /// blocks (in `get`/`wait`, or runs past `stall_after` on a lock or a
  /// sleep) another thread takes its place.
  std::size_t threads = 1;
  /// At most this many threads, blocked ones included. With `threads` equal
  /// to it there is no monitor thread: a job that blocks holds its thread.
  std::size_t max_threads = 1024;
  /// A job running this long without the queue moving counts as blocked.
  std::chrono::milliseconds stall_after{10};
  /// A thread beyond `threads` that found no job for this long ends.
  std::chrono::milliseconds idle_exit{2000};
  /// Names the threads in error messages ("actor thread").
  std::string what = "executor thread";
};

/// The executor's threads and queue at one moment.
struct executor_snapshot {
  std::size_t threads = 0;
  std::size_t idle = 0;
  /// Threads whose job waits in `get`/`wait` (or was seen stalled).
  std::size_t blocked = 0;
  std::size_t queued = 0;
  /// Threads it could not start (the system refused them).
  std::uint64_t failed_starts = 0;
};

/// A pool of threads that run jobs, growing while jobs block so that a job
/// that waits never holds back the others (as Go's scheduler hands a blocked
/// thread's processor to another), and shrinking back when the extra
/// threads idle. Idle jobs hold no thread: a million of them cost their
/// memory only.
///
/// Its threads share its ownership (it lives until the last one ended), so
/// a job may drop the last outside reference to its own executor.
class executor : public std::enable_shared_from_this<executor> {
public:
  [[nodiscard]] static std::shared_ptr<executor> make(executor_options opts);

  ~executor();

  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  /// Queues `j` to run on one of the threads. Fails (`system_error`, saying
  /// what ran out) if no thread is free to run it, or will be, and none can
  /// be started: no thread runs, or every one is blocked; then `j` is not
  /// queued. With `may_refuse` false the job stays queued instead, for the
  /// next thread that is free or starts. After `stop` every post fails
  /// (`runtime_not_initialized`).
  caf::error post(job_ptr j, bool may_refuse = true);

  /// Jobs wait for a thread (without the lock: a job deciding whether to
  /// spin before it gives its thread back looks here).
  [[nodiscard]] bool jobs_waiting() const noexcept {
    return queued_.load(std::memory_order_relaxed) > 0;
  }

  /// Takes no more jobs; the threads run what is queued and end.
  void stop();

  /// After `stop`: waits until every thread ended (up to `limit`; false if
  /// some still run a job then). Not from one of its own threads.
  bool join(std::chrono::milliseconds limit = std::chrono::hours(24));

  [[nodiscard]] executor_snapshot snapshot() const;

  /// For tests: while set, every thread start fails as it would when the
  /// system runs out of threads.
  void fail_thread_starts(bool fail);

  /// Whether the calling thread is one of this executor's.
  [[nodiscard]] bool on_own_thread() const noexcept;

private:
  class blocking;

  explicit executor(executor_options opts);

  void work();
  void monitor();
  /// Starts a thread (with `mtx_` held): false if the system refused.
  bool start_thread_locked();
  /// Starts a thread if jobs wait, none is idle and the running ones are
  /// fewer than `threads` (with `mtx_` held).
  void grow_if_starved_locked();
  [[nodiscard]] std::size_t active_locked() const noexcept;

  const executor_options opts_;
  mutable std::mutex mtx_;
  std::condition_variable work_cv_;    // jobs queued, or stop
  std::condition_variable monitor_cv_; // the queue waits, or stop
  std::condition_variable ended_cv_;   // a thread ended
  std::deque<job_ptr> queue_;          // guarded by mtx_
  std::atomic<std::size_t> queued_{0}; // queue_.size(), written under mtx_
  /// Threads whose loop has not ended (the monitor included).
  std::size_t live_ = 0;    // guarded by mtx_
  std::size_t idle_ = 0;    // guarded by mtx_
  std::size_t waking_ = 0;  // idle threads notified, not yet awake; guarded by mtx_
  std::size_t blocked_ = 0; // guarded by mtx_
  bool monitoring_ = false; // guarded by mtx_
  /// The monitor sleeps until jobs wait with no idle thread (posts wake it).
  bool monitor_waiting_ = false; // guarded by mtx_
  /// Jobs taken so far: the monitor sees whether the queue moves.
  std::uint64_t taken_ = 0;         // guarded by mtx_
  std::uint64_t failed_starts_ = 0; // guarded by mtx_
  bool stopping_ = false;           // guarded by mtx_
  bool fail_starts_ = false;        // guarded by mtx_
};

} // namespace rustyray::internal
