#include "rustyray/internal/deadline_timer.hpp"

#include <system_error>
#include <vector>

namespace rustyray::internal {

deadline_timer::~deadline_timer() {
  stop();
}

deadline_timer::token deadline_timer::arm(clock::time_point due, std::function<void()> fn) {
  std::unique_lock<std::mutex> guard{mtx_};
  if (stopped_) {
    guard.unlock(); // fn may hold anything: destroy it without the lock
    return 0;
  }
  auto t = next_++;
  auto earliest = order_.empty() || due < order_.begin()->first;
  order_.emplace(due, t);
  calls_.emplace(t, std::make_pair(due, std::move(fn)));
  if (!thread_.joinable()) {
    try {
      if (fail_start_)
        throw std::system_error{std::make_error_code(std::errc::resource_unavailable_try_again),
                                "thread start refused (a test's injection)"};
      thread_ = std::thread{[this] { run(); }};
    } catch (const std::system_error&) {
      // No thread, no call: the caller learns it now, and nothing is left
      // behind to fire once a later call starts the thread.
      order_.erase({due, t});
      auto doomed = std::move(calls_.at(t).second);
      calls_.erase(t);
      guard.unlock(); // fn may hold anything: destroy it without the lock
      throw;
    }
  } else if (earliest)
    cv_.notify_one(); // the thread sleeps until a later deadline
  return t;
}

void deadline_timer::fail_thread_start(bool fail) {
  std::lock_guard<std::mutex> guard{mtx_};
  fail_start_ = fail;
}

bool deadline_timer::cancel(token t) {
  std::function<void()> doomed; // destroyed after the lock is released
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = calls_.find(t);
  if (i == calls_.end())
    return false;
  order_.erase({i->second.first, t});
  doomed = std::move(i->second.second);
  calls_.erase(i);
  // No notification: the thread wakes at the old deadline, finds nothing due
  // and sleeps on; cheaper than a wake-up per cancel.
  return true;
}

void deadline_timer::stop() {
  std::thread joined;
  decltype(calls_) doomed;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    joined = std::move(thread_);
    doomed.swap(calls_);
    order_.clear();
    cv_.notify_one();
  }
  if (joined.joinable())
    joined.join();
}

std::size_t deadline_timer::pending() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return calls_.size();
}

void deadline_timer::run() {
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stopped_) {
    if (order_.empty()) {
      cv_.wait(guard);
      continue;
    }
    auto [due, t] = *order_.begin();
    if (clock::now() < due) {
      cv_.wait_until(guard, due);
      continue;
    }
    order_.erase(order_.begin());
    auto i = calls_.find(t);
    auto fn = std::move(i->second.second);
    calls_.erase(i);
    // The call may arm or cancel, and what it holds may be destroyed along
    // with it: neither under the lock.
    guard.unlock();
    fn();
    fn = nullptr;
    guard.lock();
  }
}

} // namespace rustyray::internal
