#pragma once

// Explicit synchronization for tests whose threads must meet or take turns:
// waiting on an event instead of sleeping for a while or polling a flag. Every
// wait has a hard 30 s limit and says whether it was met, so a broken
// library fails the test instead of hanging it.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace rustyray::test {

/// A one-shot gate: `wait` returns true once `open` was called.
class gate {
public:
  void open() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = true;
    cv_.notify_all();
  }

  [[nodiscard]] bool wait(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, limit, [this] { return open_; });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Counts arrivals (`++`); `wait_for(n)` returns true once `n` have arrived.
class arrivals {
public:
  arrivals& operator++() {
    std::lock_guard<std::mutex> guard{mtx_};
    ++count_;
    cv_.notify_all();
    return *this;
  }

  /// Starts counting again (between test cases).
  arrivals& operator=(int count) {
    std::lock_guard<std::mutex> guard{mtx_};
    count_ = count;
    return *this;
  }

  [[nodiscard]] int load() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return count_;
  }

  [[nodiscard]] bool wait_for(int n, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, limit, [&] { return count_ >= n; });
  }

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  int count_ = 0;
};

} // namespace rustyray::test
