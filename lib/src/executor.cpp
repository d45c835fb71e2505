#include "rustyray/internal/executor.hpp"

#include <algorithm>
#include <string>
#include <system_error>
#include <utility>

#include "rustyray/errc.hpp"
#include "rustyray/internal/spin_wait.hpp"
#include "rustyray/internal/threads.hpp"

namespace rustyray::internal {

namespace {

thread_local const executor* current_executor = nullptr;

/// Locks `m`, first trying for a moment: the queue's lock is held for a few
/// instructions at a time, and a thread that sleeps on it costs its holder
/// a futex wake (microseconds on a virtual machine) when it lets go.
void lock_spinning(std::mutex& m) {
  for (int i = 0; i < 100; ++i) {
    if (m.try_lock())
      return;
    cpu_relax();
  }
  m.lock();
}

} // namespace

/// Tells the executor while a job on this thread waits in `get`/`wait`: the
/// thread counts as blocked, and if jobs wait another one starts.
class executor::blocking : public blocking_observer {
public:
  explicit blocking(executor& owner) : owner_(owner) {}

  void on_block() override {
    std::lock_guard<std::mutex> guard{owner_.mtx_};
    ++owner_.blocked_;
    owner_.grow_if_starved_locked();
  }

  void on_unblock() override {
    std::lock_guard<std::mutex> guard{owner_.mtx_};
    --owner_.blocked_;
  }

private:
  executor& owner_;
};

std::shared_ptr<executor> executor::make(executor_options opts) {
  std::shared_ptr<executor> result{new executor(std::move(opts))};
  // Threads start on demand. The monitor looks for jobs that wait while
  // every thread is stuck in one; with no room to grow there is nothing to
  // look for. A monitor that cannot start leaves growth to the blocking
  // scopes of gets and waits.
  if (result->opts_.max_threads > result->opts_.threads) {
    std::lock_guard<std::mutex> guard{result->mtx_};
    try {
      std::thread{[self = result] { self->monitor(); }}.detach();
      result->monitoring_ = true;
    } catch (const std::system_error&) {
      ++result->failed_starts_;
    }
  }
  return result;
}

executor::executor(executor_options opts) : opts_(std::move(opts)) {}

executor::~executor() = default;

caf::error executor::post(job_ptr j, bool may_refuse) {
  lock_spinning(mtx_);
  std::lock_guard<std::mutex> guard{mtx_, std::adopt_lock};
  if (stopping_)
    return make_error(errc::runtime_not_initialized,
                      "the " + opts_.what + "s have stopped (rustyray::shutdown() ran)");
  queue_.push_back(std::move(j));
  queued_.store(queue_.size(), std::memory_order_relaxed);
  if (idle_ > 0) {
    // One wake per sleeping thread: a burst of posts (a loop starting
    // actors) would otherwise pay a futex call each while the thread woken
    // first has not yet run.
    if (idle_ > waking_) {
      ++waking_;
      work_cv_.notify_one();
    }
    return caf::none;
  }
  if (active_locked() < opts_.threads && live_ < opts_.max_threads)
    (void)start_thread_locked();
  if (may_refuse && active_locked() == 0 && (live_ < opts_.max_threads || live_ == 0)) {
    // No thread runs jobs, or will: none started, or all are blocked and
    // the last start failed.
    queue_.pop_back();
    queued_.store(queue_.size(), std::memory_order_relaxed);
    return make_error(errc::system_error,
                      "could not start a " + opts_.what + " (" + std::to_string(live_)
                        + " running, all blocked): the system refused a new thread (the "
                          "process's or the machine's thread limit, or memory for its stack, "
                          "ran out); end some actors or raise the limit (ulimit -u, "
                          "kernel.threads-max, vm.max_map_count)");
  }
  if (monitor_waiting_) {
    monitor_waiting_ = false;
    monitor_cv_.notify_one();
  }
  return caf::none;
}

void executor::stop() {
  std::lock_guard<std::mutex> guard{mtx_};
  stopping_ = true;
  work_cv_.notify_all();
  monitor_cv_.notify_all();
}

bool executor::join(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock{mtx_};
  return ended_cv_.wait_for(lock, limit, [this] { return live_ == 0 && !monitoring_; });
}

executor_snapshot executor::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  executor_snapshot s;
  s.threads = live_;
  s.idle = idle_;
  s.blocked = blocked_;
  s.queued = queue_.size();
  s.failed_starts = failed_starts_;
  return s;
}

void executor::fail_thread_starts(bool fail) {
  std::lock_guard<std::mutex> guard{mtx_};
  fail_starts_ = fail;
}

bool executor::on_own_thread() const noexcept {
  return current_executor == this;
}

std::size_t executor::active_locked() const noexcept {
  return live_ - std::min(live_, idle_ + blocked_);
}

bool executor::start_thread_locked() {
  if (fail_starts_) {
    ++failed_starts_;
    return false;
  }
  try {
    // The thread owns a share of the executor: whoever drops the last
    // outside reference (a job, even) does not pull it from under it.
    std::thread{[self = shared_from_this()] { self->work(); }}.detach();
  } catch (const std::system_error&) {
    ++failed_starts_;
    return false;
  }
  ++live_;
  return true;
}

void executor::grow_if_starved_locked() {
  if (!queue_.empty() && idle_ == 0 && !stopping_ && active_locked() < opts_.threads
      && live_ < opts_.max_threads)
    (void)start_thread_locked();
}

void executor::work() {
  blocking observer{*this};
  current_executor = this;
  current_blocking_observer = &observer;
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    if (queue_.empty()) {
      if (stopping_)
        break;
      ++idle_;
      // No predicate wait: a thread woken to an emptied queue must leave
      // the wait and give back its wake (waking_), or posts would take it
      // for a thread on its way and let the queue sit.
      bool timed_out = false;
      if (live_ > opts_.threads)
        timed_out = work_cv_.wait_for(lock, opts_.idle_exit) == std::cv_status::timeout;
      else
        work_cv_.wait(lock);
      --idle_;
      if (waking_ > 0)
        --waking_;
      if (timed_out && queue_.empty() && !stopping_ && live_ > opts_.threads)
        break; // an extra thread nobody needed for a while
      continue;
    }
    auto next = std::move(queue_.front());
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_relaxed);
    ++taken_;
    lock.unlock();
    next->run();
    next.reset(); // the job's last reference may go here: not under the lock
    lock_spinning(mtx_);
    lock = std::unique_lock<std::mutex>{mtx_, std::adopt_lock};
  }
  --live_;
  ended_cv_.notify_all();
  current_blocking_observer = nullptr;
  current_executor = nullptr;
}

void executor::monitor() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    // Posts wake the monitor only while it waits here, once: a notify per
    // post would have it take the lock as often as the jobs do.
    while (!stopping_ && (queue_.empty() || idle_ > 0)) {
      monitor_waiting_ = true;
      monitor_cv_.wait(lock);
    }
    monitor_waiting_ = false;
    if (stopping_)
      break;
    auto seen = taken_;
    if (monitor_cv_.wait_for(lock, opts_.stall_after, [this] { return stopping_; }))
      break;
    // Jobs waited all that time and none was taken: every thread is stuck
    // in a job that blocks without saying so (a lock, a sleep) or runs
    // long. One more thread, within the bound.
    if (!queue_.empty() && idle_ == 0 && taken_ == seen && live_ < opts_.max_threads)
      (void)start_thread_locked();
  }
  monitoring_ = false;
  ended_cv_.notify_all();
}

} // namespace rustyray::internal
