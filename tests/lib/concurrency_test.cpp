#define BOOST_TEST_MODULE lib_concurrency
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::runtime_fixture;

namespace {

std::int64_t plus1(std::int64_t x) {
  return x + 1;
}

std::int64_t add(std::int64_t a, std::int64_t b) {
  return a + b;
}

/// Shared by the threads of one test: every call must be counted once.
class Ledger {
public:
  static Ledger create() {
    return {};
  }
  std::int64_t book(std::int64_t amount) {
    total_ += amount;
    ++entries_;
    return total_;
  }
  std::int64_t total() const {
    return total_;
  }
  std::int64_t entries() const {
    return entries_;
  }

private:
  std::int64_t total_ = 0;
  std::int64_t entries_ = 0;
};

std::uint64_t counter(const char* name) {
  return state()["counters"][name].get<std::uint64_t>();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_concurrency, runtime_fixture)

BOOST_AUTO_TEST_CASE(many_threads_put_and_get_with_no_lost_value_and_exact_stats) {
  constexpr int threads = 8;
  constexpr int per_thread = 5000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  std::vector<std::vector<object_ref<std::int64_t>>> kept(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto v = std::int64_t{t} * 1'000'000 + i;
        auto ref = put(v);
        if (get(ref) != v)
          ++wrong;
        if (i % 10 == 0)
          kept[t].push_back(std::move(ref));
      }
    });
  }
  for (auto& w : workers)
    w.join();
  BOOST_TEST(wrong.load() == 0);
  auto s = object_store_stats();
  BOOST_TEST(s.puts == std::uint64_t{threads} * per_thread);
  BOOST_TEST(s.gets == std::uint64_t{threads} * per_thread);
  BOOST_TEST(s.hits == s.gets);
  BOOST_TEST(s.objects == std::uint64_t{threads} * (per_thread / 10));
  BOOST_TEST(s.bytes_used == s.objects * sizeof(std::int64_t));
  for (int t = 0; t < threads; ++t)
    for (std::size_t k = 0; k < kept[t].size(); ++k)
      BOOST_TEST(get(kept[t][k]) == std::int64_t{t} * 1'000'000 + std::int64_t(k) * 10);
  kept.clear();
}

BOOST_AUTO_TEST_CASE(producers_and_consumers_meet_through_pending_objects) {
  constexpr int n = 2000;
  std::vector<object_ref<int>> slots;
  for (int i = 0; i < n; ++i)
    slots.push_back(test::make_pending<int>());
  std::atomic<long> sum{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 4; ++c)
    consumers.emplace_back([&, c] {
      for (int i = c; i < n; i += 4)
        sum += get(slots[i], 10s);
    });
  std::vector<std::thread> waiters;
  std::atomic<int> waited{0};
  for (int w = 0; w < 2; ++w)
    waiters.emplace_back([&] {
      auto result = wait(slots, n, 10s);
      waited += static_cast<int>(result.ready.size());
    });
  // Boost.Test assertions are not thread-safe: threads count, the test checks.
  std::atomic<int> failed_fulfils{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p)
    producers.emplace_back([&, p] {
      for (int i = p; i < n; i += 2)
        if (test::fulfil(slots[i], i))
          ++failed_fulfils;
    });
  for (auto* group : {&producers, &consumers, &waiters})
    for (auto& t : *group)
      t.join();
  BOOST_TEST(failed_fulfils.load() == 0);
  BOOST_TEST(sum.load() == long{n} * (n - 1) / 2);
  BOOST_TEST(waited.load() == 2 * n);
  auto s = object_store_stats();
  BOOST_TEST(s.puts == std::uint64_t{n});
  slots.clear();
}

BOOST_AUTO_TEST_CASE(eviction_under_concurrent_puts_keeps_bytes_within_capacity) {
  // 64 MiB capacity, 8 threads putting 1 MiB buffers and holding a few.
  std::vector<std::thread> workers;
  std::atomic<int> lost{0};
  std::atomic<int> over_capacity{0};
  for (int t = 0; t < 8; ++t)
    workers.emplace_back([&] {
      std::vector<object_ref<std::vector<std::uint8_t>>> window;
      for (int i = 0; i < 200; ++i) {
        window.push_back(put(std::vector<std::uint8_t>(1 << 20, std::uint8_t(i))));
        if (window.size() > 16)
          window.erase(window.begin());
        try {
          auto v = get(window.front());
          if (v.size() != (1u << 20))
            ++lost;
        } catch (const error& e) {
          if (e.code() != errc::object_lost)
            throw;
        }
        if (object_store_stats().bytes_used > (64u << 20))
          ++over_capacity;
      }
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(lost.load() == 0);
  BOOST_TEST(over_capacity.load() == 0);
  auto s = object_store_stats();
  BOOST_TEST(s.puts == 1600u);
  BOOST_TEST(s.evictions > 0u);
  BOOST_TEST(s.bytes_used == 0u);
}

BOOST_AUTO_TEST_CASE(many_threads_submit_get_and_wait_for_tasks_with_exact_counts) {
  constexpr int threads = 10;
  constexpr int per_thread = 300;
  std::atomic<std::int64_t> sum{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::vector<object_ref<std::int64_t>> refs;
      for (int i = 0; i < per_thread; ++i) {
        std::int64_t x = std::int64_t{t} * per_thread + i;
        // Chains and plain tasks: half depend on another task's result.
        refs.push_back(i % 2 == 0 ? task(plus1).remote(x)
                                  : task(add).remote(task(plus1).remote(x - 1), std::int64_t{1}));
      }
      // Half the threads wait first, in rounds, the others get at once.
      if (t % 2 == 0) {
        auto rest = refs;
        while (!rest.empty()) {
          auto [ready, not_ready] = wait(rest, std::min<std::size_t>(rest.size(), 37), 30s);
          if (ready.empty()) {
            ++wrong; // nothing within 30 s: stuck
            break;
          }
          for (auto& r : ready)
            sum += get(r);
          rest = std::move(not_ready);
        }
      } else {
        for (auto v : get(refs, 30s))
          sum += v;
      }
      for (int i = 0; i < per_thread; ++i)
        if (get(refs[static_cast<std::size_t>(i)]) != std::int64_t{t} * per_thread + i + 1)
          ++wrong;
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(wrong.load() == 0);
  constexpr std::int64_t n = std::int64_t{threads} * per_thread;
  BOOST_TEST(sum.load() == n * (n + 1) / 2); // each of 0..n-1 plus one, exactly once
  // Exactly as many tasks as submitted: 1.5 per value.
  BOOST_TEST(counter("tasks_submitted") == std::uint64_t(n + n / 2));
  BOOST_TEST(counter("tasks_finished") == std::uint64_t(n + n / 2));
  BOOST_TEST(counter("tasks_failed") == 0u);
}

BOOST_AUTO_TEST_CASE(many_threads_call_shared_actors_and_pass_results_to_tasks_exactly_once) {
  constexpr int threads = 8;
  constexpr int per_thread = 250;
  auto ledger = actor(Ledger::create).remote();
  auto second = actor(Ledger::create).remote();
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      std::vector<object_ref<std::int64_t>> booked;
      std::int64_t last = -1;
      for (int i = 0; i < per_thread; ++i) {
        booked.push_back(ledger.task(&Ledger::book).remote(std::int64_t{1}));
        // An actor call's result as a task's argument.
        if (i % 10 == 0)
          booked.push_back(task(plus1).remote(second.task(&Ledger::book).remote(std::int64_t{2})));
      }
      // Each caller's calls run in order: its totals only grow.
      for (std::size_t i = 0; i < booked.size(); ++i) {
        auto v = get(booked[i], 30s);
        if (i % 11 != 1 && v <= last)
          ++wrong;
        if (i % 11 != 1)
          last = v;
      }
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(wrong.load() == 0);
  BOOST_TEST(ledger.task(&Ledger::entries).remote().get() == threads * per_thread);
  BOOST_TEST(ledger.task(&Ledger::total).remote().get() == threads * per_thread);
  BOOST_TEST(second.task(&Ledger::total).remote().get() == 2 * threads * (per_thread / 10));
  BOOST_TEST(counter("actor_calls_failed") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
