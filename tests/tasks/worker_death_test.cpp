#define BOOST_TEST_MODULE tasks_worker_death
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <memory>

#include <caf/all.hpp>

#include "conditions.hpp"
#include "runtime_fixture.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::eventually;

namespace {

int plus1(int x) {
  return x + 1;
}

/// Crashes the worker running it, as a bug outside the task's own code would.
int crash(int) {
  throw tasks::internal::worker_crash{};
}

std::size_t workers(const char* key) {
  return state()["node"]["workers"][key].get<std::size_t>();
}

/// One worker, so that every task after a death needs the replacement.
struct one_worker : test::runtime_fixture {
  one_worker() : runtime_fixture(make()) {}
  static config make() {
    auto cfg = test::small_config();
    cfg.num_workers = 1;
    return cfg;
  }
};

/// A task holding the only worker until `gate` opens; it hands out the
/// worker's CAF actor once it runs.
struct gated_task {
  std::promise<void> gate;
  std::promise<caf::actor> worker;
  object_ref<int> ref;

  gated_task() {
    auto opened = gate.get_future().share();
    ref = task([opened, this] {
            worker.set_value(tasks::internal::current_worker());
            opened.wait();
            return 100;
          }).remote();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(tasks_worker_death, one_worker)

BOOST_AUTO_TEST_CASE(a_worker_that_dies_mid_task_fails_it_with_worker_died_and_is_replaced) {
  auto crashed = task(crash).name("crasher").remote(1);
  try {
    crashed.get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::worker_died);
    BOOST_TEST(e.message().find("task crasher") != std::string::npos, e.message());
    BOOST_TEST(e.message().find("worker_crash") != std::string::npos, e.message());
    BOOST_TEST(e.message().find("max_retries") != std::string::npos, e.message());
  }
  // The runtime keeps serving: a new worker takes the dead one's place.
  for (int i = 0; i < 10; ++i)
    BOOST_TEST(task(plus1).remote(i).get(30s) == i + 1);
  BOOST_TEST(workers("started") == 1u);
  // The worker reports done just after its last result appears.
  BOOST_TEST(eventually([] { return state()["node"]["resources"]["available"]["CPU"] == 1.0; }));
  BOOST_TEST(state()["counters"]["tasks_failed"] == 1);
}

BOOST_AUTO_TEST_CASE(a_task_whose_worker_died_runs_again_within_max_retries) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto first_crashes = [calls] {
    if (++*calls == 1)
      throw tasks::internal::worker_crash{};
    return 5;
  };
  // A worker's death is retried like a timeout: no retry_exceptions needed.
  BOOST_TEST(task(first_crashes).max_retries(1).remote().get(30s) == 5);
  BOOST_TEST(calls->load() == 2);
  calls->store(0);
  auto always = [calls]() -> int {
    ++*calls;
    throw tasks::internal::worker_crash{};
  };
  try {
    task(always).name("always").max_retries(2).remote().get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::worker_died);
    BOOST_TEST(e.message().find("attempt 3 of 3") != std::string::npos, e.message());
  }
  BOOST_TEST(calls->load() == 3);
}

BOOST_AUTO_TEST_CASE(the_tasks_a_dead_worker_had_not_started_run_on_its_replacement) {
  gated_task holder;
  (void)holder.worker.get_future().get();
  // Queued behind the gate: they reach the worker as one batch, the
  // crashing one first.
  auto crashed = task(crash).remote(0);
  std::vector<object_ref<int>> rest;
  for (int i = 0; i < 30; ++i)
    rest.push_back(task(plus1).remote(i));
  holder.gate.set_value();
  BOOST_TEST(holder.ref.get(30s) == 100);
  BOOST_TEST(code_of([&] { crashed.get(30s); }) == errc::worker_died);
  for (int i = 0; i < 30; ++i)
    BOOST_TEST(rest[static_cast<std::size_t>(i)].get(30s) == i + 1);
}

BOOST_AUTO_TEST_CASE(a_worker_killed_by_an_exit_message_with_a_batch_on_its_way_is_replaced) {
  gated_task holder;
  auto worker = holder.worker.get_future().get();
  BOOST_REQUIRE(worker);
  std::vector<object_ref<int>> queued;
  for (int i = 0; i < 30; ++i)
    queued.push_back(task(plus1).remote(i));
  // The exit waits in the worker's mailbox until its task returns; then the
  // worker dies, and the batch the scheduler sends it meanwhile is lost with
  // its mailbox. The scheduler must notice and run the batch elsewhere.
  caf::anon_send_exit(worker, caf::exit_reason::kill);
  worker = nullptr;
  holder.gate.set_value();
  BOOST_TEST(holder.ref.get(30s) == 100);
  for (int i = 0; i < 30; ++i)
    BOOST_TEST(queued[static_cast<std::size_t>(i)].get(30s) == i + 1);
  BOOST_TEST(eventually([] { return workers("started") == 1u; }));
}

BOOST_AUTO_TEST_CASE(an_idle_worker_killed_by_an_exit_message_is_replaced) {
  auto handed = std::make_shared<std::promise<caf::actor>>();
  auto ref = task([handed] {
               handed->set_value(tasks::internal::current_worker());
               return 1;
             }).remote();
  BOOST_TEST(ref.get(30s) == 1);
  auto worker = handed->get_future().get();
  BOOST_REQUIRE(worker);
  BOOST_TEST(eventually([] { return workers("idle") == 1u; }));
  caf::anon_send_exit(worker, caf::exit_reason::kill);
  worker = nullptr;
  BOOST_TEST(eventually([] { return workers("started") == 0u; }));
  for (int i = 0; i < 10; ++i)
    BOOST_TEST(task(plus1).remote(i).get(30s) == i + 1);
  BOOST_TEST(workers("started") == 1u);
}

BOOST_AUTO_TEST_CASE(no_worker_outside_a_task) {
  BOOST_TEST(!tasks::internal::current_worker());
}

BOOST_AUTO_TEST_SUITE_END()
