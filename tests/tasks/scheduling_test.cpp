#define BOOST_TEST_MODULE tasks_scheduling
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::runtime_fixture;

namespace {

/// Counts tasks inside a section and remembers the most at once. The hold
/// (a sleep) is behaviour, not synchronisation: it keeps each task inside
/// long enough that a scheduler breaking the bound would let them overlap.
/// A correct one passes however long the sections take; that the bound is
/// reached is checked separately, by rendezvous that cannot happen one at a
/// time.
struct concurrency_probe {
  std::atomic<int> active{0};
  std::atomic<int> most{0};

  void section(std::chrono::milliseconds hold) {
    auto now = ++active;
    for (auto seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);)
      ;
    std::this_thread::sleep_for(hold);
    --active;
  }
};

/// A rendezvous of `n` parties: true if all arrived within 10 s.
struct rendezvous {
  std::mutex mtx;
  std::condition_variable cv;
  int arrived = 0;

  bool meet(int n) {
    std::unique_lock<std::mutex> guard{mtx};
    ++arrived;
    cv.notify_all();
    return cv.wait_for(guard, 10s, [&] { return arrived >= n; });
  }
};

int fib(int n) {
  if (n < 2)
    return n;
  auto a = task(fib).remote(n - 1);
  auto b = task(fib).remote(n - 2);
  return a.get() + b.get();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(tasks_scheduling, runtime_fixture)

BOOST_AUTO_TEST_CASE(tasks_run_in_parallel_up_to_num_workers) {
  rendezvous meeting;
  auto a = task([&] { return meeting.meet(2); }).remote();
  auto b = task([&] { return meeting.meet(2); }).remote();
  BOOST_TEST(a.get()); // both ran at the same time on the 2 workers
  BOOST_TEST(b.get());
  concurrency_probe probe;
  std::vector<object_ref<void>> refs;
  for (int i = 0; i < 8; ++i)
    refs.push_back(task([&] { probe.section(10ms); }).remote());
  for (auto& r : refs)
    r.get();
  BOOST_TEST(probe.most.load() <= 2);
}

BOOST_AUTO_TEST_CASE(nested_tasks_do_not_starve_the_pool) {
  // Every fib task blocks in get on its children: with 2 workers this only
  // completes if blocked tasks lend their worker slot.
  BOOST_TEST(task(fib).remote(20).get(120s) == 6765);
}

BOOST_AUTO_TEST_CASE(a_task_may_submit_and_get_inside_another) {
  auto outer = task([] {
                 auto inner = task([](int x) { return x * 2; }).remote(21);
                 return inner.get();
               }).remote();
  BOOST_TEST(outer.get() == 42);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(custom_resources_bound_what_runs_at_once) {
  config cfg = test::small_config();
  cfg.num_workers = 2;
  cfg.resources = {{"slot", 1}};
  init(cfg);
  {
    concurrency_probe probe;
    std::vector<object_ref<void>> refs;
    for (int i = 0; i < 6; ++i)
      refs.push_back(task([&] { probe.section(5ms); }).resources({{"slot", 1}}).remote());
    for (auto& r : refs)
      r.get();
    BOOST_TEST(probe.most.load() == 1);
    // Half a CPU each: two run at the same time (they meet; one at a time
    // they could not), and never more than the 2 workers at once.
    rendezvous pair;
    auto x = task([&] { return pair.meet(2); }).num_cpus(0.5).remote();
    auto y = task([&] { return pair.meet(2); }).num_cpus(0.5).remote();
    BOOST_TEST(x.get());
    BOOST_TEST(y.get());
    concurrency_probe halves;
    refs.clear();
    for (int i = 0; i < 6; ++i)
      refs.push_back(task([&] { halves.section(5ms); }).num_cpus(0.5).remote());
    for (auto& r : refs)
      r.get();
    BOOST_TEST(halves.most.load() <= 2);
  }
  test::check_clean_and_shutdown();
}
