#define BOOST_TEST_MODULE tasks_submit
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "runtime_fixture.hpp"
#include "sync.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::runtime_fixture;

namespace {

int add100(int x) {
  return x + 100;
}

int plus10(int x) {
  return x + 10;
}

int times3(int x) {
  return x * 3;
}

int sum3(int a, int b, int c) {
  return a + b + c;
}

int mul(int a, int b) {
  return a * b;
}

std::atomic<int> side_effects{0};

void touch() {
  ++side_effects;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(tasks_submit, runtime_fixture)

BOOST_AUTO_TEST_CASE(a_ref_argument_is_resolved_to_its_value) {
  auto x = put(42);
  BOOST_TEST(get(task(add100).remote(x)) == 142);
  BOOST_TEST(get(task(add100).remote(1)) == 101);
}

BOOST_AUTO_TEST_CASE(tasks_chain_through_their_results) {
  auto a = task(plus10).remote(5);
  auto b = task(times3).remote(a);
  BOOST_TEST(b.get() == 45);
  BOOST_TEST(get(task(times3).remote(task(plus10).remote(5))) == 45);
}

BOOST_AUTO_TEST_CASE(values_and_refs_mix) {
  BOOST_TEST(get(task(sum3).remote(10, task(mul).remote(5, 6), 20)) == 60);
  BOOST_TEST(get(task(sum3).remote(put(100), put(200), put(300))) == 600);
}

BOOST_AUTO_TEST_CASE(a_diamond_joins_two_branches_of_one_source) {
  auto source = task(plus10).remote(0);     // 10
  auto left = task(times3).remote(source);  // 30
  auto right = task(add100).remote(source); // 110
  auto join = task([](int l, int r) { return l + r; }).remote(left, right);
  BOOST_TEST(join.get() == 140);
  BOOST_TEST(source.get() == 10); // still readable after its consumers ran
}

BOOST_AUTO_TEST_CASE(one_ref_feeds_many_tasks_and_stays_readable) {
  auto shared = put(7);
  std::vector<object_ref<int>> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(task(mul).remote(shared, i));
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(results[i].get() == 7 * i);
  BOOST_TEST(shared.get() == 7);
}

BOOST_AUTO_TEST_CASE(ten_threads_read_a_slow_result) {
  // The result exists only once all ten readers are on their way to get.
  test::latch readers_started{10};
  test::gate produce;
  test::open_on_exit release{produce};
  auto slow = task([&produce] {
                if (!produce.pass())
                  throw std::runtime_error("the test never opened the gate");
                return std::string{"done"};
              }).remote();
  std::vector<std::future<std::string>> readers;
  for (int i = 0; i < 10; ++i)
    readers.push_back(std::async(std::launch::async, [copy = slow, &readers_started] {
      readers_started.count_down();
      return copy.get();
    }));
  BOOST_REQUIRE(readers_started.wait());
  BOOST_TEST(!contains(slow)); // they wait for it
  produce.open();
  for (auto& r : readers)
    BOOST_TEST(r.get() == "done");
}

BOOST_AUTO_TEST_CASE(a_dependant_submitted_before_its_producer_finishes_waits) {
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  auto producer = task([opened] {
                    opened.wait();
                    return 5;
                  }).remote();
  auto consumer = task(plus10).remote(producer);
  BOOST_TEST(!contains(consumer));
  BOOST_TEST(test::code_of([&] { consumer.get(20ms); }) == errc::timeout);
  gate.set_value();
  BOOST_TEST(consumer.get() == 15);
}

BOOST_AUTO_TEST_CASE(void_tasks_give_object_ref_void) {
  side_effects = 0;
  object_ref<void> done = task(touch).remote();
  done.get();
  BOOST_TEST(side_effects.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_parameter_declared_object_ref_gets_the_ref_itself) {
  auto inner = put(3);
  auto outer = task([](object_ref<int> ref) { return ref.id(); }).remote(inner);
  BOOST_TEST(outer.get() == inner.id());
}

BOOST_AUTO_TEST_CASE(a_hundred_thousand_small_tasks_none_lost) {
  constexpr int n = 100000;
  std::vector<object_ref<int>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i)
    refs.push_back(task(plus10).remote(i));
  long long sum = 0;
  for (auto& v : get(refs))
    sum += v;
  BOOST_TEST(sum == static_cast<long long>(n) * (n - 1) / 2 + 10LL * n);
  refs.clear();
}

BOOST_AUTO_TEST_SUITE_END()
