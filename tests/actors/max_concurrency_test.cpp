#define BOOST_TEST_MODULE actors_max_concurrency
#include <boost/test/unit_test.hpp>

// Actors created with max_concurrency(n) > 1: their calls run on up to n
// runner threads that share the ready calls.

#include <future>
#include <set>
#include <thread>

#include "actor_support.hpp"
#include "sync.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::runtime_fixture;

namespace {

std::atomic<int> tally_stops{0};
std::atomic<int> tally_calls_at_stop{-1};

/// A value that exists only once the test opens the gate.
std::promise<void> gate;

int behind_gate() {
  gate.get_future().wait();
  return 5;
}

/// `Tally::slow_quit` calls that have started, and where they wait.
test::event_count slow_quits_started;
test::gate slow_quit_gate;

/// Thread-safe state, as an actor whose calls run at once needs.
struct Tally {
  static std::unique_ptr<Tally> create() {
    return std::make_unique<Tally>();
  }
  int add(int x) {
    ++calls;
    return total += x;
  }
  int slow_add(int x) {
    test::slow_call();
    return add(x);
  }
  int quit() {
    rustyray::exit_actor();
  }
  /// Ends the instance once the test opens `slow_quit_gate`.
  int slow_quit() {
    slow_quits_started.signal();
    if (!slow_quit_gate.pass())
      throw std::runtime_error("the test never opened slow_quit_gate");
    rustyray::exit_actor();
  }
  bool restarted() const {
    return rustyray::was_restarted();
  }
  int read(object_ref<int> ref) {
    return ref.get();
  }
  int open_gate() {
    gate.set_value();
    return 0;
  }
  void on_stop() {
    tally_calls_at_stop = calls.load();
    ++tally_stops;
  }
  std::atomic<int> total{0};
  std::atomic<int> calls{0};
};

/// Calls that return only once `expected` of them are inside at once
/// (false if they were not within 30 s).
struct Meeting {
  static std::unique_ptr<Meeting> create(int expected) {
    return std::make_unique<Meeting>(expected);
  }
  explicit Meeting(int expected) : all_inside(expected) {}
  bool meet() {
    return all_inside.arrive_and_wait();
  }
  test::latch all_inside;
};

struct pool_fixture : runtime_fixture {
  pool_fixture() {
    tally_stops = 0;
    tally_calls_at_stop = -1;
    test::hooks.reset();
  }
};

} // namespace

RUSTYRAY_REMOTE(Tally::create, &Tally::add);

BOOST_FIXTURE_TEST_SUITE(max_concurrency, pool_fixture)

BOOST_AUTO_TEST_CASE(calls_from_many_threads_all_run_exactly_once) {
  auto tally = actor(Tally::create).max_concurrency(4).remote();
  constexpr int threads = 4;
  constexpr int calls = 2000;
  std::vector<std::vector<int>> seen(threads);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      std::vector<object_ref<int>> refs;
      for (int i = 0; i < calls; ++i)
        refs.push_back(tally.task(&Tally::add).remote(1));
      seen[t] = get(refs);
    });
  for (auto& c : callers)
    c.join();
  // Each call saw a different running total: none ran twice, none was lost.
  std::set<int> totals;
  for (const auto& s : seen)
    totals.insert(s.begin(), s.end());
  BOOST_CHECK_EQUAL(totals.size(), static_cast<std::size_t>(threads * calls));
  BOOST_CHECK_EQUAL(*totals.begin(), 1);
  BOOST_CHECK_EQUAL(*totals.rbegin(), threads * calls);
  BOOST_CHECK_EQUAL(tally.task(&Tally::add).remote(0).get(), threads * calls);
}

BOOST_AUTO_TEST_CASE(blocked_calls_get_more_runners_than_the_machine_has_cores) {
  // Only as many runners as cores start at once; blocked ones make room.
  int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 2;
  auto meeting = actor(Meeting::create).max_concurrency(n).remote(n);
  std::vector<object_ref<bool>> refs;
  for (int i = 0; i < n; ++i)
    refs.push_back(meeting.task(&Meeting::meet).remote());
  for (auto& ref : refs)
    BOOST_CHECK(ref.get());
}

BOOST_AUTO_TEST_CASE(calls_blocked_in_get_let_the_next_calls_run) {
  gate = {};
  int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 2;
  auto tally = actor(Tally::create).max_concurrency(n + 1).remote();
  auto five = task(behind_gate).remote();
  std::vector<object_ref<int>> readers;
  for (int i = 0; i < n; ++i)
    readers.push_back(tally.task(&Tally::read).remote(five));
  auto opener = tally.task(&Tally::open_gate).remote();
  for (auto& ref : readers)
    BOOST_CHECK_EQUAL(ref.get(), 5);
  BOOST_CHECK_EQUAL(opener.get(), 0);
}

BOOST_AUTO_TEST_CASE(a_call_waiting_for_a_ref_holds_no_other_call) {
  gate = {};
  auto tally = actor(Tally::create).max_concurrency(2).remote();
  auto waiting = tally.task(&Tally::add).remote(task(behind_gate).remote());
  std::vector<object_ref<int>> later;
  for (int i = 0; i < 10; ++i)
    later.push_back(tally.task(&Tally::add).remote(1));
  auto done = wait(later, 10, 30s);
  BOOST_CHECK_EQUAL(done.ready.size(), 10u);
  BOOST_CHECK(wait(std::vector{waiting}, 1, 0ms).ready.empty()); // still waiting for its argument
  gate.set_value();
  BOOST_CHECK_EQUAL(waiting.get(), 15);
}

BOOST_AUTO_TEST_CASE(exit_actor_restarts_the_instance_for_later_calls) {
  auto tally = actor(Tally::create).max_concurrency(3).max_restarts(1).remote();
  BOOST_CHECK_EQUAL(tally.task(&Tally::add).remote(7).get(), 7);
  BOOST_CHECK(test::code_of([&] { tally.task(&Tally::quit).remote().get(); }) == errc::actor_died);
  // The new instance starts from the factory.
  BOOST_CHECK_EQUAL(tally.task(&Tally::add).remote(1).get(), 1);
  BOOST_CHECK(tally.task(&Tally::restarted).remote().get());
  // No restarts left: the next exit is final.
  BOOST_CHECK(test::code_of([&] { tally.task(&Tally::quit).remote().get(); }) == errc::actor_died);
  BOOST_CHECK(test::code_of([&] { tally.task(&Tally::add).remote(1).get(); }) == errc::actor_died);
  BOOST_CHECK_EQUAL(tally_stops.load(), 2);
}

BOOST_AUTO_TEST_CASE(an_exit_of_the_old_instance_after_a_restart_leaves_the_new_one_alone) {
  auto tally = actor(Tally::create).max_concurrency(2).max_restarts(1).remote();
  BOOST_REQUIRE_EQUAL(tally.task(&Tally::add).remote(1).get(), 1);
  slow_quits_started.reset();
  slow_quit_gate.close();
  test::open_on_exit release{slow_quit_gate};
  auto quitting = tally.task(&Tally::slow_quit).remote();
  BOOST_REQUIRE(slow_quits_started.wait_for(1));
  kill(tally, /*no_restart=*/false); // while the first instance runs slow_quit
  BOOST_CHECK_EQUAL(tally.task(&Tally::add).remote(5).get(30s), 5); // the new instance
  slow_quit_gate.open(); // the old instance's exit comes after the restart
  BOOST_CHECK(test::code_of([&] { (void)quitting.get(); }) == errc::actor_died);
  // That exit ended the first instance, which was gone already: the new one
  // lives on (it has no restart left, so ending it would be final).
  BOOST_CHECK_EQUAL(tally.task(&Tally::add).remote(1).get(), 6);
  BOOST_CHECK(tally.task(&Tally::restarted).remote().get());
}

BOOST_AUTO_TEST_CASE(kill_fails_the_queued_calls) {
  auto tally = actor(Tally::create).max_concurrency(2).remote();
  test::holding_slow_calls hold; // both runners stay in their calls
  std::vector<object_ref<int>> refs;
  for (int i = 0; i < 60; ++i)
    refs.push_back(tally.task(&Tally::slow_add).remote(1));
  BOOST_REQUIRE(test::slow_calls_started(2));
  kill(tally);
  // The host is free (the runners hold the calls): the kill fails the
  // queued calls before the running ones end.
  BOOST_REQUIRE(!wait(std::vector{refs.back()}, 1, 30s).ready.empty());
  hold.release();
  int died = 0;
  int ran = 0;
  for (auto& ref : refs)
    try {
      ref.get();
      ++ran;
    } catch (const error& e) {
      BOOST_CHECK(e.code() == errc::actor_died);
      ++died;
    }
  BOOST_CHECK_EQUAL(died + ran, 60);
  BOOST_CHECK(ran <= 2); // only the two held by the runners
  BOOST_CHECK(test::code_of([&] { tally.task(&Tally::add).remote(1).get(); }) == errc::actor_died);
  BOOST_CHECK_EQUAL(tally_stops.load(), 1);
}

BOOST_AUTO_TEST_CASE(plain_caf_code_calls_a_concurrent_actor) {
  auto tally = actor(Tally::create).max_concurrency(2).remote();
  actor_interface iface = caf_interface(tally);
  caf::scoped_actor self{tally.caf_handle()->home_system()};
  for (int i = 1; i <= 3; ++i) {
    int result = 0;
    self
      ->request(iface, caf::infinite, call_atom::value, std::string{"Tally::add"},
                caf::make_message(10))
      .receive([&](caf::message& reply) { result = reply.get_as<int>(0); },
               [&](caf::error& err) { BOOST_FAIL(self->system().render(err)); });
    BOOST_CHECK_EQUAL(result, 10 * i);
  }
}

BOOST_AUTO_TEST_CASE(the_last_handle_drop_runs_queued_calls_then_on_stop) {
  auto tally = actor(Tally::create).max_concurrency(4).remote();
  test::holding_slow_calls hold; // calls are queued when the handle goes
  std::vector<object_ref<int>> refs;
  for (int i = 0; i < 20; ++i)
    refs.push_back(tally.task(&Tally::slow_add).remote(1));
  BOOST_REQUIRE(test::slow_calls_started(1));
  test::drop_and_wait_stopped(tally, [&] { hold.release(); });
  BOOST_CHECK_EQUAL(tally_stops.load(), 1);
  BOOST_CHECK_EQUAL(tally_calls_at_stop.load(), 20);
  std::set<int> totals;
  for (auto& ref : refs)
    totals.insert(ref.get());
  BOOST_CHECK_EQUAL(totals.size(), 20u);
}

BOOST_AUTO_TEST_SUITE_END()
