#define BOOST_TEST_MODULE actors_faults
#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

#include <caf/all.hpp>

#include "rustyray/actors/internal/actor_core.hpp"
#include "actor_support.hpp"
#include "conditions.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::Counter;
using test::hooks;

namespace {

struct fixture : test::runtime_fixture {
  fixture() {
    hooks.reset();
  }
};

/// Every ref ends within 30 s (a hang fails instead of blocking the test):
/// returns how many failed with `actor_died` (any other error fails).
template <class T>
int ended_with_actor_died(const std::vector<object_ref<T>>& refs) {
  int died = 0;
  for (const auto& ref : refs) {
    auto result = try_get(ref, 30s);
    if (result)
      continue;
    BOOST_CHECK_EQUAL(result.error().code(), static_cast<std::uint8_t>(errc::actor_died));
    ++died;
  }
  return died;
}

/// Calls queued at a counter when it is killed with a restart allowed: a
/// slow call that runs (it waits for an argument first, so that the host
/// takes every call from its inbox before it runs one, and is held until
/// the kill was sent), 19 slow calls behind it, and 5 calls waiting for
/// `pending`, all from this thread.
struct queued_at_kill {
  object_ref<int> pending = test::make_pending<int>();
  std::vector<object_ref<int>> queued;
  std::vector<object_ref<int>> waiting;

  explicit queued_at_kill(const actor_handle<Counter>& counter) {
    auto start = test::make_pending<int>();
    test::holding_slow_calls hold;
    queued.push_back(counter.task(&Counter::slow_add).remote(start));
    for (int i = 1; i < 20; ++i)
      queued.push_back(counter.task(&Counter::slow_add).remote(1));
    for (int i = 0; i < 5; ++i)
      waiting.push_back(counter.task(&Counter::add).remote(pending));
    BOOST_REQUIRE(!test::fulfil(start, 1));
    BOOST_REQUIRE(test::slow_calls_started(1));
    kill(counter, /*no_restart=*/false);
  } // `hold` lets the running call go
};

/// Waits until the CAF actor behind a handle is gone.
bool await_down(caf::actor target) {
  caf::scoped_actor self{target->home_system()};
  self->monitor(target);
  target = nullptr;
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; }, caf::after(30s) >> [] {});
  return down;
}

/// An actor whose factory fails when it rebuilds the instance.
struct Fragile {
  static Fragile create() {
    if (was_restarted())
      throw std::runtime_error("no second chance");
    return {};
  }
  int slow(int x) {
    test::slow_call();
    return x;
  }
  int echo(int x) {
    return x;
  }
};

/// Safe to call concurrently (max_concurrency): it keeps no state.
struct Sleepy {
  static Sleepy create() {
    return {};
  }
  int nap(int x) {
    test::slow_call();
    return x;
  }
};

struct Echo {
  static Echo create(int base) {
    return Echo{base};
  }
  int add(int x) {
    return base + x;
  }
  int base;
};

} // namespace

RUSTYRAY_REMOTE(Counter::create, &Counter::add, &Counter::slow_add);

BOOST_FIXTURE_TEST_SUITE(actors_faults, fixture)

BOOST_AUTO_TEST_CASE(an_untrappable_caf_kill_mid_call_fails_every_queued_call) {
  auto counter = actor(Counter::create).remote(0);
  test::holding_slow_calls hold; // the exit arrives mid-call
  std::vector<object_ref<int>> calls;
  for (int i = 0; i < 40; ++i)
    calls.push_back(counter.task(&Counter::slow_add).remote(1));
  BOOST_REQUIRE(test::slow_calls_started(1));
  auto host = counter.caf_handle();
  caf::anon_send_exit(host, caf::exit_reason::kill);
  hold.release();
  BOOST_REQUIRE(await_down(host));
  // A CAF exit does not hold the inbox as kill does: besides the running
  // call, the host may run the first of a batch it took before it read the
  // exit (it reads its mailbox after each call longer than its budget).
  BOOST_TEST(ended_with_actor_died(calls) >= 38);
  // Later calls fail at once and say what happened.
  try {
    counter.task(&Counter::value).remote().get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::actor_died);
    BOOST_TEST(e.message().find("stopped by CAF") != std::string::npos, e.message());
  }
  BOOST_TEST(hooks.stops.load() == 1); // on_stop ran, as after kill(handle)
  BOOST_TEST(!counter.caf_handle());
  BOOST_CHECK_NO_THROW(kill(counter)); // gone already: nothing to do
}

BOOST_AUTO_TEST_CASE(a_trappable_exit_message_ends_the_actor_like_kill) {
  auto counter = actor(Counter::create).name("exiting").remote(0);
  test::holding_slow_calls hold; // the exit arrives mid-call
  std::vector<object_ref<int>> calls;
  for (int i = 0; i < 40; ++i)
    calls.push_back(counter.task(&Counter::slow_add).remote(1));
  BOOST_REQUIRE(test::slow_calls_started(1));
  auto host = counter.caf_handle();
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
  hold.release();
  BOOST_REQUIRE(await_down(host));
  // A CAF exit does not hold the inbox as kill does: besides the running
  // call, the host may run the first of a batch it took before it read the
  // exit (it reads its mailbox after each call longer than its budget).
  BOOST_TEST(ended_with_actor_died(calls) >= 38);
  BOOST_TEST(code_of([&] { counter.task(&Counter::value).remote().get(30s); }) == errc::actor_died);
  // The name is free again.
  BOOST_TEST(!get_actor<Counter>("exiting").has_value());
  auto again = actor(Counter::create).name("exiting").remote(5);
  BOOST_TEST(again.task(&Counter::add).remote(1).get(30s) == 6);
  kill(again);
}

BOOST_AUTO_TEST_CASE(a_caf_exit_to_a_concurrent_actor_ends_every_call_and_its_runners) {
  auto sleepy = actor(Sleepy::create).max_concurrency(4).remote();
  std::vector<object_ref<int>> calls;
  for (int i = 0; i < 60; ++i)
    calls.push_back(sleepy.task(&Sleepy::nap).remote(i));
  BOOST_REQUIRE(test::slow_calls_started(1));
  auto host = sleepy.caf_handle();
  caf::anon_send_exit(host, caf::exit_reason::kill);
  BOOST_REQUIRE(await_down(host));
  (void)ended_with_actor_died(calls); // running ones finish, the rest fail
  BOOST_TEST(code_of([&] { sleepy.task(&Sleepy::nap).remote(0).get(30s); }) == errc::actor_died);
  // Runners left running would keep shutdown waiting: the fixture's
  // shutdown returning is part of the test.
}

BOOST_AUTO_TEST_CASE(a_caf_request_to_an_actor_killed_meanwhile_is_answered) {
  auto counter = actor(Counter::create).remote(0);
  std::vector<object_ref<int>> slow;
  for (int i = 0; i < 20; ++i)
    slow.push_back(counter.task(&Counter::slow_add).remote(1));
  BOOST_REQUIRE(test::slow_calls_started(1));
  auto iface = caf_interface(counter);
  caf::scoped_actor self{counter.caf_handle()->home_system()};
  // Whether the call runs before the kill or is failed by it, the caller
  // gets an answer: never a request that waits until its timeout.
  auto answer = self->request(iface, 30s, call_atom::value, std::string{"Counter::slow_add"},
                              caf::make_message(1));
  caf::anon_send_exit(counter.caf_handle(), caf::exit_reason::kill);
  bool answered = false;
  answer.receive([&](caf::message&) { answered = true; },
                 [&](caf::error& err) { answered = err != caf::sec::request_timeout; });
  BOOST_TEST(answered);
  (void)ended_with_actor_died(slow);
}

BOOST_AUTO_TEST_CASE(a_restart_while_calls_are_queued_fails_them_and_later_calls_run) {
  auto counter = actor(Counter::create).max_restarts(1).remote(10);
  queued_at_kill calls{counter};
  BOOST_TEST(ended_with_actor_died(calls.queued) == 19); // all but the one running
  BOOST_TEST(ended_with_actor_died(calls.waiting) == 5);
  // The new instance runs later calls, from its factory's state.
  BOOST_TEST(counter.task(&Counter::value).remote().get(30s) == 10);
  BOOST_TEST(counter.task(&Counter::restarted).remote().get(30s));
  BOOST_TEST(test::fulfil(calls.pending, 1) == caf::error{});
}

BOOST_AUTO_TEST_CASE(with_max_task_retries_the_queued_calls_run_on_the_rebuilt_instance) {
  auto counter = actor(Counter::create).max_restarts(2).max_task_retries(1).remote(10);
  queued_at_kill calls{counter};
  // The running call ended on the old instance; the queued ones ran, in
  // order, on the new one, from its factory's state.
  BOOST_TEST(calls.queued[0].get(30s) == 11);
  for (int i = 1; i < 20; ++i)
    BOOST_TEST(calls.queued[static_cast<std::size_t>(i)].get(30s) == 10 + i);
  // The calls waiting for an argument were kept too (and, this caller's,
  // come before any later call).
  BOOST_TEST(!test::fulfil(calls.pending, 1));
  for (std::size_t i = 0; i < calls.waiting.size(); ++i)
    BOOST_TEST(calls.waiting[i].get(30s) == 30 + static_cast<int>(i));
  BOOST_TEST(counter.task(&Counter::restarted).remote().get(30s));
}

BOOST_AUTO_TEST_CASE(a_call_runs_again_at_most_max_task_retries_times) {
  auto counter = actor(Counter::create).max_restarts(-1).max_task_retries(1).remote(0);
  // exit_actor ends the instance; the call after it was queued behind it.
  test::holding_slow_calls hold;
  auto start = test::make_pending<int>();
  auto held = counter.task(&Counter::slow_add).remote(start);
  auto first_exit = counter.task(&Counter::quit).remote();
  auto second_exit = counter.task(&Counter::quit).remote();
  auto survivor = counter.task(&Counter::add).remote(5);
  BOOST_REQUIRE(!test::fulfil(start, 1));
  BOOST_REQUIRE(test::slow_calls_started(1));
  hold.release();
  BOOST_TEST(held.get(30s) == 1);
  // first_exit ends instance 1: second_exit and survivor are kept (one
  // retry each used). second_exit ends instance 2: survivor has no retry
  // left and fails.
  BOOST_TEST(test::code_of([&] { first_exit.get(30s); }) == errc::actor_died);
  BOOST_TEST(test::code_of([&] { second_exit.get(30s); }) == errc::actor_died);
  BOOST_TEST(test::code_of([&] { survivor.get(30s); }) == errc::actor_died);
  BOOST_TEST(counter.task(&Counter::add).remote(2).get(30s) == 2);
  BOOST_TEST(test::code_of([] { (void)actor(Counter::create).max_task_retries(-2).remote(0); })
             == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_factory_that_throws_on_restart_fails_queued_and_later_calls) {
  auto fragile = actor(Fragile::create).max_restarts(3).remote();
  BOOST_TEST(fragile.task(&Fragile::echo).remote(1).get(30s) == 1);
  // As above: the host takes every call before the first runs, which is
  // held until the kill was sent.
  auto start = test::make_pending<int>();
  std::vector<object_ref<int>> queued;
  test::holding_slow_calls hold;
  queued.push_back(fragile.task(&Fragile::slow).remote(start));
  for (int i = 1; i < 20; ++i)
    queued.push_back(fragile.task(&Fragile::slow).remote(i));
  BOOST_REQUIRE(!test::fulfil(start, 0));
  BOOST_REQUIRE(test::slow_calls_started(1));
  kill(fragile, /*no_restart=*/false);
  hold.release();
  BOOST_TEST(ended_with_actor_died(queued) == 19); // all but the one running
  try {
    fragile.task(&Fragile::echo).remote(2).get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::actor_died);
    BOOST_TEST(e.message().find("no second chance") != std::string::npos, e.message());
  }
}

BOOST_AUTO_TEST_CASE(a_factory_whose_argument_failed_fails_every_call_with_the_cause) {
  auto broken = task([]() -> int { throw std::runtime_error("no config"); }).remote();
  auto echo = actor(Echo::create).remote(broken);
  auto call = echo.task(&Echo::add).remote(1);
  try {
    call.get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::actor_died);
    BOOST_TEST(e.message().find("no config") != std::string::npos, e.message());
  }
}

BOOST_AUTO_TEST_CASE(bad_handles_and_names_answer_with_documented_codes) {
  actor_handle<Counter> none;
  BOOST_TEST(code_of([&] { kill(none); }) == errc::invalid_argument);
  BOOST_TEST(!get_actor<Counter>("").has_value());
  BOOST_TEST(!get_actor<Counter>("nobody").has_value());
  // An empty name is no name: two such actors coexist.
  auto a = actor(Counter::create).name("").remote(1);
  auto b = actor(Counter::create).name("").remote(2);
  BOOST_TEST(a.task(&Counter::value).remote().get(30s) == 1);
  BOOST_TEST(b.task(&Counter::value).remote().get(30s) == 2);
  // Killing twice, or a stopped actor, is no error.
  kill(a);
  BOOST_CHECK_NO_THROW(kill(a));
  BOOST_TEST(code_of([&] { a.task(&Counter::value).remote().get(30s); }) == errc::actor_died);
  // A handle loaded for an actor that has stopped names no actor here.
  std::vector<char> bytes;
  auto& sys = b.caf_handle()->home_system();
  {
    caf::binary_serializer sink{sys, bytes};
    BOOST_REQUIRE(!sink(b));
  }
  auto stale_id = b.id();
  test::drop_and_wait_stopped(b);
  actor_handle<Counter> loaded;
  {
    caf::binary_deserializer source{sys, bytes};
    BOOST_REQUIRE(!source(loaded));
  }
  BOOST_TEST((loaded.id() == stale_id));
  BOOST_TEST(!loaded.caf_handle());
  BOOST_TEST(code_of([&] { loaded.task(&Counter::value).remote().get(30s); }) == errc::actor_died);
  BOOST_TEST(code_of([&] { kill(loaded); }) == errc::invalid_argument);
  // Asking plain CAF actors: an invalid handle at once, a dead one through
  // the ref.
  BOOST_TEST(code_of([] { (void)wrap(caf::actor{}).ask<int>(1); }) == errc::invalid_argument);
  auto doomed =
    sys.spawn([](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; });
  BOOST_TEST(wrap(doomed).ask<int>(3).get(30s) == 3);
  caf::anon_send_exit(doomed, caf::exit_reason::kill);
  BOOST_REQUIRE(await_down(doomed));
  BOOST_TEST(code_of([&] { wrap(doomed).ask<int>(4).get(30s); }) == errc::actor_died);
}

BOOST_AUTO_TEST_SUITE_END()
