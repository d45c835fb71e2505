#pragma once

// Explicit synchronisation between a test and the code it drives (tasks,
// actor methods, CAF handlers on other threads), instead of sleeps that hope
// the other thread got there: a latch that counts events, a gate that holds
// work until the test opens it. Every wait has a hard deadline (30 s by
// default, generous for sanitizers and a loaded machine) and reports whether
// it was met, so a broken library fails the test instead of hanging it.
// C++17 has no std::latch; these are a mutex and a condition variable.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace rustyray::test {

/// How long a test waits for an event before it counts as a failure.
inline constexpr std::chrono::milliseconds sync_deadline = std::chrono::seconds(30);

/// A countdown: `wait` returns once `count_down` was called `count` times.
/// Thread-safe; extra count downs are ignored.
class latch {
public:
  explicit latch(std::ptrdiff_t count) : left_(count) {}

  latch(const latch&) = delete;
  latch& operator=(const latch&) = delete;

  /// Counts `n` events.
  void count_down(std::ptrdiff_t n = 1) {
    std::lock_guard<std::mutex> guard{mtx_};
    left_ = left_ > n ? left_ - n : 0;
    if (left_ == 0)
      cv_.notify_all();
  }

  /// Whether the count reached zero within `limit`.
  [[nodiscard]] bool wait(std::chrono::milliseconds limit = sync_deadline) const {
    std::unique_lock<std::mutex> guard{mtx_};
    return cv_.wait_for(guard, limit, [this] { return left_ == 0; });
  }

  /// Counts one event, then waits for the others (a rendezvous of `count`
  /// parties): whether all arrived within `limit`.
  [[nodiscard]] bool arrive_and_wait(std::chrono::milliseconds limit = sync_deadline) {
    count_down();
    return wait(limit);
  }

  /// Whether the count is zero now (no waiting).
  [[nodiscard]] bool try_wait() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return left_ == 0;
  }

private:
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  std::ptrdiff_t left_; // guarded by mtx_
};

/// Counts events that a test waits for by number ("the third call has
/// started"); unlike a latch it can be reset for the next test and read.
class event_count {
public:
  event_count() = default;

  event_count(const event_count&) = delete;
  event_count& operator=(const event_count&) = delete;

  /// Counts one event.
  void signal() {
    std::lock_guard<std::mutex> guard{mtx_};
    ++count_;
    cv_.notify_all();
  }

  /// Whether at least `n` events were counted within `limit`.
  [[nodiscard]] bool wait_for(int n, std::chrono::milliseconds limit = sync_deadline) const {
    std::unique_lock<std::mutex> guard{mtx_};
    return cv_.wait_for(guard, limit, [&] { return count_ >= n; });
  }

  [[nodiscard]] int value() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return count_;
  }

  void reset() {
    std::lock_guard<std::mutex> guard{mtx_};
    count_ = 0;
  }

private:
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  int count_ = 0; // guarded by mtx_
};

/// A gate that holds whoever `pass`es until the test opens it. It can be
/// closed again (for the next test) and starts closed unless told otherwise.
class gate {
public:
  explicit gate(bool open = false) : open_(open) {}

  gate(const gate&) = delete;
  gate& operator=(const gate&) = delete;

  /// Lets every waiting and later `pass` through.
  void open() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = true;
    cv_.notify_all();
  }

  /// Holds later `pass`es again.
  void close() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = false;
  }

  /// Waits until the gate is open: whether it opened within `limit`.
  [[nodiscard]] bool pass(std::chrono::milliseconds limit = sync_deadline) const {
    std::unique_lock<std::mutex> guard{mtx_};
    return cv_.wait_for(guard, limit, [this] { return open_; });
  }

  [[nodiscard]] bool is_open() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return open_;
  }

private:
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  bool open_; // guarded by mtx_
};

/// Opens `g` when it goes out of scope: a test that fails (or throws) while
/// work waits at the gate still lets that work finish, so that teardown does
/// not wait out the deadline.
class open_on_exit {
public:
  explicit open_on_exit(gate& g) : gate_(g) {}
  open_on_exit(const open_on_exit&) = delete;
  open_on_exit& operator=(const open_on_exit&) = delete;
  ~open_on_exit() {
    gate_.open();
  }

private:
  gate& gate_;
};

} // namespace rustyray::test
