#pragma once

// Actor classes and helpers shared by the actor test suites.

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "latch.hpp"
#include "runtime_fixture.hpp"

namespace rustyray::test {

/// Counts lifecycle hooks across instances (reset by each test).
struct hook_counts {
  std::atomic<int> starts{0};
  std::atomic<int> stops{0};
  std::atomic<int> calls_before_stop{-1};
  /// Calls of `slow_add` (and the like) that have started.
  arrivals slow_started;
};
inline hook_counts hooks;

class Counter {
public:
  static Counter create(int start) {
    return Counter{start};
  }

  static std::unique_ptr<Counter> create_unique(int start) {
    return std::unique_ptr<Counter>(new Counter{start});
  }

  int add(int x) {
    ++calls_;
    value_ += x;
    return value_;
  }

  /// Appends to the history: shows the order calls ran in.
  std::vector<int> record(int x) {
    ++calls_;
    history_.push_back(x);
    return history_;
  }

  int slow_add(int x) {
    ++hooks.slow_started;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return add(x);
  }

  int value() const {
    return value_;
  }

  void reset() {
    value_ = 0;
  }

  int fail(const std::string& why) {
    throw std::invalid_argument(why);
  }

  int quit() {
    rustyray::exit_actor();
  }

  bool restarted() const {
    return rustyray::was_restarted();
  }

  void on_start() {
    ++hooks.starts;
  }

  void on_stop() {
    hooks.calls_before_stop = calls_;
    ++hooks.stops;
  }

private:
  explicit Counter(int start) : value_(start) {}

  int value_;
  int calls_ = 0;
  std::vector<int> history_;
};

/// Waits (up to 30 s) until `n` calls of `slow_add` have started.
inline bool slow_calls_started(int n) {
  return hooks.slow_started.wait_for(n);
}

/// Gets each ref; counts those that failed, checking they failed with
/// `actor_died`.
template <class T>
int count_actor_died(const std::vector<object_ref<T>>& refs) {
  int died = 0;
  for (const auto& ref : refs)
    try {
      ref.get();
    } catch (const error& e) {
      BOOST_CHECK(e.code() == errc::actor_died);
      ++died;
    }
  return died;
}

/// Drops `handle` (it must be the last one) and blocks until the actor has
/// stopped.
template <class C>
void drop_and_wait_stopped(actor_handle<C>& handle) {
  auto target = handle.caf_handle();
  BOOST_REQUIRE(target);
  caf::scoped_actor self{target->home_system()};
  self->monitor(target);
  target = nullptr;
  handle = actor_handle<C>{};
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; },
                caf::after(std::chrono::seconds(30)) >> [] {});
  BOOST_REQUIRE(down);
}

} // namespace rustyray::test
