#define BOOST_TEST_MODULE cluster_actors
#include <boost/test/unit_test.hpp>

#include <numeric>

#include "cluster_fixture.hpp"
#include "cluster_functions.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using cluster_test::tally;
using rustyray::test::cluster_fixture;
using rustyray::test::own_pid;
using test::eventually;

namespace {

/// `tally` instances alive in worker `id`'s process.
std::int64_t tallies_on(const std::string& id) {
  return get(task(cluster_test::tallies_here).node(id).remote());
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors, cluster_fixture)

BOOST_AUTO_TEST_CASE(an_actor_pinned_to_a_node_runs_there_and_keeps_each_callers_order) {
  auto h = actor(tally::create).node(workers[0].id).remote(5);
  BOOST_TEST(get(h.task(&tally::where).remote()) == pid_of(0));
  BOOST_TEST(get(h.task(&tally::add).remote(2)) == 7);
  // Calls from one caller, shipped in bursts, run in submission order.
  std::vector<object_ref<void>> sent;
  for (int i = 0; i < 2000; ++i)
    sent.push_back(h.task(&tally::append).remote(i));
  // One that waits for an argument holds back the calls after it.
  auto later = task(cluster_test::pid_after).remote(100);
  auto late_value = task([](std::int64_t) { return 2000; }).remote(later);
  sent.push_back(h.task(&tally::append).remote(late_value));
  sent.push_back(h.task(&tally::append).remote(2001));
  auto log = get(h.task(&tally::log).remote());
  std::vector<int> expected(2002);
  std::iota(expected.begin(), expected.end(), 0);
  BOOST_TEST(log == expected, boost::test_tools::per_element());
  BOOST_TEST(tallies_on(workers[0].id) == 1);
  BOOST_TEST(tallies_on(workers[1].id) == 0);
}

BOOST_AUTO_TEST_CASE(a_large_argument_reaches_an_actor_on_another_node_in_order) {
  auto h = actor(tally::create).node(workers[0].id).remote(0);
  // Owned by the other worker: the host borrows it and fetches it in
  // slices; the caller's later call waits for it.
  auto bytes =
    get(task(cluster_test::put_bytes_here).node(workers[1].id).remote(std::int64_t{64} << 20));
  h.task(&tally::append).remote(1);
  auto checked = h.task(&tally::checked).remote(bytes);
  h.task(&tally::append).remote(2);
  BOOST_TEST(get(checked) == pid_of(0));
  BOOST_TEST(get(h.task(&tally::log).remote()) == (std::vector<int>{1, 99, 2}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(calls_of_several_callers_each_keep_their_order) {
  auto h = actor(tally::create).node(workers[1].id).remote(0);
  constexpr int callers = 4;
  constexpr int per_caller = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < callers; ++t)
    threads.emplace_back([&, t] {
      std::vector<object_ref<void>> sent;
      for (int i = 0; i < per_caller; ++i)
        sent.push_back(h.task(&tally::append).remote(t * per_caller + i));
      for (auto& r : sent)
        r.get();
    });
  for (auto& t : threads)
    t.join();
  auto log = get(h.task(&tally::log).remote());
  BOOST_REQUIRE(log.size() == std::size_t{callers * per_caller});
  std::vector<int> next(callers, 0);
  for (int x : log) {
    auto caller = x / per_caller;
    BOOST_TEST(x % per_caller == next[caller]); // each caller's calls, in order
    ++next[caller];
  }
}

BOOST_AUTO_TEST_CASE(a_handle_works_from_every_node) {
  auto h = actor(tally::create).node(workers[0].id).remote(0);
  // The handle travels to a task on the other worker, which calls the
  // actor directly; and to a task on the actor's own node.
  BOOST_TEST(get(task(cluster_test::add_through).node(workers[1].id).remote(h, 10)) == 10);
  BOOST_TEST(get(task(cluster_test::add_through).node(workers[0].id).remote(h, 5)) == 15);
  BOOST_TEST(get(h.task(&tally::add).remote(1)) == 16);
  // An actor of this node, called from a worker.
  auto local = actor(tally::create).remote(100);
  BOOST_TEST(get(local.task(&tally::where).remote()) == own_pid());
  BOOST_TEST(get(task(cluster_test::add_through).node(workers[1].id).remote(local, 1)) == 101);
}

BOOST_AUTO_TEST_CASE(an_actor_stops_once_the_last_handle_in_the_cluster_is_gone) {
  {
    auto h = actor(tally::create).node(workers[0].id).remote(0);
    BOOST_TEST(get(h.task(&tally::add).remote(1)) == 1);
    BOOST_TEST(tallies_on(workers[0].id) == 1);
    // Worker 1 keeps a handle after its task returned: a borrower.
    BOOST_TEST(get(task(cluster_test::keep_tally).node(workers[1].id).remote(h)) == 0);
  }
  // This node's handles are gone; the borrower's keeps the actor.
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(tallies_on(workers[0].id) == 1);
  BOOST_TEST(get(task(cluster_test::drop_tally).node(workers[1].id).remote()) == 0);
  BOOST_TEST(eventually([&] { return tallies_on(workers[0].id) == 0; }));
}

BOOST_AUTO_TEST_CASE(kill_and_restarts_keep_their_meaning_across_nodes) {
  auto h = actor(tally::create).node(workers[1].id).max_restarts(1).remote(0);
  BOOST_TEST(get(h.task(&tally::restarted).remote()) == false);
  // exit_actor there: the call fails, the actor is rebuilt on its node.
  BOOST_CHECK(test::code_of([&] { h.task(&tally::quit).remote().get(); }) == errc::actor_died);
  BOOST_TEST(get(h.task(&tally::restarted).remote()) == true);
  BOOST_TEST(get(h.task(&tally::where).remote()) == pid_of(1));
  // A method's exception names the node.
  try {
    (void)get(h.task(&tally::fail).remote(3));
    BOOST_FAIL("get returned a value");
  } catch (const rustyray::error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("tally refuses 3") != std::string::npos, what);
    BOOST_TEST(what.find("[on node " + workers[1].id + "]") != std::string::npos, what);
  }
  kill(h);
  BOOST_CHECK(test::code_of([&] { (void)get(h.task(&tally::add).remote(1), 20s); })
              == errc::actor_died);
  BOOST_TEST(eventually([&] { return tallies_on(workers[1].id) == 0; }));
}

BOOST_AUTO_TEST_CASE(placement_checks_the_node_and_the_factory) {
  BOOST_CHECK(test::code_of([] { (void)actor(tally::create).node("0123456789abcdef").remote(1); })
              == errc::invalid_argument);
  auto id = workers[0].id;
  BOOST_CHECK(test::code_of([&] { (void)actor([](int x) { return tally{x}; }).node(id).remote(1); })
              == errc::function_not_registered);
  BOOST_CHECK(test::code_of([&] { (void)actor(tally::create).node(id).num_cpus(4).remote(1); })
              == errc::task_unschedulable);
  BOOST_CHECK(test::code_of([&] {
                (void)actor(tally::create).resources({{"TPU", 1}}).remote(1);
              })
              == errc::task_unschedulable);
}

BOOST_AUTO_TEST_CASE(named_actors_are_found_from_every_node) {
  auto h = actor(tally::create).name("shared").remote(7);
  const std::string shared = "shared";
  // Found by name on a worker, which calls it here.
  BOOST_TEST(get(task(cluster_test::add_to_named).node(workers[0].id).remote(shared, 1)) == 8);
  // A name is taken cluster-wide.
  BOOST_TEST(get(task(cluster_test::start_named).node(workers[1].id).remote(shared))
             == "name_taken");
  // A worker's named actor, found here.
  BOOST_TEST(get(task(cluster_test::start_named).node(workers[1].id).remote(std::string{"theirs"}))
             == "started");
  auto theirs = get_actor<tally>("theirs");
  BOOST_REQUIRE(theirs.has_value());
  BOOST_TEST(get(theirs->task(&tally::where).remote()) == pid_of(1));
  BOOST_TEST(
    get(task(cluster_test::add_to_named).node(workers[0].id).remote(std::string{"theirs"}, 2))
    == 2);
  BOOST_CHECK(test::code_of([] { (void)get_actor<std::string>("theirs"); }) == errc::type_mismatch);
  BOOST_TEST(!get_actor<tally>("nobody").has_value());
  // Killed for good, the name is free on every node.
  kill(h);
  kill(*theirs);
  BOOST_TEST(eventually([&] {
    return get(task(cluster_test::start_named).node(workers[1].id).remote(shared)) == "started";
  }));
  BOOST_TEST(eventually([] { return !get_actor<tally>("theirs").has_value(); }));
}

BOOST_AUTO_TEST_CASE(status_lists_each_nodes_objects_tasks_and_actors) {
  auto named = actor(tally::create).name("counted").remote(0);
  auto there = actor(tally::create).node(workers[0].id).remote(0);
  BOOST_TEST(get(there.task(&tally::where).remote()) == pid_of(0));
  auto data = put(std::vector<std::uint8_t>(1 << 20, 1));
  // What `rustyray status` shows: asked of every node through the head.
  auto all = nodes(address, "test-token");
  BOOST_REQUIRE(all.size() == 3u);
  for (const auto& n : all) {
    if (n.id == workers[0].id) {
      BOOST_TEST(n.actors.at("alive") == 1u);
      BOOST_TEST(n.named_actors.empty());
    } else if (n.head) {
      BOOST_TEST(n.objects >= 1u);
      BOOST_TEST(n.object_bytes >= std::uint64_t{1} << 20);
      BOOST_TEST(n.actors.at("alive") == 1u);
      BOOST_TEST(n.tasks.count("queued") == 1u); // reported, though none waits
      BOOST_REQUIRE(n.named_actors.size() == 1u);
      BOOST_TEST(n.named_actors[0] == get_namespace() + "/counted");
    } else {
      BOOST_TEST(n.actors.count("alive") == 0u);
    }
  }
  kill(named);
}

BOOST_AUTO_TEST_CASE(calls_fail_with_actor_died_when_the_host_dies) {
  auto h = actor(tally::create).node(workers[0].id).remote(0);
  BOOST_TEST(get(h.task(&tally::add).remote(1)) == 1);
  workers[0].process->kill();
  BOOST_CHECK(test::code_of([&] { (void)get(h.task(&tally::add).remote(1), 20s); })
              == errc::actor_died);
}

BOOST_AUTO_TEST_SUITE_END()

struct gpu_cluster : cluster_fixture {
  gpu_cluster() : cluster_fixture(2, R"({"GPU": 1})") {}
};

BOOST_FIXTURE_TEST_SUITE(placement, gpu_cluster)

BOOST_AUTO_TEST_CASE(an_actor_asking_for_a_gpu_starts_on_the_node_that_offers_one) {
  auto h = actor(tally::create).resources({{"GPU", 1}}).remote(0);
  BOOST_TEST(get(h.task(&tally::where).remote()) == pid_of(0));
  // The GPU is held for the actor's lifetime: a task asking for one waits.
  auto usual = actor(tally::create).remote(0);
  BOOST_TEST(get(usual.task(&tally::where).remote()) == own_pid());
}

BOOST_AUTO_TEST_SUITE_END()
