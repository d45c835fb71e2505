#define BOOST_TEST_MODULE actors_resources
#include <boost/test/unit_test.hpp>

#include "actor_support.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::available;
using test::Counter;
using test::queued_tasks;
using test::runtime_fixture;
using test::wait_available;

namespace {

int plus1(int x) {
  return x + 1;
}

/// The actor's state in `state()` ("starting", "alive", "dead").
std::string phase_of(const object_id& id) {
  auto now = state(); // a loop over a temporary's member would dangle
  for (const auto& a : now["actors"])
    if (a["id"] == to_string(id))
      return a["state"];
  return "gone";
}

/// Kills the actor and blocks until it shows as dead (it has given back
/// what it held by then).
template <class C>
void kill_and_wait(const actor_handle<C>& handle) {
  kill(handle);
  while (phase_of(handle.id()) != "dead")
    std::this_thread::yield();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(resources, runtime_fixture) // 2 CPUs

BOOST_AUTO_TEST_CASE(an_actor_holds_nothing_by_default) {
  auto counter = actor(Counter::create).remote(1);
  BOOST_TEST(counter.task(&Counter::add).remote(1).get() == 2);
  BOOST_TEST(available("CPU") == 2.0);
}

BOOST_AUTO_TEST_CASE(an_actors_cpus_are_held_for_its_lifetime_and_tasks_get_the_rest) {
  auto big = actor(Counter::create).num_cpus(2).remote(0);
  BOOST_TEST(big.task(&Counter::add).remote(1).get() == 1); // alive
  BOOST_TEST(available("CPU") == 0.0);
  // A task needs a CPU: it waits in the queue while the actor lives.
  auto waiting = task(plus1).remote(1);
  BOOST_TEST(queued_tasks() == 1);
  // Its calls need no CPU of their own.
  BOOST_TEST(big.task(&Counter::add).remote(1).get() == 2);
  kill_and_wait(big);
  BOOST_TEST(waiting.get() == 2);
  wait_available("CPU", 2.0);
}

BOOST_AUTO_TEST_CASE(an_actor_that_does_not_fit_yet_starts_once_resources_are_free) {
  auto first = actor(Counter::create).resources({{"CPU", 2}}).remote(0);
  BOOST_TEST(first.task(&Counter::add).remote(1).get() == 1);
  auto second = actor(Counter::create).num_cpus(1).remote(10);
  auto call = second.task(&Counter::add).remote(5); // queued until it starts
  BOOST_TEST(phase_of(second.id()) == "starting");
  BOOST_TEST(!contains(call));
  kill_and_wait(first);
  BOOST_TEST(call.get() == 15);
  BOOST_TEST(available("CPU") == 1.0);
}

BOOST_AUTO_TEST_CASE(a_restart_keeps_the_resources_and_a_final_kill_frees_them) {
  auto counter = actor(Counter::create).num_cpus(1).max_restarts(1).remote(3);
  BOOST_TEST(counter.task(&Counter::add).remote(1).get() == 4);
  kill(counter, false); // rebuilt from its factory
  BOOST_TEST(counter.task(&Counter::add).remote(1).get() == 4);
  BOOST_TEST(available("CPU") == 1.0);
  kill_and_wait(counter);
  BOOST_TEST(available("CPU") == 2.0);
}

BOOST_AUTO_TEST_CASE(custom_resources_and_what_can_never_fit) {
  shutdown();
  auto cfg = test::small_config();
  cfg.resources = {{"GPU", 1}};
  init(cfg);
  auto gpu = actor(Counter::create).resources({{"GPU", 1}}).remote(0);
  BOOST_TEST(gpu.task(&Counter::add).remote(2).get() == 2);
  BOOST_TEST(available("GPU") == 0.0);
  BOOST_TEST(available("CPU") == 2.0);

  auto code = [](auto f) { return test::code_of(f); };
  BOOST_CHECK(code([] { (void)actor(Counter::create).num_cpus(3).remote(0); })
              == errc::task_unschedulable);
  BOOST_CHECK(code([] {
                (void)actor(Counter::create).resources({{"TPU", 1}}).remote(0);
              })
              == errc::task_unschedulable);
  BOOST_CHECK(code([] { (void)actor(Counter::create).num_cpus(-1).remote(0); })
              == errc::invalid_argument);
  BOOST_CHECK(code([] { (void)actor(Counter::create).num_cpus(1.5).remote(0); })
              == errc::invalid_argument);
  BOOST_CHECK(code([] {
                (void)actor(Counter::create).resources({{"", 1}}).remote(0);
              })
              == errc::invalid_argument);
  BOOST_CHECK(code([] {
                (void)actor(Counter::create).resources({{"GPU", 0}}).remote(0);
              })
              == errc::invalid_argument);
  // The message says what it needs and what the node has.
  try {
    (void)actor(Counter::create).num_cpus(3).remote(0);
  } catch (const error& e) {
    BOOST_TEST(std::string{e.what()}.find("needs 3 CPU but this node has 2 CPU")
               != std::string::npos);
  }
  // A CPU entry in resources and num_cpus are one quantity: the last wins.
  auto one = actor(Counter::create).resources({{"CPU", 2}}).num_cpus(1).remote(0);
  BOOST_TEST(one.task(&Counter::add).remote(1).get() == 1);
  BOOST_TEST(available("CPU") == 1.0);
}

BOOST_AUTO_TEST_CASE(shutdown_ends_an_actor_still_waiting_for_resources) {
  auto holder = actor(Counter::create).num_cpus(2).remote(0);
  BOOST_TEST(holder.task(&Counter::add).remote(1).get() == 1);
  auto waiting = actor(Counter::create).num_cpus(1).remote(0);
  auto call = waiting.task(&Counter::add).remote(1);
  BOOST_TEST(phase_of(waiting.id()) == "starting");
  shutdown(); // must not wait for resources that never come
  BOOST_CHECK(test::code_of([&] { (void)call.get(); }) == errc::runtime_not_initialized);
  init(test::small_config()); // for the fixture
}

BOOST_AUTO_TEST_SUITE_END()
