#define BOOST_TEST_MODULE lib_wait
#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::runtime_fixture;

BOOST_FIXTURE_TEST_SUITE(lib_wait, runtime_fixture)

BOOST_AUTO_TEST_CASE(ready_holds_at_most_num_returns_in_input_order) {
  std::vector<object_ref<int>> refs{put(0), put(1), put(2), put(3)};
  auto result = wait(refs, 2, 1s);
  BOOST_REQUIRE(result.ready.size() == 2u);
  BOOST_TEST((result.ready[0] == refs[0]));
  BOOST_TEST((result.ready[1] == refs[1]));
  BOOST_REQUIRE(result.not_ready.size() == 2u);
  BOOST_TEST((result.not_ready[0] == refs[2]));
  BOOST_TEST((result.not_ready[1] == refs[3]));
}

BOOST_AUTO_TEST_CASE(a_timeout_returns_what_is_ready_so_far) {
  auto p1 = test::make_pending<int>();
  auto r = put(1);
  auto p2 = test::make_pending<int>();
  std::vector<object_ref<int>> refs{p1, r, p2};
  auto result = wait(refs, 2, 20ms);
  BOOST_REQUIRE(result.ready.size() == 1u);
  BOOST_TEST((result.ready[0] == r));
  BOOST_REQUIRE(result.not_ready.size() == 2u);
  BOOST_TEST((result.not_ready[0] == p1));
  BOOST_TEST((result.not_ready[1] == p2));
  result = wait(refs, 3, 0ms);
  BOOST_TEST(result.ready.size() == 1u);
}

BOOST_AUTO_TEST_CASE(wait_returns_when_enough_objects_arrive) {
  auto p1 = test::make_pending<int>();
  auto p2 = test::make_pending<int>();
  auto p3 = test::make_pending<int>();
  std::vector<object_ref<int>> refs{p1, p2, p3};
  auto waiter = std::async(std::launch::async, [&] { return wait(refs, 2); });
  BOOST_TEST((waiter.wait_for(20ms) == std::future_status::timeout));
  BOOST_REQUIRE(!test::fulfil(p3, 3));
  BOOST_TEST((waiter.wait_for(20ms) == std::future_status::timeout));
  test::fail(p1, errc::task_failed, "an error counts as ready");
  auto result = waiter.get();
  BOOST_REQUIRE(result.ready.size() == 2u);
  BOOST_TEST((result.ready[0] == p1));
  BOOST_TEST((result.ready[1] == p3));
  BOOST_REQUIRE(result.not_ready.size() == 1u);
  BOOST_TEST((result.not_ready[0] == p2));
}

BOOST_AUTO_TEST_CASE(lost_objects_count_as_ready) {
  auto ref = put(1);
  rustyray::free(ref);
  auto result = wait(std::vector{ref}, 1, 0ms);
  BOOST_TEST(result.ready.size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_invalid_argument) {
  auto a = put(1);
  auto b = put(2);
  std::vector<object_ref<int>> refs{a, b};
  BOOST_TEST(code_of([&] { wait(refs, 0, 1s); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { wait(refs, 3, 1s); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { wait(std::vector{a, b, a}, 1, 1s); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { wait(refs, 1, -5ms); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { wait(std::vector<object_ref<int>>{}, 1, 1s); })
             == errc::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
