#define BOOST_TEST_MODULE tasks_timeout
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <limits>
#include <memory>
#include <thread>

#include "conditions.hpp"
#include "runtime_fixture.hpp"
#include "sync.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::eventually;
using test::runtime_fixture;

namespace {

/// What an overrunning function reports back to the test.
struct overrun_probe {
  std::atomic<bool> saw_cancel{false};
  test::latch returned{1};
  std::promise<void> started;
};

/// Whether the running task is asked to stop within 30 s. The deadline's
/// request is a flag that a function polls (that is the API, as in Ray):
/// there is no event to wait on.
bool cancel_seen() {
  return eventually([] { return cancel_requested(); });
}

/// A function that ignores its deadline until `cancel_requested()` turns
/// true (at most 30 s), then returns 42: the result must be dropped.
auto overrunning(std::shared_ptr<overrun_probe> probe) {
  return [probe] {
    probe->started.set_value();
    probe->saw_cancel = cancel_seen();
    probe->returned.count_down();
    return 42;
  };
}

/// The error `get` throws for `ref` (fails the test if it returns).
template <class T>
error error_of(const object_ref<T>& ref) {
  try {
    ref.get();
  } catch (const error& e) {
    return e;
  }
  BOOST_FAIL("get must throw");
  return error{errc::system_error, ""};
}

std::size_t worker_count(const char* key) {
  return state()["node"]["workers"][key].get<std::size_t>();
}

int plus1(int x) {
  return x + 1;
}

config one_worker() {
  auto cfg = test::small_config();
  cfg.num_workers = 1;
  return cfg;
}

struct one_worker_fixture : runtime_fixture {
  one_worker_fixture() : runtime_fixture(one_worker()) {}
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(tasks_timeout, runtime_fixture)

BOOST_AUTO_TEST_CASE(an_overrunning_task_times_out_sees_cancel_and_its_return_is_dropped) {
  auto probe = std::make_shared<overrun_probe>();
  auto ref = task(overrunning(probe)).name("slowpoke").timeout(50ms).remote();
  auto e = error_of(ref);
  BOOST_TEST(e.code() == errc::timeout);
  BOOST_TEST(e.message().find("task slowpoke") != std::string::npos, e.message());
  BOOST_TEST(e.message().find("50 ms") != std::string::npos, e.message());
  BOOST_TEST(e.message().find("cancel_requested") != std::string::npos, e.message());
  // The function goes on until it notices, then returns: its 42 is dropped.
  BOOST_REQUIRE(probe->returned.wait());
  BOOST_TEST(probe->saw_cancel.load());
  BOOST_TEST(code_of([&] { ref.get(); }) == errc::timeout);
  BOOST_TEST(!cancel(ref)); // finished: nothing to cancel
}

BOOST_AUTO_TEST_CASE(a_timed_out_attempt_is_a_failed_event_of_its_own_in_the_timeline) {
  auto probe = std::make_shared<overrun_probe>();
  auto ref = task(overrunning(probe)).name("late_event").timeout(20ms).remote();
  BOOST_TEST(code_of([&] { ref.get(); }) == errc::timeout);
  BOOST_REQUIRE(probe->returned.wait());
  // Recorded by the worker once the function returned.
  nlohmann::json found;
  BOOST_TEST(eventually([&] {
    char path[] = "/tmp/rustyray_timeline_XXXXXX";
    auto fd = mkstemp(path);
    if (fd < 0)
      return false;
    close(fd);
    timeline(path);
    std::ifstream in{path};
    auto trace = nlohmann::json::parse(in);
    std::remove(path);
    for (const auto& e : trace["traceEvents"])
      if (e["ph"] == "X" && e["name"] == "late_event")
        found = e;
    return !found.is_null();
  }));
  BOOST_TEST(found["args"]["outcome"] == "failed");
  BOOST_TEST(found["args"]["error"].get<std::string>().find("ran past its timeout")
             != std::string::npos);
  BOOST_TEST(found["dur"].get<double>() >= 20000.0); // it ran on past the 20 ms
}

BOOST_AUTO_TEST_CASE(a_task_that_finishes_in_time_is_not_touched) {
  std::vector<object_ref<int>> refs;
  for (int i = 0; i < 200; ++i)
    refs.push_back(task(plus1).timeout(30s).remote(i));
  for (int i = 0; i < 200; ++i)
    BOOST_TEST(refs[static_cast<std::size_t>(i)].get() == i + 1);
  // Every deadline was cancelled when its task finished: nothing is left armed.
  BOOST_TEST(internal::current_or_throw()->tasks->tasks->timer.pending() == 0u);
  BOOST_TEST(worker_count("timed_out") == 0u);
  // Durations of any kind, and forever, which is no limit.
  BOOST_TEST(task(plus1).timeout(std::chrono::duration<double>(2.5)).remote(1).get() == 2);
  BOOST_TEST(task(plus1).timeout(forever).remote(2).get() == 3);
  BOOST_TEST(task(plus1).timeout(std::chrono::hours::max()).remote(3).get() == 4);
}

BOOST_AUTO_TEST_CASE(zero_negative_and_nan_timeouts_are_invalid_arguments) {
  BOOST_TEST(code_of([] { (void)task(plus1).timeout(0ms).remote(1); }) == errc::invalid_argument);
  BOOST_TEST(code_of([] { (void)task(plus1).timeout(-5ms).remote(1); }) == errc::invalid_argument);
  BOOST_TEST(code_of([] { (void)task(plus1).timeout(std::chrono::seconds::min()).remote(1); })
             == errc::invalid_argument);
  auto nan = std::chrono::duration<double>(std::numeric_limits<double>::quiet_NaN());
  BOOST_TEST(code_of([&] { (void)task(plus1).timeout(nan).remote(1); }) == errc::invalid_argument);
  try {
    (void)task(plus1).name("bad").timeout(-5ms).remote(1);
  } catch (const error& e) {
    BOOST_TEST(e.message().find("task bad") != std::string::npos, e.message());
    BOOST_TEST(e.message().find("-5 ms") != std::string::npos, e.message());
  }
  // Nothing was submitted.
  BOOST_TEST(state()["counters"]["tasks_submitted"] == 0);
}

BOOST_AUTO_TEST_CASE(a_timed_out_task_fails_its_dependants_with_timeout) {
  auto probe = std::make_shared<overrun_probe>();
  auto late = task(overrunning(probe)).name("late").timeout(50ms).remote();
  auto dependant = task(plus1).name("dependant").remote(late);
  auto e = error_of(dependant);
  BOOST_TEST(e.code() == errc::timeout);
  BOOST_TEST(e.message().find("task dependant did not run") != std::string::npos, e.message());
  BOOST_TEST(e.message().find("task late ran past its timeout") != std::string::npos, e.message());
  BOOST_REQUIRE(probe->returned.wait());
}

BOOST_AUTO_TEST_CASE(a_timeout_is_retried_within_max_retries_on_another_worker) {
  // The first attempt overruns; the second returns at once.
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto first_returned = std::make_shared<test::latch>(1);
  auto flaky = [calls, first_returned] {
    if (++*calls == 1) {
      (void)cancel_seen();
      first_returned->count_down();
      return -1;
    }
    return 7;
  };
  // No retry_exceptions needed: a timeout is not the function's exception.
  BOOST_TEST(task(flaky).timeout(1s).max_retries(1).remote().get() == 7);
  BOOST_TEST(calls->load() == 2);
  BOOST_REQUIRE(first_returned->wait());
  BOOST_TEST(state()["counters"]["tasks_retried"] == 1);
  BOOST_TEST(state()["counters"]["tasks_finished"] == 1);
  BOOST_TEST(state()["counters"]["tasks_failed"] == 0);
}

BOOST_AUTO_TEST_CASE(every_attempt_timing_out_ends_in_timeout_after_the_last) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto returned = std::make_shared<test::event_count>();
  auto stuck = [calls, returned] {
    ++*calls;
    (void)cancel_seen();
    returned->signal();
    return 0;
  };
  auto e = error_of(task(stuck).name("stuck").timeout(30ms).max_retries(2).remote());
  BOOST_TEST(e.code() == errc::timeout);
  BOOST_TEST(e.message().find("attempt 3 of 3") != std::string::npos, e.message());
  BOOST_TEST(calls->load() == 3);
  BOOST_REQUIRE(returned->wait_for(3));
  BOOST_TEST(state()["counters"]["tasks_failed"] == 1);
  BOOST_TEST(state()["counters"]["tasks_retried"] == 2);
}

BOOST_AUTO_TEST_CASE(an_exception_is_still_retried_only_with_retry_exceptions) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto thrower = [calls]() -> int {
    ++*calls;
    throw std::runtime_error("nope");
  };
  BOOST_CHECK_THROW(task(thrower).timeout(10s).max_retries(3).remote().get(), task_error);
  BOOST_TEST(calls->load() == 1);
  calls->store(0);
  BOOST_CHECK_THROW(task(thrower).timeout(10s).max_retries(3).retry_exceptions(true).remote().get(),
                    task_error);
  BOOST_TEST(calls->load() == 4);
}

BOOST_AUTO_TEST_CASE(no_thread_for_timeouts_is_a_system_error_and_timed_tasks_run_again_after) {
  // A fresh runtime has no timer thread yet (it starts with the first timed
  // task), and its start fails: the timed task must not run unguarded.
  auto& timer = internal::current_or_throw()->tasks->tasks->timer;
  timer.fail_thread_start(true);
  std::atomic<bool> ran{false};
  auto refused = task([&ran] {
                   ran = true;
                   return 1;
                 })
                   .timeout(10s)
                   .remote();
  auto e = error_of(refused);
  BOOST_TEST((e.code() == errc::system_error));
  BOOST_TEST(std::string{e.what()}.find("enforces timeouts could not start") != std::string::npos,
             e.what());
  BOOST_TEST(!ran);
  BOOST_TEST(timer.pending() == 0);
  BOOST_TEST(task(plus1).remote(1).get(30s) == 2); // untimed tasks run on
  timer.fail_thread_start(false);
  BOOST_TEST(task(plus1).timeout(10s).remote(2).get(30s) == 3);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(tasks_timeout_one_worker, one_worker_fixture)

BOOST_AUTO_TEST_CASE(a_new_worker_takes_the_place_of_one_that_overran) {
  // The only worker's function ignores its deadline until the gate opens;
  // other tasks must not wait for it.
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  std::promise<void> started;
  auto stubborn = task([opened, &started] {
                    started.set_value();
                    opened.wait();
                    return cancel_requested();
                  })
                    .timeout(50ms)
                    .remote();
  started.get_future().wait();
  BOOST_TEST(code_of([&] { stubborn.get(); }) == errc::timeout);
  std::vector<object_ref<int>> others;
  for (int i = 0; i < 20; ++i)
    others.push_back(task(plus1).remote(i));
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(others[static_cast<std::size_t>(i)].get(10s) == i + 1);
  // The overrunning worker is still there, not counted against the limit
  // (the replacement reports done just after its last result appears).
  BOOST_TEST(worker_count("timed_out") == 1u);
  BOOST_TEST(eventually([] { return worker_count("busy") == 0u; }));
  gate.set_value();
  // Once its function returns, the worker stops.
  BOOST_TEST(eventually([] { return worker_count("timed_out") == 0u; }));
  BOOST_TEST(eventually([] { return worker_count("started") == 1u; }));
  BOOST_TEST(code_of([&] { stubborn.get(); }) == errc::timeout);
  // The worker reports done just after its last result appears.
  BOOST_TEST(eventually([] { return state()["node"]["resources"]["available"]["CPU"] == 1.0; }));
}

BOOST_AUTO_TEST_CASE(a_task_blocked_in_get_times_out_too) {
  auto pending = test::make_pending<int>();
  auto waiting = task([](int x) { return x; }).remote(pending); // never runs in time
  auto reader = task([waiting]() {
                  try {
                    return waiting.get();
                  } catch (const error&) {
                    return -1; // woken when the test fails the object
                  }
                })
                  .timeout(50ms)
                  .remote();
  BOOST_TEST(code_of([&] { reader.get(); }) == errc::timeout);
  // Its CPU was lent while it blocked and is not given back twice.
  BOOST_TEST(task(plus1).remote(1).get(10s) == 2);
  test::fail(pending, errc::object_lost, "released by the test");
  BOOST_TEST(eventually([] { return worker_count("timed_out") == 0u; }));
  // The worker reports done just after its last result appears.
  BOOST_TEST(eventually([] { return state()["node"]["resources"]["available"]["CPU"] == 1.0; }));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(shutdown_wakes_an_overrunning_function_waiting_in_get) {
  init(one_worker());
  std::promise<void> started;
  auto waiter = task([&started] {
                  auto nothing = test::make_pending<int>();
                  started.set_value();
                  try {
                    return nothing.get(); // nothing will ever produce it
                  } catch (const error& e) {
                    return static_cast<int>(e.code());
                  }
                })
                  .timeout(20ms)
                  .remote();
  started.get_future().wait();
  BOOST_TEST(code_of([&] { waiter.get(); }) == errc::timeout);
  auto done = std::async(std::launch::async, [] { shutdown(); });
  BOOST_TEST(test::ready_within(done));
  BOOST_TEST(!is_initialized());
}
