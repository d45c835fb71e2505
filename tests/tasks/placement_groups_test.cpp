#define BOOST_TEST_MODULE tasks_placement_groups
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <string>
#include <thread>

#include "runtime_fixture.hpp"
#include "sync.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::available;
using test::queued_tasks;
using test::runtime_fixture;
using test::wait_available;

namespace {

int plus1(int x) {
  return x + 1;
}

test::gate& hold() {
  static test::gate g;
  return g;
}

/// Waits at `hold()` (closed by the test), then returns x.
int held(int x) {
  if (!hold().pass())
    throw std::runtime_error("the test never opened the gate");
  return x;
}

class Counter {
public:
  static Counter create(int start) {
    return Counter{start};
  }
  int add(int x) {
    return value_ += x;
  }

private:
  explicit Counter(int start) : value_(start) {}
  int value_;
};

/// The group's entry in `state()["placement_groups"]` (null once removed).
nlohmann::json entry_of(const placement_group& pg) {
  auto now = state(); // a loop over a temporary's member would dangle
  for (const auto& g : now["placement_groups"])
    if (g["id"] == to_string(pg.id()))
      return g;
  return {};
}

const std::vector<bundle> two_cpus = {{{"CPU", 1}}, {{"CPU", 1}}};

} // namespace

BOOST_FIXTURE_TEST_SUITE(placement_groups, runtime_fixture) // 2 CPUs

BOOST_AUTO_TEST_CASE(a_group_reserves_its_bundles_and_tasks_run_in_them) {
  placement_group pg(two_cpus, placement_strategy::pack);
  BOOST_TEST(pg.wait(30s));
  BOOST_TEST(pg.ready());
  BOOST_TEST(!pg.removed());
  BOOST_TEST(pg.bundles().size() == 2u);
  BOOST_TEST((pg.strategy() == placement_strategy::pack));
  auto e = entry_of(pg);
  BOOST_TEST(e["state"] == "created");
  BOOST_TEST(e["strategy"] == "PACK");
  // The node's CPUs are the group's now: a task outside it waits.
  BOOST_TEST(available("CPU") == 0.0);
  auto outside = task(plus1).remote(1);
  BOOST_TEST(queued_tasks() == 1);
  // Tasks in the group run on its bundles: any bundle, or a given one.
  BOOST_TEST(task(plus1).placement_group(pg).remote(1).get() == 2);
  BOOST_TEST(task(plus1).placement_group(pg, 0).remote(2).get() == 3);
  BOOST_TEST(task(plus1).placement_group(pg, 1).num_cpus(0).remote(3).get() == 4);
  remove_placement_group(pg);
  BOOST_TEST(pg.removed());
  BOOST_TEST(!pg.ready());
  BOOST_TEST(entry_of(pg).is_null());
  BOOST_TEST(outside.get() == 2); // the CPUs are the node's again
  wait_available("CPU", 2.0);
  remove_placement_group(pg); // twice: nothing happens
}

BOOST_AUTO_TEST_CASE(one_bundle_holds_one_task_at_a_time_the_group_two) {
  placement_group pg(two_cpus, placement_strategy::spread);
  BOOST_REQUIRE(pg.wait(30s));
  hold().close();
  auto first = task(held).placement_group(pg, 0).remote(1);
  auto second = task(held).placement_group(pg, 0).remote(2); // bundle 0 is busy
  auto other = task(held).placement_group(pg, 1).remote(3);
  // Two run (one per bundle), held at the gate; bundle 0's second task
  // waits for the first.
  while (state()["tasks"]["running"].get<int>() < 2)
    std::this_thread::yield();
  BOOST_TEST(queued_tasks() == 1);
  hold().open();
  BOOST_TEST(first.get() == 1);
  BOOST_TEST(second.get() == 2);
  BOOST_TEST(other.get() == 3);
  remove_placement_group(pg);
}

BOOST_AUTO_TEST_CASE(an_infeasible_group_stays_pending_and_says_why) {
  placement_group too_big({{{"CPU", 3}}}, placement_strategy::strict_pack);
  BOOST_TEST(!too_big.wait(50ms));
  auto e = entry_of(too_big);
  BOOST_TEST(e["state"] == "pending");
  BOOST_TEST(e["why"].get<std::string>().find("infeasible") != std::string::npos);
  BOOST_TEST(e["why"].get<std::string>().find("3 CPU") != std::string::npos);
  // STRICT_SPREAD needs a node per bundle: one node takes one bundle only.
  placement_group spread(two_cpus, placement_strategy::strict_spread);
  BOOST_TEST(!spread.wait(50ms));
  BOOST_TEST(entry_of(spread)["why"].get<std::string>().find("STRICT_SPREAD") != std::string::npos);
  placement_group single({{{"CPU", 1}}}, placement_strategy::strict_spread);
  BOOST_TEST(single.wait(30s));
  // Nothing pending holds resources.
  BOOST_TEST(available("CPU") == 1.0);
  // A task placed in a pending group waits for it; removing the group fails it.
  auto stuck = task(plus1).placement_group(too_big).remote(1);
  remove_placement_group(too_big);
  BOOST_CHECK(test::code_of([&] { (void)stuck.get(); }) == errc::task_unschedulable);
  remove_placement_group(spread);
  remove_placement_group(single);
}

BOOST_AUTO_TEST_CASE(a_group_waits_for_resources_others_hold) {
  auto holder = actor(Counter::create).num_cpus(2).remote(0);
  BOOST_TEST(holder.task(&Counter::add).remote(1).get() == 1);
  placement_group pg({{{"CPU", 1}}}, placement_strategy::pack);
  // Submitted while the group is pending: runs once it is created.
  auto later = task(plus1).placement_group(pg, 0).remote(41);
  BOOST_TEST(!pg.ready());
  BOOST_TEST(entry_of(pg)["why"].get<std::string>().find("waiting for resources")
             != std::string::npos);
  kill(holder);
  BOOST_TEST(pg.wait(forever));
  BOOST_TEST(later.get() == 42);
  remove_placement_group(pg);
}

BOOST_AUTO_TEST_CASE(removing_a_group_fails_its_queued_tasks_and_kills_its_actors) {
  placement_group pg({{{"CPU", 1}}}, placement_strategy::pack);
  BOOST_REQUIRE(pg.wait(30s));
  auto counter = actor(Counter::create).placement_group(pg, 0).num_cpus(1).remote(5);
  BOOST_TEST(counter.task(&Counter::add).remote(1).get() == 6);
  BOOST_TEST(available("CPU") == 1.0); // the actor holds the bundle, not the node
  auto queued = task(plus1).placement_group(pg, 0).remote(1); // the bundle is taken
  BOOST_TEST(queued_tasks() == 1);
  remove_placement_group(pg);
  BOOST_CHECK(test::code_of([&] { (void)queued.get(); }) == errc::task_unschedulable);
  try {
    (void)counter.task(&Counter::add).remote(1).get();
    BOOST_FAIL("a call to an actor of a removed group ran");
  } catch (const error& e) {
    BOOST_CHECK(e.code() == errc::actor_died);
    BOOST_TEST(std::string{e.what()}.find("was removed") != std::string::npos);
  }
  // Later tasks placed in it fail too.
  BOOST_CHECK(test::code_of([&] { (void)task(plus1).placement_group(pg).remote(1).get(); })
              == errc::task_unschedulable);
  BOOST_CHECK(
    test::code_of([&] { (void)actor(Counter::create).placement_group(pg).num_cpus(1).remote(0); })
    == errc::task_unschedulable);
}

BOOST_AUTO_TEST_CASE(a_running_task_of_a_removed_group_finishes) {
  placement_group pg({{{"CPU", 1}}}, placement_strategy::pack);
  BOOST_REQUIRE(pg.wait(30s));
  hold().close();
  auto running = task(held).placement_group(pg, 0).remote(7);
  while (state()["tasks"]["running"].get<int>() == 0)
    std::this_thread::yield();
  remove_placement_group(pg);
  hold().open();
  BOOST_TEST(running.get() == 7);
  BOOST_TEST(task(plus1).num_cpus(2).remote(1).get() == 2); // both CPUs free again
}

BOOST_AUTO_TEST_CASE(bad_groups_and_placements_are_refused) {
  auto code = [](auto f) { return test::code_of(f); };
  BOOST_CHECK(code([] { placement_group pg({}, placement_strategy::pack); })
              == errc::invalid_argument);
  BOOST_CHECK(code([] { placement_group pg({bundle{}}, placement_strategy::pack); })
              == errc::invalid_argument);
  BOOST_CHECK(code([] {
                placement_group pg({{{"CPU", 0}}}, placement_strategy::pack);
              })
              == errc::invalid_argument);
  BOOST_CHECK(code([] {
                placement_group pg({{{"CPU", 1.5}}}, placement_strategy::pack);
              })
              == errc::invalid_argument);
  placement_group none;
  BOOST_CHECK(code([&] { (void)none.ready(); }) == errc::invalid_argument);
  BOOST_CHECK(code([&] { remove_placement_group(none); }) == errc::invalid_argument);

  placement_group pg({{{"CPU", 1}}}, placement_strategy::pack);
  BOOST_REQUIRE(pg.wait(30s));
  BOOST_CHECK(code([&] { (void)pg.wait(-1ms); }) == errc::invalid_argument);
  BOOST_CHECK(code([&] { (void)task(plus1).placement_group(pg, 1).remote(1); })
              == errc::invalid_argument);
  BOOST_CHECK(code([&] { (void)task(plus1).placement_group(pg, -2).remote(1); })
              == errc::invalid_argument);
  // More than the bundle has: never runs.
  try {
    (void)task(plus1).placement_group(pg, 0).num_cpus(2).remote(1).get();
    BOOST_FAIL("a task larger than its bundle ran");
  } catch (const error& e) {
    BOOST_CHECK(e.code() == errc::task_unschedulable);
    BOOST_TEST(std::string{e.what()}.find("bundle 0 of placement group") != std::string::npos);
  }
  BOOST_CHECK(
    code([&] { (void)actor(Counter::create).placement_group(pg, 0).num_cpus(2).remote(0); })
    == errc::task_unschedulable);
  remove_placement_group(pg);
  // Shutdown ends every group: a wait returns.
  placement_group pending({{{"CPU", 5}}}, placement_strategy::pack);
  placement_group created({{{"CPU", 1}}}, placement_strategy::pack);
  BOOST_REQUIRE(created.wait(30s));
  shutdown();
  BOOST_TEST(!pending.wait(forever));
  BOOST_TEST(!created.wait(forever));
  BOOST_TEST(created.removed());
  BOOST_CHECK(code([] {
                placement_group pg({{{"CPU", 1}}}, placement_strategy::pack);
              })
              == errc::runtime_not_initialized);
  init(test::small_config()); // for the fixture
}

BOOST_AUTO_TEST_CASE(strategies_have_rays_names) {
  BOOST_TEST(std::string{to_string(placement_strategy::pack)} == "PACK");
  BOOST_TEST(std::string{to_string(placement_strategy::spread)} == "SPREAD");
  BOOST_TEST(std::string{to_string(placement_strategy::strict_pack)} == "STRICT_PACK");
  BOOST_TEST(std::string{to_string(placement_strategy::strict_spread)} == "STRICT_SPREAD");
}

BOOST_AUTO_TEST_SUITE_END()
