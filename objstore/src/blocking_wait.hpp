#pragma once

// How a `get` or `wait` blocks its thread: the state a store waiter fills
// in from whichever thread resolves the object, the deadline, the one-time
// warning of a get that waits too long, and the short spin before sleeping.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <limits>
#include <mutex>
#include <optional>
#include <vector>

#include "rustyray/errc.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/internal/store_context.hpp"

namespace rustyray::objstore::internal {

/// `now + timeout`, or `time_point::max()` for `forever` (and anything
/// longer than a century).
std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout);

/// Waits until `ready()` or the deadline; `time_point::max()` waits without a
/// timer, which would overflow converting the deadline for the kernel.
template <class Predicate>
bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                std::chrono::steady_clock::time_point deadline, Predicate ready) {
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    cv.wait(lock, ready);
    return true;
  }
  return cv.wait_until(lock, deadline, ready);
}

/// Logs one warning when a get has waited longer than
/// `config.slow_get_warning`: a get that never returns is the usual sign of
/// stuck work, and the warning says what the object waits for.
class slow_get_alarm {
public:
  using time_point = std::chrono::steady_clock::time_point;

  slow_get_alarm(const objstore::internal::store_context& rt, time_point started)
    : table_(*rt.table), limit_(rt.node->cfg().slow_get_warning),
      due_(limit_.count() > 0 ? started + limit_ : time_point::max()) {}

  /// When a wait until `deadline` must wake up to ring.
  [[nodiscard]] time_point wake(time_point deadline) const {
    return std::min(due_, deadline);
  }

  /// Warns about `id` if the time has come, once.
  void ring(const object_id& id);

private:
  objstore::internal::object_table& table_;
  std::chrono::milliseconds limit_;
  time_point due_;
};

/// As `wait_until`, waking up once on the way to ring `alarm` if the wait
/// outlasts it; `pending()` names the object still awaited.
template <class Predicate, class Pending>
bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                std::chrono::steady_clock::time_point deadline, Predicate ready,
                slow_get_alarm& alarm, Pending pending) {
  while (!wait_until(cv, lock, alarm.wake(deadline), ready)) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    lock.unlock();
    alarm.ring(pending());
    lock.lock();
  }
  return true;
}

/// A blocked `get`: the waiter fills it in from whichever thread resolves the
/// object.
struct sync_get {
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<lookup> result; // guarded by mtx
  /// `result` is set: what a get spinning before it sleeps looks at.
  std::atomic<bool> done{false};

  void set(const lookup& r) {
    std::lock_guard<std::mutex> guard{mtx};
    result = r;
    done.store(true, std::memory_order_release);
    cv.notify_all();
  }
};

/// A blocked `wait`: counts resolutions and wakes the waiter once, when
/// enough have arrived (not once per object).
struct sync_wait {
  std::mutex mtx;
  std::condition_variable cv;
  std::size_t resolved = 0;                                     // guarded by mtx
  std::size_t needed = std::numeric_limits<std::size_t>::max(); // guarded by mtx
  caf::error shutdown_reason;                                   // guarded by mtx
  /// `over()`, for a waiter spinning before it sleeps (without the lock).
  std::atomic<bool> done{false};

  /// Enough have arrived, or shutdown ends the wait (`mtx` held).
  [[nodiscard]] bool over() const {
    return resolved >= needed || shutdown_reason;
  }

  /// The waiter has registered: `n` more are needed (some may be in already).
  void expect(std::size_t n) {
    std::lock_guard<std::mutex> guard{mtx};
    needed = n;
    if (over())
      done.store(true, std::memory_order_release);
  }

  void on_resolved(const lookup& r) {
    std::lock_guard<std::mutex> guard{mtx};
    ++resolved;
    if (!r && r.error().category() == errc_category
        && r.error().code() == static_cast<std::uint8_t>(errc::runtime_not_initialized))
      shutdown_reason = r.error();
    if (over()) {
      done.store(true, std::memory_order_release);
      cv.notify_all();
    }
  }
};

/// Before a get or wait sleeps: its answer often comes within microseconds
/// (a call's host or a task's worker is running it), sooner than a sleeping
/// thread could be woken (spin_wait.hpp). Not for a wait that may not last.
void spin_before_sleep(const std::atomic<bool>& done, std::chrono::milliseconds timeout);

/// Blocks until `needed` of `ids` hold a value or an error, or the deadline
/// passes; throws `runtime_not_initialized` if shutdown wakes it. A get
/// passes its `alarm`.
void await_resolved(objstore::internal::object_table& table, const std::vector<object_id>& ids,
                    std::size_t needed, std::chrono::milliseconds timeout,
                    slow_get_alarm* alarm = nullptr);

} // namespace rustyray::objstore::internal
