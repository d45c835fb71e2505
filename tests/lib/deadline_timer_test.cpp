#define BOOST_TEST_MODULE lib_deadline_timer
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "rustyray/internal/deadline_timer.hpp"

using rustyray::internal::deadline_timer;
using namespace std::chrono_literals;

namespace {

/// Counts calls and lets the test wait for a number of them (no sleeps).
struct call_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<int> order; // guarded by mtx

  void add(int x) {
    std::lock_guard<std::mutex> guard{mtx};
    order.push_back(x);
    cv.notify_all();
  }

  bool await(std::size_t n) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, 30s, [&] { return order.size() >= n; });
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(calls_run_once_in_deadline_order) {
  deadline_timer timer;
  call_log log;
  // Far enough ahead that all are armed before the first is due, even when
  // starting the timer's thread takes long (ThreadSanitizer, a busy machine).
  auto soon = deadline_timer::clock::now() + 500ms;
  // Armed out of order; the earliest deadline runs first.
  timer.arm(soon + 30ms, [&] { log.add(3); });
  timer.arm(soon + 10ms, [&] { log.add(1); });
  timer.arm(soon + 20ms, [&] { log.add(2); });
  timer.arm(soon - 2s, [&] { log.add(0); }); // due already
  BOOST_REQUIRE(log.await(4));
  BOOST_TEST(log.order == (std::vector<int>{0, 1, 2, 3}));
  BOOST_TEST(timer.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_call_never_runs_and_its_function_is_dropped) {
  deadline_timer timer;
  call_log log;
  auto held = std::make_shared<int>(1);
  std::weak_ptr<int> watch = held;
  auto now = deadline_timer::clock::now();
  auto doomed = timer.arm(now + 20ms, [&log, held] { log.add(99); });
  held.reset();
  timer.arm(now + 40ms, [&] { log.add(1); });
  BOOST_TEST(timer.cancel(doomed));
  BOOST_TEST(watch.expired()); // what the function held is gone at once
  BOOST_TEST(!timer.cancel(doomed));
  BOOST_TEST(!timer.cancel(0));
  BOOST_REQUIRE(log.await(1));
  BOOST_TEST(log.order == (std::vector<int>{1}));
  BOOST_TEST(!timer.cancel(2)); // made already
}

BOOST_AUTO_TEST_CASE(an_earlier_deadline_armed_later_wakes_the_sleeping_thread) {
  deadline_timer timer;
  call_log log;
  auto now = deadline_timer::clock::now();
  timer.arm(now + 1h, [&] { log.add(2); });
  // The thread sleeps until the hour is up; this must not wait that long.
  timer.arm(now + 5ms, [&] { log.add(1); });
  BOOST_REQUIRE(log.await(1));
  BOOST_TEST(log.order == (std::vector<int>{1}));
  BOOST_TEST(timer.pending() == 1u);
}

BOOST_AUTO_TEST_CASE(stop_drops_pending_calls_and_refuses_new_ones) {
  auto held = std::make_shared<int>(1);
  std::weak_ptr<int> watch = held;
  std::atomic<int> ran{0};
  deadline_timer timer;
  timer.arm(deadline_timer::clock::now() + 1h, [&ran, held] { ++ran; });
  held.reset();
  timer.stop();
  BOOST_TEST(watch.expired());
  BOOST_TEST(timer.pending() == 0u);
  BOOST_TEST(timer.arm(deadline_timer::clock::now(), [&] { ++ran; }) == 0u);
  timer.stop(); // twice is fine
  BOOST_TEST(ran.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_refused_thread_start_throws_arms_nothing_and_a_later_arm_starts_it) {
  auto held = std::make_shared<int>(1);
  std::weak_ptr<int> watch = held;
  call_log log;
  deadline_timer timer;
  timer.fail_thread_start(true);
  BOOST_CHECK_THROW(timer.arm(deadline_timer::clock::now(), [&log, held] { log.add(9); }),
                    std::system_error);
  held.reset();
  BOOST_TEST(watch.expired()); // the refused call was dropped, not kept
  BOOST_TEST(timer.pending() == 0u);
  timer.fail_thread_start(false);
  timer.arm(deadline_timer::clock::now(), [&log] { log.add(1); });
  BOOST_TEST(log.await(1));
  std::lock_guard<std::mutex> guard{log.mtx};
  BOOST_TEST(log.order == std::vector<int>{1}); // the refused call never ran
}

BOOST_AUTO_TEST_CASE(a_timer_never_armed_starts_no_thread_and_stops_at_once) {
  deadline_timer timer;
  timer.stop();
  BOOST_TEST(timer.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(calls_may_arm_and_cancel_and_threads_may_race_with_them) {
  deadline_timer timer;
  call_log log;
  std::atomic<int> cancelled{0};
  // A call that arms another one from the timer's thread.
  timer.arm(deadline_timer::clock::now(),
            [&] { timer.arm(deadline_timer::clock::now() + 1ms, [&] { log.add(1); }); });
  // Eight threads arm and cancel at once; half of their calls are cancelled.
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto token = timer.arm(deadline_timer::clock::now() + std::chrono::milliseconds(i % 5),
                               [&] { log.add(2); });
        if ((i + t) % 2 == 0 && timer.cancel(token))
          ++cancelled;
      }
    });
  for (auto& th : threads)
    th.join();
  auto expected = 1u + 8u * 200u - static_cast<unsigned>(cancelled.load());
  BOOST_REQUIRE(log.await(expected));
  timer.stop();
  BOOST_TEST(log.order.size() == expected);
}
