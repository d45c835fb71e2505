#define BOOST_TEST_MODULE soak_cluster
#include <boost/test/unit_test.hpp>

// The cluster soak: this process (head and driver) and 3 worker processes
// run 100,000 operations — chains of dependent tasks and calls of actors
// that live on the workers — with faults injected: 1% of the tasks and
// calls throw, and every second a worker is killed (kill -9) and a new
// one joins. Every result must end as its model says (a value; `task_error`
// for a planned throw; `actor_died` only for a call in flight when its
// actor's node died), no task may run to completion twice on a node that
// lived on (each writes an idempotency log), and every store must be empty
// at the end.
//
// RUSTYRAY_SOAK_PERCENT (default 100) scales the operations;
// RUSTYRAY_SOAK_MINUTES (`./dev soak-cluster MINUTES`) runs batches for
// that long instead.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "cluster_fixture.hpp"
#include "cluster_functions.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

constexpr int ops_per_batch = 2'000;
constexpr int chain_length = 10;
/// One call in this many is an actor call; one operation in 100 throws.
constexpr int call_every = 10;
constexpr int fail_every = 100;
constexpr auto kill_every = 1s;

int percent() {
  const char* p = std::getenv("RUSTYRAY_SOAK_PERCENT");
  return p != nullptr ? std::max(1, std::atoi(p)) : 100;
}

double minutes() {
  const char* m = std::getenv("RUSTYRAY_SOAK_MINUTES");
  return m != nullptr ? std::atof(m) : 0.0;
}

struct counts {
  long values = 0, planned_errors = 0, actor_died = 0, other = 0;
  long kills = 0, twice = 0;
};

} // namespace

BOOST_AUTO_TEST_CASE(a_cluster_under_faults_loses_and_duplicates_nothing) {
  test::cluster_fixture cluster{3, "", "", R"({"slot": 4})"};
  auto log = "/tmp/rustyray-soak-cluster-" + std::to_string(getpid()) + ".log";
  std::remove(log.c_str());
  const long total_ops = minutes() > 0 ? 0 : 100'000L * percent() / 100;
  const auto until = std::chrono::steady_clock::now()
                     + std::chrono::milliseconds(static_cast<long>(minutes() * 60'000));
  auto more = [&](long done) {
    return minutes() > 0 ? std::chrono::steady_clock::now() < until : done < total_ops;
  };

  // The actors hold a little of a slot, which only the workers offer: they
  // run there, and start again elsewhere when their node dies.
  using cluster_test::tally;
  std::vector<actor_handle<tally>> actors;
  for (int i = 0; i < 3; ++i)
    actors.push_back(actor(tally::create).resources({{"slot", 0.5}}).max_restarts(-1).remote(0));

  // Faults: a worker killed and replaced every few seconds.
  std::set<std::int64_t> killed;
  std::mutex killed_mtx;
  std::atomic<bool> done{false};
  counts c;
  std::thread killer{[&] {
    std::mt19937 rng{42};
    auto next = std::chrono::steady_clock::now() + kill_every;
    while (!done.load()) {
      std::this_thread::sleep_for(20ms);
      if (std::chrono::steady_clock::now() < next)
        continue;
      next += kill_every;
      auto i = rng() % cluster.workers.size();
      {
        std::lock_guard<std::mutex> guard{killed_mtx};
        killed.insert(cluster.pid_of(i));
      }
      cluster.replace(i);
      ++c.kills;
    }
  }};

  long ops = 0;
  long batches = 0;
  std::vector<std::int64_t> valued; // steps that returned a value
  auto started = std::chrono::steady_clock::now();
  while (more(ops)) {
    struct step {
      object_ref<std::int64_t> ref;
      std::int64_t idx;
      bool fails;
      bool broken; // an earlier step of its chain throws
      std::int64_t expected;
    };
    struct call {
      object_ref<int> ref;
      bool fails;
    };
    std::vector<step> steps;
    std::vector<call> calls;
    auto step_fn = task(cluster_test::soak_step).resources({{"slot", 1}}).max_retries(3);
    for (int k = 0; k < ops_per_batch; k += chain_length) {
      object_ref<std::int64_t> prev = rustyray::put(std::int64_t{0});
      bool broken = false;
      std::int64_t length = 0;
      for (int s = 0; s < chain_length; ++s, ++ops) {
        if (ops % call_every == 0) {
          bool fails = (ops / call_every) % fail_every == 7;
          auto& a = actors[static_cast<std::size_t>(ops) % actors.size()];
          calls.push_back(
            {fails ? a.task(&tally::fail).remote(1) : a.task(&tally::add).remote(1), fails});
          continue;
        }
        bool fails = ops % fail_every == 3;
        prev = step_fn.remote(log, std::int64_t{ops}, fails, prev);
        steps.push_back({prev, ops, fails, broken, ++length});
        broken = broken || fails;
      }
    }
    // Every result as its model says; none waits forever.
    for (auto& st : steps) {
      try {
        BOOST_TEST(get(st.ref, 60s) == st.expected, "step " << st.idx);
        BOOST_TEST((!st.fails && !st.broken), "step " << st.idx << " returned a value");
        valued.push_back(st.idx);
        ++c.values;
      } catch (const task_error& e) {
        BOOST_TEST((st.fails || st.broken), "step " << st.idx << ": " << e.what());
        ++c.planned_errors;
      } catch (const rustyray::error& e) {
        BOOST_TEST(false, "step " << st.idx << ": " << e.what());
        ++c.other;
      }
    }
    for (auto& cl : calls) {
      try {
        BOOST_TEST(get(cl.ref, 60s) > 0);
        BOOST_TEST(!cl.fails);
        ++c.values;
      } catch (const task_error& e) {
        BOOST_TEST(cl.fails, e.what());
        ++c.planned_errors;
      } catch (const rustyray::error& e) {
        BOOST_TEST(rustyray::to_string(e.code()) == "actor_died", e.what());
        ++c.actor_died;
      }
    }
    ++batches;
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  done = true;
  killer.join();

  // The idempotency log: no step ran to completion twice on a node that
  // was never killed; every step that returned a value ran.
  std::map<std::int64_t, std::pair<int, int>> runs; // on killed, on others
  {
    std::ifstream in{log};
    for (std::string line; std::getline(in, line);) {
      std::istringstream words{line};
      std::int64_t idx = 0, pid = 0;
      words >> idx >> pid;
      auto& r = runs[idx];
      (killed.count(pid) != 0 ? r.first : r.second) += 1;
    }
  }
  for (const auto& [idx, r] : runs) {
    BOOST_TEST(r.second <= 1, "step " << idx << " ran " << r.second << " times");
    c.twice += r.first + r.second > 1 ? 1 : 0;
  }
  for (auto idx : valued)
    BOOST_TEST(runs.count(idx) == 1u, "step " << idx << " has a value but never ran");
  std::remove(log.c_str());
  BOOST_TEST(c.other == 0);
  std::cout << "cluster soak: " << ops << " operations in " << batches << " batches, " << elapsed
            << " s; " << c.values << " values, " << c.planned_errors << " planned errors, "
            << c.actor_died << " calls in flight at a node's death (actor_died), " << c.kills
            << " workers killed and replaced, " << c.twice
            << " steps run again after their node died" << std::endl;

  actors.clear();
  // Every store empty: the workers' (as they report) and this node's (the
  // fixture checks it).
  auto until_empty = std::chrono::steady_clock::now() + 20s;
  std::uint64_t left = 0;
  do {
    left = 0;
    for (const auto& n : rustyray::nodes(cluster.address, "test-token"))
      if (n.alive && !n.head)
        left += n.objects;
    if (left != 0)
      std::this_thread::sleep_for(50ms);
  } while (left != 0 && std::chrono::steady_clock::now() < until_empty);
  BOOST_TEST(left == 0u, "objects left on the workers");
}
