#define BOOST_TEST_MODULE actors_lifecycle
#include <boost/test/unit_test.hpp>

#include <future>
#include <set>
#include <thread>

#include "actor_support.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::Counter;
using test::hooks;
using test::runtime_fixture;

namespace {

struct hooks_reset : runtime_fixture {
  hooks_reset() {
    hooks.reset();
  }
};

struct Broken {
  static Broken create() {
    throw std::runtime_error("no database");
  }
  int value() {
    return 1;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(lifecycle, hooks_reset)

BOOST_AUTO_TEST_CASE(on_start_runs_before_calls_and_last_handle_drop_runs_on_stop) {
  {
    auto counter = actor(Counter::create).remote(0);
    BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(1).get(), 1);
    BOOST_CHECK_EQUAL(hooks.starts.load(), 1);
    // Queued calls still run after the last handle is gone: the first holds
    // the others in the queue until the handle was dropped.
    test::holding_slow_calls hold;
    for (int i = 0; i < 20; ++i)
      (void)counter.task(&Counter::slow_add).remote(1);
    BOOST_REQUIRE(test::slow_calls_started(1));
    test::drop_and_wait_stopped(counter, [&] { hold.release(); });
  }
  BOOST_CHECK_EQUAL(hooks.stops.load(), 1);
  BOOST_CHECK_EQUAL(hooks.calls_before_stop.load(), 21);
}

BOOST_AUTO_TEST_CASE(named_actors_are_found_from_other_threads_and_names_are_unique) {
  auto counter = actor(Counter::create).name("shared").remote(5);
  auto from_thread = std::async(std::launch::async, [] {
    auto found = get_actor<Counter>("shared");
    BOOST_REQUIRE(found.has_value());
    return found->task(&Counter::add).remote(1).get();
  });
  BOOST_CHECK_EQUAL(from_thread.get(), 6);
  BOOST_CHECK(!get_actor<Counter>("nobody").has_value());
  BOOST_CHECK(test::code_of([] { (void)get_actor<Broken>("shared"); }) == errc::type_mismatch);
  BOOST_CHECK(test::code_of([] { (void)actor(Counter::create).name("shared").remote(0); })
              == errc::name_taken);
  // A named actor lives on without handles.
  auto id = counter.id();
  counter = actor_handle<Counter>{};
  auto again = get_actor<Counter>("shared");
  BOOST_REQUIRE(again.has_value());
  BOOST_CHECK((again->id() == id));
  BOOST_CHECK_EQUAL(again->task(&Counter::value).remote().get(), 6);
  kill(*again);
  BOOST_CHECK(!get_actor<Counter>("shared").has_value());
  test::drop_and_wait_stopped(*again);
}

BOOST_AUTO_TEST_CASE(the_same_name_in_two_namespaces_is_two_actors) {
  // Without config.ray_namespace a runtime has an anonymous namespace of its own.
  auto own = get_namespace();
  BOOST_CHECK_EQUAL(own.rfind("anonymous-", 0), 0u);
  auto here = actor(Counter::create).name("worker").remote(1);
  auto there = actor(Counter::create).name("worker", "team").remote(100);
  BOOST_CHECK_EQUAL(here.task(&Counter::add).remote(1).get(), 2);
  BOOST_CHECK_EQUAL(there.task(&Counter::add).remote(1).get(), 101);

  auto found_here = get_actor<Counter>("worker");
  auto found_explicitly = get_actor<Counter>("worker", own);
  auto found_there = get_actor<Counter>("worker", "team");
  BOOST_REQUIRE(found_here && found_explicitly && found_there);
  BOOST_CHECK((found_here->id() == here.id()));
  BOOST_CHECK((found_explicitly->id() == here.id()));
  BOOST_CHECK((found_there->id() == there.id()));
  BOOST_CHECK(!get_actor<Counter>("worker", "elsewhere").has_value());
  BOOST_CHECK(!get_actor<Counter>("worker-2", "team").has_value());

  // Names are unique per namespace; the message names the namespace.
  try {
    (void)actor(Counter::create).name("worker", "team").remote(0);
    BOOST_FAIL("a second \"worker\" in \"team\" was created");
  } catch (const error& e) {
    BOOST_CHECK(e.code() == errc::name_taken);
    BOOST_CHECK_NE(std::string{e.what()}.find("namespace \"team\""), std::string::npos);
  }
  BOOST_CHECK(test::code_of([] { (void)actor(Counter::create).name("worker", "").remote(0); })
              == errc::invalid_argument);
  BOOST_CHECK(test::code_of([] { (void)actor(Counter::create).name("", "team").remote(0); })
              == errc::invalid_argument);

  // state() shows each named actor's namespace and the runtime's own.
  auto snapshot = state();
  BOOST_CHECK_EQUAL(snapshot["node"]["namespace"], own);
  std::set<std::string> spaces;
  for (const auto& a : snapshot["actors"])
    if (a["name"] == "worker")
      spaces.insert(a["namespace"].get<std::string>());
  BOOST_CHECK((spaces == std::set<std::string>{own, "team"}));

  // Killing one leaves the other, and frees only its own name.
  kill(there);
  BOOST_CHECK(!get_actor<Counter>("worker", "team").has_value());
  BOOST_CHECK(get_actor<Counter>("worker").has_value());
  auto again = actor(Counter::create).name("worker", "team").remote(7);
  BOOST_CHECK_EQUAL(again.task(&Counter::value).remote().get(), 7);
  kill(again);
  kill(here);
}

BOOST_AUTO_TEST_CASE(config_ray_namespace_names_the_runtime_namespace) {
  shutdown();
  auto cfg = test::small_config();
  cfg.ray_namespace = "jobs";
  init(cfg);
  BOOST_CHECK_EQUAL(get_namespace(), "jobs");
  auto counter = actor(Counter::create).name("c").remote(3);
  auto found = get_actor<Counter>("c", "jobs");
  BOOST_REQUIRE(found.has_value());
  BOOST_CHECK_EQUAL(found->task(&Counter::value).remote().get(), 3);
  kill(counter);
  shutdown();
  // Each runtime without a namespace gets a new anonymous one.
  init(test::small_config());
  auto first = get_namespace();
  shutdown();
  init(test::small_config());
  BOOST_CHECK_NE(get_namespace(), first);
  shutdown();
  BOOST_CHECK(test::code_of([] { (void)get_namespace(); }) == errc::runtime_not_initialized);
  init(test::small_config()); // for the fixture
}

BOOST_AUTO_TEST_CASE(kill_fails_pending_and_later_calls_and_runs_on_stop) {
  auto counter = actor(Counter::create).remote(0);
  test::holding_slow_calls hold;
  auto slow = counter.task(&Counter::slow_add).remote(1); // running when killed
  std::vector<object_ref<int>> pending;
  for (int i = 0; i < 50; ++i)
    pending.push_back(counter.task(&Counter::slow_add).remote(1));
  BOOST_REQUIRE(test::slow_calls_started(1));
  kill(counter); // while `slow` is held: every other call was made before it
  hold.release();
  int died = test::count_actor_died(pending);
  BOOST_CHECK_EQUAL(died, 50); // calls made before kill returned, and not running, fail
  BOOST_CHECK(test::code_of([&] { counter.task(&Counter::value).remote().get(); })
              == errc::actor_died);
  BOOST_CHECK_EQUAL(hooks.stops.load(), 1);
  (void)slow.get(); // the running call finished
}

BOOST_AUTO_TEST_CASE(kill_overtakes_a_burst_of_slow_calls_to_a_running_actor) {
  auto counter = actor(Counter::create).remote(0);
  BOOST_REQUIRE_EQUAL(counter.task(&Counter::value).remote().get(), 0); // running
  // The burst reaches the host in one batch; it must not run the batch
  // through before it looks at its mailbox again.
  // The first call is held until the kill is in the mailbox; a host that ran
  // the rest of the batch before reading it would run them all.
  test::holding_slow_calls hold;
  std::vector<object_ref<int>> pending;
  for (int i = 0; i < 50; ++i)
    pending.push_back(counter.task(&Counter::slow_add).remote(1));
  BOOST_REQUIRE(test::slow_calls_started(1));
  kill(counter);
  hold.release();
  int died = test::count_actor_died(pending);
  BOOST_CHECK_EQUAL(died, 49); // all but the one that was running
}

// A host awake in a stream of calls reads its inbox before its mailbox,
// where `kill` waits: a call made after `kill` returned must still meet the
// kill's outcome, never the old instance. Many rounds, since it is a race.
BOOST_AUTO_TEST_CASE(a_call_after_kill_never_runs_on_the_killed_instance) {
  for (int round = 0; round < 300; ++round) {
    auto counter = actor(Counter::create).remote(0);
    std::vector<object_ref<int>> stream;
    for (int i = 0; i < 200; ++i)
      stream.push_back(counter.task(&Counter::add).remote(1));
    kill(counter);
    auto after = counter.task(&Counter::value).remote();
    BOOST_REQUIRE_MESSAGE(test::code_of([&] { (void)after.get(); }) == errc::actor_died,
                          "round " << round << ": a call after kill ran");
  }
}

BOOST_AUTO_TEST_CASE(a_call_after_a_restarting_kill_runs_on_the_new_instance) {
  for (int round = 0; round < 300; ++round) {
    auto counter = actor(Counter::create).max_restarts(1).remote(7);
    std::vector<object_ref<int>> stream;
    for (int i = 0; i < 200; ++i)
      stream.push_back(counter.task(&Counter::add).remote(1));
    kill(counter, /*no_restart=*/false);
    auto seen = counter.task(&Counter::value).remote().get();
    BOOST_REQUIRE_MESSAGE(seen == 7, "round " << round << ": a call after kill saw " << seen
                                              << ", not the new instance's 7");
    kill(counter);
  }
}

BOOST_AUTO_TEST_CASE(a_kill_before_the_factory_ran_counts_as_a_restart_or_ends_the_actor) {
  auto start = test::make_pending<int>();
  auto counter = actor(Counter::create).max_restarts(1).remote(start);
  auto queued = counter.task(&Counter::add).remote(1);
  kill(counter, /*no_restart=*/false);
  auto later = counter.task(&Counter::add).remote(2);
  BOOST_REQUIRE(!test::fulfil(start, 5));
  BOOST_CHECK(test::code_of([&] { (void)queued.get(); }) == errc::actor_died);
  BOOST_CHECK_EQUAL(later.get(), 7);
  BOOST_CHECK(counter.task(&Counter::restarted).remote().get());
  BOOST_CHECK_EQUAL(hooks.starts.load(), 1); // built once: the kill came first
  // No restart left: a second such kill ends it for good.
  auto gate = test::make_pending<int>();
  auto once = actor(Counter::create).remote(gate);
  kill(once, /*no_restart=*/false);
  auto after = once.task(&Counter::value).remote();
  BOOST_REQUIRE(!test::fulfil(gate, 1));
  BOOST_CHECK(test::code_of([&] { (void)after.get(); }) == errc::actor_died);
  BOOST_CHECK_EQUAL(hooks.starts.load(), 1);
  // Their hosts hold the factories' arguments until they stop.
  test::drop_and_wait_stopped(counter);
  test::drop_and_wait_stopped(once);
}

BOOST_AUTO_TEST_CASE(restart_rebuilds_the_state_from_the_factory) {
  auto counter = actor(Counter::create).max_restarts(2).remote(100);
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(5).get(), 105);
  BOOST_CHECK(!counter.task(&Counter::restarted).remote().get());
  kill(counter, /*no_restart=*/false);
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 100);
  BOOST_CHECK(counter.task(&Counter::restarted).remote().get());
  // exit_actor: that call fails, the actor comes back once more.
  BOOST_CHECK(test::code_of([&] { counter.task(&Counter::quit).remote().get(); })
              == errc::actor_died);
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(1).get(), 101);
  // No restarts left: dead for good.
  BOOST_CHECK(test::code_of([&] { counter.task(&Counter::quit).remote().get(); })
              == errc::actor_died);
  BOOST_CHECK(test::code_of([&] { counter.task(&Counter::value).remote().get(); })
              == errc::actor_died);
  BOOST_CHECK_EQUAL(hooks.starts.load(), 3);
}

BOOST_AUTO_TEST_CASE(max_restarts_minus_one_rebuilds_the_actor_every_time) {
  auto counter = actor(Counter::create).max_restarts(-1).remote(100);
  for (int i = 0; i < 12; ++i) {
    BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(1).get(), 101);
    if (i % 2 == 0)
      kill(counter, /*no_restart=*/false);
    else
      BOOST_CHECK(test::code_of([&] { counter.task(&Counter::quit).remote().get(); })
                  == errc::actor_died);
    BOOST_CHECK(counter.task(&Counter::restarted).remote().get());
  }
  BOOST_CHECK_EQUAL(hooks.starts.load(), 13);
  // Killed for good, it stays dead, and says nothing of restarts left.
  kill(counter, /*no_restart=*/true);
  try {
    counter.task(&Counter::value).remote().get();
    BOOST_FAIL("expected actor_died");
  } catch (const error& e) {
    BOOST_CHECK(e.code() == errc::actor_died);
    BOOST_CHECK(std::string{e.what()}.find("restarts left") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_factory_that_throws_fails_every_call_with_the_cause) {
  auto broken = actor(Broken::create).remote();
  for (int i = 0; i < 3; ++i) {
    try {
      broken.task(&Broken::value).remote().get();
      BOOST_FAIL("expected actor_died");
    } catch (const error& e) {
      BOOST_CHECK(e.code() == errc::actor_died);
      BOOST_CHECK(std::string{e.what()}.find("no database") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(shutdown_runs_queued_calls_then_on_stop) {
  auto counter = actor(Counter::create).remote(0);
  for (int i = 0; i < 10; ++i)
    (void)counter.task(&Counter::slow_add).remote(1);
  shutdown();
  BOOST_CHECK_EQUAL(hooks.stops.load(), 1);
  BOOST_CHECK_EQUAL(hooks.calls_before_stop.load(), 10);
  // Handles outlive the runtime safely.
  BOOST_CHECK(!counter.caf_handle());
  BOOST_CHECK(test::code_of([&] { (void)counter.task(&Counter::value).remote(); })
              == errc::runtime_not_initialized);
}

BOOST_AUTO_TEST_SUITE_END()
