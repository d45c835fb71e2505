#define BOOST_TEST_MODULE actors_scale
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <dirent.h>
#include <vector>

#include "actor_support.hpp"
#include "conditions.hpp"
#include "rustyray/actors/internal/actor_runtime.hpp"
#include "rustyray/internal/executor.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::runtime_fixture;

namespace {

std::atomic<int> started{0};
std::atomic<int> stopped{0};

/// An actor with a little state and both hooks.
struct Cell {
  static Cell create(int value) {
    return Cell{value};
  }
  void on_start() {
    ++started;
  }
  void on_stop() {
    ++stopped;
  }
  int add(int x) {
    return value += x;
  }
  /// Waits for `later` (an object produced after the call started).
  int wait_for(object_ref<int> later) {
    return value + later.get(30s);
  }
  int value = 0;
};

/// The threads of this process.
std::size_t thread_count() {
  std::size_t n = 0;
  if (auto dir = opendir("/proc/self/task")) {
    while (auto entry = readdir(dir))
      n += entry->d_name[0] != '.' ? 1 : 0;
    closedir(dir);
  }
  return n;
}

struct counts_reset : runtime_fixture {
  counts_reset() {
    started = 0;
    stopped = 0;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(scale, counts_reset)

BOOST_AUTO_TEST_CASE(a_hundred_thousand_actors_each_called_once_then_dropped) {
  constexpr int n = 100000;
  auto threads_before = thread_count();
  std::vector<object_ref<int>> results;
  results.reserve(n);
  {
    std::vector<actor_handle<Cell>> cells;
    cells.reserve(n);
    for (int i = 0; i < n; ++i)
      cells.push_back(actor(Cell::create).remote(i));
    for (int i = 0; i < n; ++i)
      results.push_back(cells[static_cast<std::size_t>(i)].task(&Cell::add).remote(1));
    // An idle actor holds no thread: a few actor threads serve them all.
    BOOST_TEST(thread_count() < threads_before + 64);
  } // every handle dropped: each actor stops after its call
  auto values = get(results, 60s);
  std::size_t wrong = 0;
  for (int i = 0; i < n; ++i)
    wrong += values[static_cast<std::size_t>(i)] == i + 1 ? 0 : 1;
  BOOST_TEST(wrong == 0u);
  BOOST_TEST(test::eventually([] { return stopped.load() == n; }, 60s));
  BOOST_TEST(started.load() == n);
  BOOST_TEST(test::eventually([] { return rustyray::state()["actors"].empty(); }, 60s));
}

BOOST_AUTO_TEST_CASE(a_thousand_actors_blocked_in_get_all_finish_once_the_object_exists) {
  constexpr int n = 1000;
  auto later = test::make_pending<int>();
  std::vector<actor_handle<Cell>> cells;
  std::vector<object_ref<int>> results;
  for (int i = 0; i < n; ++i) {
    cells.push_back(actor(Cell::create).remote(i));
    // wait_for takes the ref itself, not its value: the call starts now and
    // blocks in get, holding an actor thread.
    results.push_back(cells.back().task(&Cell::wait_for).remote(later));
  }
  BOOST_REQUIRE(!test::fulfil(later, 1000));
  auto values = get(results, 60s);
  std::size_t wrong = 0;
  for (int i = 0; i < n; ++i)
    wrong += values[static_cast<std::size_t>(i)] == i + 1000 ? 0 : 1;
  BOOST_TEST(wrong == 0u);
}

BOOST_AUTO_TEST_CASE(no_thread_for_a_new_actor_is_a_system_error_and_the_others_run_on) {
  auto running = actor(Cell::create).remote(1);
  BOOST_REQUIRE(running.task(&Cell::add).remote(1).get(30s) == 2);
  // Every thread start fails from now on, and every actor thread gets
  // blocked (how many started depends on timing: one more call blocks while
  // one is idle): nothing could run a new actor.
  auto threads = actors::internal::current_actors()->threads;
  threads->fail_thread_starts(true);
  auto later = test::make_pending<int>();
  std::vector<actor_handle<Cell>> others;
  std::vector<object_ref<int>> waiting{running.task(&Cell::wait_for).remote(later)};
  for (int i = 0;; ++i) {
    std::size_t blocked_before = waiting.size() - 1;
    BOOST_REQUIRE(test::eventually([&] { return threads->snapshot().blocked > blocked_before; }));
    auto s = threads->snapshot();
    if (s.blocked == s.threads)
      break;
    BOOST_REQUIRE(i < 64); // more threads than any configuration here starts
    others.push_back(actor(Cell::create).remote(100 + i));
    waiting.push_back(others.back().task(&Cell::wait_for).remote(later));
  }
  auto code = test::code_of([] { (void)actor(Cell::create).remote(5); });
  threads->fail_thread_starts(false);
  BOOST_TEST((code == errc::system_error));
  BOOST_REQUIRE(!test::fulfil(later, 10));
  BOOST_TEST(waiting.front().get(30s) == 12);
  for (std::size_t i = 1; i < waiting.size(); ++i)
    BOOST_TEST(waiting[i].get(30s) == static_cast<int>(100 + i - 1 + 10));
  BOOST_TEST(running.task(&Cell::add).remote(1).get(30s) == 3);
}

BOOST_AUTO_TEST_CASE(a_dedicated_thread_actor_runs_like_any_other) {
  auto cell = actor(Cell::create).dedicated_thread().remote(7);
  BOOST_TEST(cell.task(&Cell::add).remote(1).get(30s) == 8);
  BOOST_TEST(cell.task(&Cell::add).remote(2).get(30s) == 10);
}

BOOST_AUTO_TEST_SUITE_END()
