#define BOOST_TEST_MODULE lib_guarded
#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

#include "rustyray/internal/guarded.hpp"

using rustyray::internal::guarded;

BOOST_AUTO_TEST_CASE(changes_through_the_lock_from_many_threads_leave_an_exact_count) {
  struct counts {
    long a = 0;
    long b = 0; // always equal to a under the lock
  };
  guarded<counts> shared;
  constexpr int threads = 4;
  constexpr int rounds = 20000;
  std::vector<std::thread> workers;
  int torn = 0; // written by the threads under the lock only
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        auto c = shared.lock();
        if (c->a != c->b)
          ++torn;
        ++c->a;
        ++c->b;
      }
    });
  for (auto& w : workers)
    w.join();
  auto c = shared.lock();
  BOOST_TEST(c->a == long{threads} * rounds);
  BOOST_TEST(c->b == c->a);
  BOOST_TEST(torn == 0);
}

BOOST_AUTO_TEST_CASE(the_value_is_built_from_the_constructor_arguments) {
  guarded<std::vector<int>> v{3u, 7};
  BOOST_TEST(v.lock()->size() == 3u);
  BOOST_TEST((*v.lock())[2] == 7);
}
