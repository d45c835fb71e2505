#define BOOST_TEST_MODULE actors_calls
#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>
#include <unordered_set>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actor_support.hpp"
#include "conditions.hpp"
#include "sync.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::Counter;
using test::runtime_fixture;

namespace {

int use_counter(actor_handle<Counter> counter, int x) {
  return counter.task(&Counter::add).remote(x).get();
}

/// A class whose method is virtual: a member pointer to it names no code.
class Shape {
public:
  static std::unique_ptr<Shape> create() {
    return std::make_unique<Shape>();
  }
  virtual ~Shape() = default;
  virtual int sides() const {
    throw std::logic_error("a shape without sides");
  }
};

/// Holds `slow_five` until the test opens it.
test::gate five_gate;

int slow_five() {
  if (!five_gate.pass())
    throw std::runtime_error("the test never opened five_gate");
  return 5;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(calls, runtime_fixture)

BOOST_AUTO_TEST_CASE(hundred_calls_from_one_caller_run_in_order) {
  auto counter = actor(Counter::create).remote(0);
  std::vector<object_ref<std::vector<int>>> refs;
  for (int i = 0; i < 100; ++i)
    refs.push_back(counter.task(&Counter::record).remote(i));
  auto last = refs.back().get();
  BOOST_REQUIRE_EQUAL(last.size(), 100u);
  for (int i = 0; i < 100; ++i)
    BOOST_CHECK_EQUAL(last[i], i);
  // Each result saw exactly the calls before it.
  for (int i = 0; i < 100; ++i)
    BOOST_CHECK_EQUAL(refs[i].get().size(), static_cast<std::size_t>(i + 1));
}

BOOST_AUTO_TEST_CASE(factories_returning_unique_ptr_and_ref_arguments) {
  auto start = put(40);
  auto counter = actor(Counter::create_unique).remote(start);
  auto two = put(2);
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(two).get(), 42);
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 42);
  object_ref<void> done = counter.task(&Counter::reset).remote();
  done.get();
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 0);
  // The factory's arguments are kept for restarts until the actor stops.
  test::drop_and_wait_stopped(counter);
}

BOOST_AUTO_TEST_CASE(a_call_waiting_for_a_ref_holds_later_calls_of_its_caller_only) {
  auto counter = actor(Counter::create).remote(0);
  five_gate.close();
  test::open_on_exit release{five_gate};
  auto slow = task(slow_five).remote();
  auto first = counter.task(&Counter::record).remote(slow); // waits for the gate
  auto second = counter.task(&Counter::record).remote(1);
  // Another caller (thread) is not held behind the waiting call: its call
  // runs while the gate is still closed.
  auto other = std::async(std::launch::async,
                          [&] { return counter.task(&Counter::record).remote(100).get(); });
  BOOST_REQUIRE(test::ready_within(other));
  auto seen_by_other = other.get();
  BOOST_CHECK_EQUAL(seen_by_other.size(), 1u);
  // The caller's own later call is held behind its waiting first one.
  BOOST_CHECK(wait(std::vector{second}, 1, 0ms).ready.empty());
  five_gate.open();
  auto after = second.get();
  BOOST_REQUIRE_EQUAL(after.size(), 3u);
  BOOST_CHECK_EQUAL(after[0], 100);
  BOOST_CHECK_EQUAL(after[1], 5); // the first call, once its ref existed
  BOOST_CHECK_EQUAL(after[2], 1); // then the second
  BOOST_CHECK_EQUAL(first.get().size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_method_that_throws_stores_a_task_error_and_the_actor_lives_on) {
  auto counter = actor(Counter::create).remote(7);
  auto failed = counter.task(&Counter::fail).remote(std::string{"no way"});
  try {
    failed.get();
    BOOST_FAIL("expected task_error");
  } catch (const task_error& e) {
    std::string what = e.what();
    BOOST_CHECK(what.find("std::invalid_argument") != std::string::npos);
    BOOST_CHECK(what.find("no way") != std::string::npos);
    BOOST_CHECK(what.find("Counter") != std::string::npos);
  }
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(1).get(), 8);
}

// Counter::fail is not registered: its name comes from the program's symbols.
BOOST_AUTO_TEST_CASE(an_unregistered_method_is_named_class_and_method_in_errors) {
  auto counter = actor(Counter::create).remote(7);
  try {
    counter.task(&Counter::fail).remote(std::string{"no way"}).get();
    BOOST_FAIL("expected task_error");
  } catch (const task_error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("actor method rustyray::test::Counter::fail of") != std::string::npos,
               what);
  }
  // A virtual method has no address of its own: the message says how to
  // name it.
  auto shape = actor(Shape::create).remote();
  try {
    shape.task(&Shape::sides).remote().get();
    BOOST_FAIL("expected task_error");
  } catch (const task_error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("int ((anonymous namespace)::Shape::*)() const") != std::string::npos,
               what);
    BOOST_TEST(what.find("RUSTYRAY_REMOTE") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE(an_argument_holding_an_error_fails_the_call_only) {
  auto counter = actor(Counter::create).remote(1);
  auto bad = test::make_pending<int>();
  test::fail(bad, errc::task_failed, "upstream broke");
  auto call = counter.task(&Counter::add).remote(bad);
  try {
    call.get();
    BOOST_FAIL("expected an error");
  } catch (const error& e) {
    BOOST_CHECK(std::string{e.what()}.find("upstream broke") != std::string::npos);
  }
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(1).get(), 2);
}

BOOST_AUTO_TEST_CASE(a_named_call_goes_by_its_name_in_errors) {
  auto counter = actor(Counter::create).remote(1);
  try {
    counter.task(&Counter::fail).name("checkout").remote(std::string{"card declined"}).get();
    BOOST_FAIL("expected an error");
  } catch (const error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("actor method checkout of") != std::string::npos, what);
    BOOST_TEST(what.find("card declined") != std::string::npos, what);
  }
  // Unnamed, the method's own name.
  try {
    counter.task(&Counter::fail).remote(std::string{"again"}).get();
    BOOST_FAIL("expected an error");
  } catch (const error& e) {
    BOOST_TEST(std::string{e.what()}.find("Counter::fail") != std::string::npos, e.what());
  }
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).name("plus").remote(1).get(), 2);
}

BOOST_AUTO_TEST_CASE(a_handle_passed_to_a_task_is_used_by_the_task) {
  auto counter = actor(Counter::create).remote(10);
  BOOST_CHECK_EQUAL(task(use_counter).remote(counter, 5).get(), 15);
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 15);
}

BOOST_AUTO_TEST_CASE(a_handle_travels_through_the_store_and_through_bytes) {
  auto counter = actor(Counter::create).remote(1);
  auto stored = put(counter);
  auto back = stored.get();
  BOOST_CHECK((back == counter));
  BOOST_CHECK_EQUAL(back.task(&Counter::add).remote(1).get(), 2);

  caf::actor_system& sys = internal::current_or_throw()->system();
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  BOOST_REQUIRE(!sink(counter));
  BOOST_CHECK_EQUAL(bytes.size(), sizeof(object_id)); // the ID and nothing else
  actor_handle<Counter> loaded;
  caf::binary_deserializer source{sys, bytes};
  BOOST_REQUIRE(!source(loaded));
  BOOST_CHECK((loaded == counter));
  BOOST_CHECK_EQUAL(loaded.task(&Counter::add).remote(1).get(), 3);

  std::unordered_set<actor_handle<Counter>> set{counter, back, loaded};
  BOOST_CHECK_EQUAL(set.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_default_handle_fails_calls_with_actor_died) {
  actor_handle<Counter> none;
  BOOST_CHECK(none.id().is_nil());
  BOOST_CHECK(!none.caf_handle());
  auto call = none.task(&Counter::value).remote();
  BOOST_CHECK(test::code_of([&] { call.get(); }) == errc::actor_died);
}

BOOST_AUTO_TEST_CASE(a_ref_copied_into_a_call_that_cannot_run_keeps_the_callers_object) {
  // The copy's reference is counted in the submission's trip through the
  // object table. A call that fails before that trip drops the copy: its
  // count must come first, or the caller's own ref loses the object.
  auto arg = put(41);
  actor_handle<Counter> none;
  auto call = none.task(&Counter::add).remote(arg);
  BOOST_CHECK(test::code_of([&] { call.get(); }) == errc::actor_died);
  BOOST_CHECK_EQUAL(arg.get(), 41);
  auto counter = actor(Counter::create).remote(1);
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(arg).get(), 42);
  BOOST_CHECK_EQUAL(arg.get(), 41);
}

BOOST_AUTO_TEST_CASE(many_threads_call_one_actor_without_losing_a_call) {
  auto counter = actor(Counter::create).remote(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      std::vector<object_ref<int>> refs;
      for (int i = 0; i < 500; ++i)
        refs.push_back(counter.task(&Counter::add).remote(1));
      (void)get(refs);
    });
  for (auto& t : threads)
    t.join();
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 8 * 500);
}

BOOST_AUTO_TEST_CASE(max_concurrency_runs_calls_at_once) {
  struct Meeting {
    static Meeting create() {
      return {};
    }
    // Returns only once two calls are inside at the same time (false if
    // they were not within 30 s).
    bool meet() {
      return both_inside->arrive_and_wait();
    }
    std::shared_ptr<test::latch> both_inside = std::make_shared<test::latch>(2);
  };
  auto meeting = actor(Meeting::create).max_concurrency(2).remote();
  auto a = meeting.task(&Meeting::meet).remote();
  auto b = meeting.task(&Meeting::meet).remote();
  BOOST_CHECK(a.get());
  BOOST_CHECK(b.get());
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused) {
  BOOST_CHECK(test::code_of([] { (void)actor(Counter::create).max_restarts(-2).remote(0); })
              == errc::invalid_argument);
  BOOST_CHECK(test::code_of([] { (void)actor(Counter::create).max_concurrency(0).remote(0); })
              == errc::invalid_argument);
  BOOST_CHECK(test::code_of([] { exit_actor(); }) == errc::invalid_argument);
  BOOST_CHECK(!was_restarted());
}

BOOST_AUTO_TEST_CASE(an_argument_freed_after_submission_fails_the_call_with_object_lost) {
  auto counter = actor(Counter::create).remote(0);
  // The first call waits for `gate`, and holds the later calls of this caller.
  auto gate = test::make_pending<int>();
  auto first = counter.task(&Counter::add).remote(gate);
  auto ready = put(5);
  auto pending = test::make_pending<int>();
  auto with_ready = counter.task(&Counter::add).remote(ready);
  auto with_pending = counter.task(&Counter::add).remote(pending);
  BOOST_REQUIRE(!test::fulfil(pending, 7));
  // Both arguments hold values when their calls were queued, and are pinned.
  free(ready);
  free(pending);
  BOOST_REQUIRE(!test::fulfil(gate, 1));
  BOOST_CHECK_EQUAL(first.get(), 1);
  BOOST_CHECK(test::code_of([&] { (void)with_ready.get(); }) == errc::object_lost);
  BOOST_CHECK(test::code_of([&] { (void)with_pending.get(); }) == errc::object_lost);
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 1);
}

BOOST_AUTO_TEST_SUITE_END()
