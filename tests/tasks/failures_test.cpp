#define BOOST_TEST_MODULE tasks_failures
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include "runtime_fixture.hpp"
#include "sync.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::runtime_fixture;

namespace {

/// A task returning 1 once `gate` is set: what comes after it waits.
object_ref<int> blocked_until(std::promise<void>& gate) {
  return task([opened = gate.get_future().share()] {
           opened.wait();
           return 1;
         })
    .remote();
}

int explode(int x) {
  if (x < 0)
    throw std::invalid_argument("negative input " + std::to_string(x));
  return x;
}

int plus1(int x) {
  return x + 1;
}

/// The message of the task_error that `get` throws.
template <class T>
std::string task_error_message(const object_ref<T>& ref) {
  try {
    ref.get();
  } catch (const task_error& e) {
    return e.message();
  } catch (const error& e) {
    BOOST_FAIL("expected task_error, got " << e.what());
  }
  BOOST_FAIL("expected task_error");
  return {};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(tasks_failures, runtime_fixture)

BOOST_AUTO_TEST_CASE(an_exception_is_stored_with_name_type_and_message) {
  auto msg = task_error_message(task(explode).name("explode").remote(-3));
  BOOST_TEST(msg.find("explode") != std::string::npos);
  BOOST_TEST(msg.find("std::invalid_argument") != std::string::npos);
  BOOST_TEST(msg.find("negative input -3") != std::string::npos);
  // Without a name the function's type names it.
  auto unnamed = task_error_message(task([]() -> int { throw 42; }).remote());
  BOOST_TEST(unnamed.find("threw int") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_dependant_of_a_failed_task_does_not_run_and_carries_the_chain) {
  std::atomic<int> ran{0};
  auto failed = task(explode).name("explode").remote(-1);
  auto middle = task([&ran](int x) {
                  ++ran;
                  return x;
                })
                  .name("middle")
                  .remote(failed);
  auto last = task(plus1).name("last").remote(middle);
  auto msg = task_error_message(last);
  BOOST_TEST(ran.load() == 0);
  BOOST_TEST(msg.find("task last did not run") != std::string::npos);
  BOOST_TEST(msg.find("task middle did not run") != std::string::npos);
  BOOST_TEST(msg.find("negative input -1") != std::string::npos); // the root cause
}

BOOST_AUTO_TEST_CASE(failing_tasks_do_not_disturb_tasks_with_valid_inputs) {
  std::vector<object_ref<int>> refs;
  for (int i = -50; i < 50; ++i)
    refs.push_back(task(explode).remote(i));
  int ok = 0;
  int failed = 0;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    auto r = try_get(refs[i]);
    if (r) {
      BOOST_TEST(*r == static_cast<int>(i) - 50);
      ++ok;
    } else {
      BOOST_TEST(r.error().code() == static_cast<std::uint8_t>(errc::task_failed));
      ++failed;
    }
  }
  BOOST_TEST(ok == 50);
  BOOST_TEST(failed == 50);
}

BOOST_AUTO_TEST_CASE(retries_rerun_a_throwing_task_up_to_max_retries) {
  auto flaky = [](std::shared_ptr<std::atomic<int>> calls) {
    return [calls] {
      if (++*calls <= 2)
        throw std::runtime_error("flaky");
      return 7;
    };
  };
  auto calls = std::make_shared<std::atomic<int>>(0);
  BOOST_TEST(task(flaky(calls)).max_retries(2).retry_exceptions(true).remote().get() == 7);
  BOOST_TEST(calls->load() == 3);
  calls = std::make_shared<std::atomic<int>>(0);
  auto once_more = task(flaky(calls)).max_retries(1).retry_exceptions(true).remote();
  auto message = task_error_message(once_more);
  BOOST_TEST(message.find("flaky") != std::string::npos);
  // How many attempts it had, as a timeout says.
  BOOST_TEST(message.find("(attempt 2 of 2)") != std::string::npos, message);
  BOOST_TEST(calls->load() == 2);
  // Without retry_exceptions an exception is final.
  calls = std::make_shared<std::atomic<int>>(0);
  auto no_retry = task(flaky(calls)).max_retries(5).remote();
  BOOST_CHECK_THROW(no_retry.get(), task_error);
  BOOST_TEST(calls->load() == 1);
}

BOOST_AUTO_TEST_CASE(a_task_that_can_never_fit_fails_at_once) {
  auto too_big = task(plus1).num_cpus(100).remote(1);
  try {
    too_big.get(1s);
    BOOST_FAIL("must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::task_unschedulable);
    // Amounts as people write them, not "100.000000".
    BOOST_TEST(e.message().find("needs 100 CPU but this node has 2 CPU") != std::string::npos,
               e.message());
  }
  auto unknown = task(plus1).resources({{"GPU", 1}}).remote(1);
  try {
    unknown.get(1s);
    BOOST_FAIL("must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::task_unschedulable);
    BOOST_TEST(e.message().find("GPU") != std::string::npos);
  }
  BOOST_TEST(code_of([&] { (void)task(plus1).num_cpus(-1).remote(1); }) == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(cancel_before_start_means_it_never_runs) {
  std::promise<void> gate;
  auto blocker = blocked_until(gate);
  std::atomic<int> ran{0};
  auto waiting = task([&ran](int x) {
                   ++ran;
                   return x;
                 }).remote(blocker); // waits for its argument
  BOOST_TEST(cancel(waiting));
  BOOST_TEST(!cancel(waiting)); // already cancelled
  auto dependant = task(plus1).remote(waiting);
  gate.set_value();
  BOOST_TEST(blocker.get() == 1);
  BOOST_TEST(code_of([&] { waiting.get(); }) == errc::task_cancelled);
  BOOST_TEST(code_of([&] { dependant.get(); }) == errc::task_cancelled);
  BOOST_TEST(ran.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_running_task_sees_cancel_requested) {
  // Held at a gate until cancel returned: cancel of a running task only
  // asks it, and it sees the request when it looks.
  std::promise<void> started;
  test::gate cancelled;
  test::open_on_exit release{cancelled};
  auto running = task([&started, &cancelled] {
                   started.set_value();
                   return cancelled.pass() && cancel_requested();
                 }).remote();
  started.get_future().wait();
  BOOST_TEST(cancel(running));
  cancelled.open();
  BOOST_TEST(running.get() == true);
  BOOST_TEST(!cancel(running)); // finished: no change
  BOOST_TEST(running.get() == true);
  BOOST_TEST(!cancel_requested()); // outside a task
}

BOOST_AUTO_TEST_CASE(a_dependant_already_waiting_fails_with_its_producers_error) {
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  auto producer = task([opened]() -> int {
                    opened.wait();
                    throw std::runtime_error("producer gave up");
                  })
                    .name("producer")
                    .remote();
  auto dependant = task(plus1).name("dependant").remote(producer);
  // Waiting, and state() says for what: no silent hang.
  auto oldest = state()["tasks"]["oldest_waiting"];
  BOOST_REQUIRE(oldest.size() == 1u);
  BOOST_TEST(oldest[0]["name"] == "dependant");
  BOOST_TEST(oldest[0]["waiting_for"][0]["object"] == to_string(producer.id()));
  gate.set_value();
  auto msg = task_error_message(dependant);
  BOOST_TEST(msg.find("task dependant did not run") != std::string::npos, msg);
  BOOST_TEST(msg.find("producer gave up") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(a_dependant_of_a_cancelled_producer_fails_with_task_cancelled) {
  std::promise<void> gate;
  auto blocker = blocked_until(gate);
  auto producer = task(plus1).name("producer").remote(blocker);
  auto dependant = task(plus1).name("dependant").remote(producer); // waits now
  BOOST_TEST(cancel(producer));
  BOOST_TEST(code_of([&] { dependant.get(); }) == errc::task_cancelled);
  gate.set_value();
  BOOST_TEST(blocker.get() == 1);
}

BOOST_AUTO_TEST_CASE(a_dependant_of_a_call_to_a_killed_actor_fails_with_actor_died) {
  struct Sleeper {
    static Sleeper create() {
      return {};
    }
    int echo(int x) {
      return x;
    }
  };
  std::promise<void> gate;
  auto blocker = blocked_until(gate);
  auto sleeper = actor(Sleeper::create).remote();
  auto call = sleeper.task(&Sleeper::echo).remote(blocker); // queued at the actor
  auto dependant = task(plus1).remote(call);
  kill(sleeper);
  BOOST_TEST(code_of([&] { dependant.get(); }) == errc::actor_died);
  gate.set_value();
  BOOST_TEST(blocker.get() == 1);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_plain_object_is_false) {
  auto plain = put(1);
  BOOST_TEST(!cancel(plain));
  BOOST_TEST(plain.get() == 1);
}

BOOST_AUTO_TEST_CASE(no_thread_for_a_worker_is_a_system_error_and_tasks_run_again_after) {
  // No worker has started yet (a fresh runtime), and every start fails:
  // nothing could run the task, so it fails instead of waiting forever.
  auto& context = *internal::current_or_throw()->tasks->tasks;
  context.fail_worker_starts = true;
  auto refused = task(plus1).remote(1);
  try {
    (void)refused.get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::system_error));
    BOOST_TEST(std::string{e.what()}.find("refused a thread") != std::string::npos, e.what());
  }
  context.fail_worker_starts = false;
  BOOST_TEST(task(plus1).remote(2).get(30s) == 3);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(shutdown_lets_running_tasks_finish_and_fails_queued_ones) {
  config cfg = test::small_config();
  cfg.num_workers = 1;
  init(cfg);
  std::promise<void> started;
  std::atomic<bool> finished{false};
  // The sleep is the behaviour under test, a task still working when
  // shutdown starts; no gate can hold it, since shutdown fails the queued
  // task only once the running one has finished (no event comes earlier).
  // A correct shutdown passes however long it works.
  auto running = task([&] {
                   started.set_value();
                   std::this_thread::sleep_for(100ms);
                   finished = true;
                   return 1;
                 }).remote();
  auto queued = task(plus1).name("queued").remote(5);
  auto waiter = std::async(std::launch::async, [&] {
    try {
      queued.get();
    } catch (const error& e) {
      return std::string{e.what()};
    }
    return std::string{"no error"};
  });
  started.get_future().wait();
  shutdown();
  BOOST_TEST(finished.load());
  auto msg = waiter.get();
  BOOST_TEST(msg.find("runtime_not_initialized") == 0u);
  BOOST_TEST(msg.find("before task queued started") != std::string::npos);
  BOOST_TEST(code_of([&] { (void)task(plus1).remote(1); }) == errc::runtime_not_initialized);
}
