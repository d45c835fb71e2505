#pragma once

// Actor classes and helpers shared by the actor test suites.

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"
#include "sync.hpp"

namespace rustyray::test {

/// Counts lifecycle hooks across instances (reset by each test).
struct hook_counts {
  std::atomic<int> starts{0};
  std::atomic<int> stops{0};
  std::atomic<int> calls_before_stop{-1};
  /// Slow calls (`slow_call`) that have started.
  event_count slow_started;
  /// Where slow calls wait once started: open unless a test closes it to
  /// act (kill, exit) while it knows which call runs and which are queued.
  gate slow_gate{true};

  /// For the next test: no counts, the gate open.
  void reset() {
    starts = 0;
    stops = 0;
    calls_before_stop = -1;
    slow_started.reset();
    slow_gate.open();
  }
};
inline hook_counts hooks;

/// The body of the suites' slow methods: counts its start, waits at
/// `hooks.slow_gate`, then stays busy for 20 ms. The 20 ms are behaviour,
/// not synchronisation: a call that outlasts the host's batch budget (2 ms)
/// makes the host read its mailbox before the next call, and keeps later
/// calls queued; no outcome a test checks depends on how long it takes.
inline void slow_call() {
  hooks.slow_started.signal();
  if (!hooks.slow_gate.pass())
    throw std::runtime_error("the test never opened hooks.slow_gate");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

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
    slow_call();
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

/// Whether `n` slow calls have started within 30 s.
inline bool slow_calls_started(int n) {
  return hooks.slow_started.wait_for(n);
}

/// Holds slow calls at `hooks.slow_gate` until `release` (or the end of
/// scope, so that a failed check does not leave a call waiting out the
/// gate's deadline).
class holding_slow_calls {
public:
  holding_slow_calls() {
    hooks.slow_gate.close();
  }
  holding_slow_calls(const holding_slow_calls&) = delete;
  holding_slow_calls& operator=(const holding_slow_calls&) = delete;
  ~holding_slow_calls() {
    release();
  }
  void release() {
    hooks.slow_gate.open();
  }
};

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

/// Drops `handle` (it must be the last one), calls `after_drop` (to release
/// calls held at a gate once the handle is gone), and blocks until the actor
/// has stopped.
template <class C, class AfterDrop>
void drop_and_wait_stopped(actor_handle<C>& handle, AfterDrop after_drop) {
  auto target = handle.caf_handle();
  BOOST_REQUIRE(target);
  caf::scoped_actor self{target->home_system()};
  self->monitor(target);
  target = nullptr;
  handle = actor_handle<C>{};
  after_drop();
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; },
                caf::after(std::chrono::seconds(30)) >> [] {});
  BOOST_REQUIRE(down);
}

/// Drops `handle` (it must be the last one) and blocks until the actor has
/// stopped.
template <class C>
void drop_and_wait_stopped(actor_handle<C>& handle) {
  drop_and_wait_stopped(handle, [] {});
}

} // namespace rustyray::test
