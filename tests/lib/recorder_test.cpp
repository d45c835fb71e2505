#define BOOST_TEST_MODULE lib_recorder
#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

#include "rustyray/internal/recorder.hpp"

using rustyray::object_id;
using namespace rustyray::internal;

namespace {

std::uint64_t total(const recorder& r, counter c) {
  return r.totals()[static_cast<std::size_t>(c)];
}

/// Records one run that started at `start` (ns) on the calling thread.
void run(recorder& r, std::int64_t start, std::uint64_t sequence = 0) {
  static const std::string name = "job";
  execution e;
  e.name = &name;
  e.result = object_id{1, sequence};
  e.start = start;
  e.end = start + 10;
  r.local().record(std::move(e));
}

} // namespace

BOOST_AUTO_TEST_CASE(counters_of_many_threads_add_up) {
  auto r = std::make_shared<recorder>(10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        r->local().bump(counter::tasks_finished);
      r->local().bump(counter::tasks_retried, 5);
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(total(*r, counter::tasks_finished) == 40000u);
  BOOST_TEST(total(*r, counter::tasks_retried) == 20u);
  BOOST_TEST(total(*r, counter::tasks_failed) == 0u);
}

// A reused lane kept its index in the runs, and the next thread's label
// renamed every earlier run (an actor's calls showed under the next actor).
BOOST_AUTO_TEST_CASE(an_ended_threads_lane_serves_the_next_thread_but_its_runs_keep_their_track) {
  auto r = std::make_shared<recorder>(100);
  std::uint32_t first_track = 0;
  std::thread{[&] {
    r->local().bump(counter::actor_calls);
    r->local().label([] { return std::string{"first"}; });
    run(*r, 5);
    first_track = r->collect().events.at(0).track;
  }}.join();
  // Its run moved to the ring when the thread ended; nothing is lost.
  auto snap = r->collect();
  BOOST_REQUIRE(snap.events.size() == 1u);
  BOOST_TEST(snap.labels.at(first_track) == "first");
  std::uint32_t second_track = first_track;
  std::thread{[&] {
    r->local().label([] { return std::string{"second"}; });
    run(*r, 7);
    second_track = r->collect().events.back().track;
    r->local().bump(counter::actor_calls);
  }}.join();
  BOOST_TEST(r->lane_count() == 1u);                 // the lane was reused
  BOOST_TEST(total(*r, counter::actor_calls) == 2u); // counters survive reuse
  BOOST_TEST(second_track != first_track);           // the runs were not
  snap = r->collect();
  BOOST_REQUIRE(snap.events.size() == 2u);
  BOOST_TEST(snap.labels.at(first_track) == "first");
  BOOST_TEST(snap.labels.at(second_track) == "second");
}

BOOST_AUTO_TEST_CASE(the_ring_keeps_the_most_recent_sorted_by_start_and_counts_the_dropped) {
  auto r = std::make_shared<recorder>(50);
  std::thread other{[&] {
    for (int i = 0; i < 100; ++i)
      run(*r, 2 * i + 1, 1000 + i);
  }};
  other.join();
  for (int i = 0; i < 100; ++i)
    run(*r, 2 * i, i);
  auto snap = r->collect();
  BOOST_REQUIRE(snap.events.size() == 50u);
  BOOST_TEST(snap.dropped == 150u);
  for (std::size_t i = 1; i < snap.events.size(); ++i)
    BOOST_TEST(snap.events[i - 1].start <= snap.events[i].start);
  BOOST_TEST(snap.events.back().start == 198); // the last one recorded is kept
}

BOOST_AUTO_TEST_CASE(capacity_zero_records_nothing) {
  auto r = std::make_shared<recorder>(0);
  run(*r, 1);
  r->local().bump(counter::tasks_submitted);
  BOOST_TEST(r->collect().events.empty());
  BOOST_TEST(total(*r, counter::tasks_submitted) == 1u);
}
