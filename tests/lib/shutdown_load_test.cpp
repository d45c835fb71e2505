#define BOOST_TEST_MODULE lib_shutdown_load
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "conditions.hpp"
#include "runtime_fixture.hpp"
#include "sync.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

int plus1(int x) {
  return x + 1;
}

/// A task that submits and waits for another: nested work in flight.
int nested(int x) {
  return task(plus1).remote(x).get() + 1;
}

/// Work that takes a while (a sleep), so that shutdown meets tasks in
/// flight; no outcome the test checks depends on how long.
int slow(int x) {
  std::this_thread::sleep_for(2ms);
  return x;
}

struct Tally {
  static Tally create() {
    return {};
  }
  int add(int x) {
    total += x;
    return total;
  }
  int total = 0;
};

/// What one thread saw, counted by kind: the test checks the sums.
struct outcome {
  std::atomic<int> values{0};
  std::atomic<int> shut_down{0};  // runtime_not_initialized, or a task that met it
  std::atomic<int> actor_gone{0}; // actor_died: an actor stopped by shutdown
  std::atomic<int> other{0};      // anything else: a failure of the test
  std::atomic<int> ops{0};
  std::string first_other; // written once, by the thread that owns it
};

/// Runs `op` until the runtime refuses new work; every failure must be one
/// of the documented ones. Counts `busy` down once, at the 20th operation.
template <class Op>
void hammer(outcome& out, test::latch& busy, Op op) {
  for (;;) {
    try {
      op();
      ++out.values;
    } catch (const error& e) {
      if (e.code() == errc::runtime_not_initialized) {
        ++out.shut_down;
        if (!is_initialized())
          return; // refused for good
      } else if (e.code() == errc::actor_died) {
        ++out.actor_gone;
      } else if (e.code() == errc::task_failed
                 && e.message().find("shutdown") != std::string::npos) {
        ++out.shut_down; // a task whose own get or submission met the shutdown
      } else {
        if (out.other++ == 0)
          out.first_other = e.what();
      }
    }
    if (++out.ops == 20)
      busy.count_down();
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(shutdown_under_load_from_many_threads_returns_and_every_get_ends) {
  auto cfg = test::small_config();
  init(cfg);
  std::array<outcome, 10> outcomes;
  std::vector<std::future<void>> threads;
  auto tally = std::make_shared<actor_handle<Tally>>(actor(Tally::create).remote());
  test::latch all_busy{static_cast<std::ptrdiff_t>(outcomes.size())};
  auto spawn = [&](auto op) {
    auto& out = outcomes[threads.size()];
    threads.push_back(
      std::async(std::launch::async, [&out, &all_busy, op] { hammer(out, all_busy, op); }));
  };
  // Tasks, one at a time and in bursts, nested and slow.
  for (int t = 0; t < 2; ++t)
    spawn([] { (void)task(plus1).remote(1).get(); });
  spawn([] {
    std::vector<object_ref<int>> refs;
    for (int i = 0; i < 50; ++i)
      refs.push_back(task(slow).remote(i));
    (void)get(refs);
  });
  spawn([] { (void)task(nested).remote(1).get(); });
  // Actor calls, through one shared actor and through actors of their own.
  for (int t = 0; t < 2; ++t)
    spawn([tally] { (void)tally->task(&Tally::add).remote(1).get(); });
  spawn([] {
    auto own = actor(Tally::create).remote();
    (void)own.task(&Tally::add).remote(2).get();
  });
  // Objects: put, wait and get.
  spawn([] {
    std::vector<object_ref<int>> refs{put(1), put(2), task(slow).remote(3)};
    (void)wait(refs, 3, 10s);
    (void)get(refs);
  });
  spawn([] {
    auto ref = task(slow).remote(1);
    (void)get(ref, 10s);
  });
  spawn([] { (void)get(put(std::vector<std::uint8_t>(4096, 1))); });
  // Shut down once every thread is busy.
  BOOST_REQUIRE(all_busy.wait());
  auto stopping = std::async(std::launch::async, [] { shutdown(); });
  BOOST_REQUIRE(test::ready_within(stopping, 60s));
  stopping.get();
  BOOST_TEST(!is_initialized());
  // Every thread ends: its last get was answered.
  for (auto& t : threads)
    BOOST_REQUIRE(test::ready_within(t, 30s));
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    auto& out = outcomes[i];
    BOOST_TEST(out.other.load() == 0, "thread " << i << ": " << out.first_other);
    BOOST_TEST(out.values.load() > 0, "thread " << i << " did no work");
    BOOST_TEST(out.shut_down.load() > 0, "thread " << i << " never saw the shutdown");
  }
  tally.reset(); // a handle outliving the runtime is inert
  // The runtime comes back cleanly.
  init(cfg);
  BOOST_TEST(task(plus1).remote(1).get(10s) == 2);
  BOOST_TEST(test::tracked_objects() == 0u);
  shutdown();
}

BOOST_AUTO_TEST_CASE(shutdown_on_another_thread_than_init_and_spawns_returns) {
  // CAF keeps a reference to its logger in every thread that spawned an
  // actor or used a scoped actor, and ~actor_system waits for the logger:
  // the threads that did so here must not hold the shutdown up.
  init(test::small_config());
  auto tally = actor(Tally::create).remote(); // a spawn on this thread
  BOOST_TEST(tally.task(&Tally::add).remote(1).get() == 1);
  BOOST_TEST(state()["node"]["workers"]["limit"] == 2); // a scoped actor on this thread
  auto helper = std::async(std::launch::async, [] {
    auto other = actor(Tally::create).remote(); // and on another, still alive
    return other.task(&Tally::add).remote(2).get();
  });
  BOOST_TEST(helper.get() == 2);
  tally = actor_handle<Tally>{};
  auto stopping = std::async(std::launch::async, [] { shutdown(); });
  BOOST_TEST(test::ready_within(stopping, 60s));
  BOOST_TEST(!is_initialized());
}
