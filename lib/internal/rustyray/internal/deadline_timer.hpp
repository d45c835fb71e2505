#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

namespace rustyray::internal {

/// Calls functions at deadlines on a thread of its own: for deadlines that
/// are mostly cancelled before they come (task timeouts), without holding a
/// CAF thread and without polling. The thread starts with the first `arm` and
/// sleeps on a condition variable until the earliest deadline or a change,
/// so a runtime that never arms a deadline has no timer thread at all.
class deadline_timer {
public:
  using clock = std::chrono::steady_clock;
  /// Names one armed call; 0 names none.
  using token = std::uint64_t;

  deadline_timer() = default;
  deadline_timer(const deadline_timer&) = delete;
  deadline_timer& operator=(const deadline_timer&) = delete;

  /// Stops the thread (see `stop`).
  ~deadline_timer();

  /// Calls `fn` on the timer's thread once `due` has passed, unless `cancel`
  /// comes first. After `stop` it refuses: returns 0 and drops `fn`.
  /// Throws `std::system_error`, nothing armed, if the first call cannot
  /// start the timer's thread (the system refused it).
  token arm(clock::time_point due, std::function<void()> fn);

  /// Drops an armed call; true if it had not started. Never waits for a call
  /// that runs already. Unknown tokens (0, made, cancelled) are ignored.
  bool cancel(token t);

  /// Joins the thread and drops the calls not made yet, without making them;
  /// later `arm`s are refused. Must not be called from inside a call.
  void stop();

  /// Calls armed and neither made nor cancelled.
  [[nodiscard]] std::size_t pending() const;

  /// For tests: while set, starting the thread fails as it would when the
  /// system runs out of threads.
  void fail_thread_start(bool fail);

private:
  void run();

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  // Everything below is guarded by mtx_.
  /// Armed calls by deadline, then by token (arming order).
  std::set<std::pair<clock::time_point, token>> order_;
  std::unordered_map<token, std::pair<clock::time_point, std::function<void()>>> calls_;
  token next_ = 1;
  bool stopped_ = false;
  bool fail_start_ = false;
  std::thread thread_;
};

} // namespace rustyray::internal
