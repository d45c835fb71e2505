#define BOOST_TEST_MODULE tasks_bad_input
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <future>
#include <limits>
#include <thread>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::runtime_fixture;

namespace {

int plus1(int x) {
  return x + 1;
}

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

} // namespace

// Out-of-range task options and arguments: a documented code at once (at
// `remote`) or as the task's result, and nothing else disturbed.

BOOST_FIXTURE_TEST_SUITE(tasks_bad_input, runtime_fixture)

BOOST_AUTO_TEST_CASE(negative_max_retries_is_invalid_argument) {
  try {
    (void)task(plus1).name("p").max_retries(-1).remote(1);
    BOOST_FAIL("must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::invalid_argument);
    BOOST_TEST(e.message().find("max_retries") != std::string::npos, e.message());
  }
  BOOST_TEST(task(plus1).max_retries(0).remote(1).get() == 2);
}

BOOST_AUTO_TEST_CASE(non_finite_or_negative_amounts_are_invalid_argument) {
  for (double amount : {-1.0, -inf, inf, not_a_number}) {
    BOOST_TEST(code_of([&] { (void)task(plus1).num_cpus(amount).remote(1); })
               == errc::invalid_argument);
    BOOST_TEST(code_of([&] {
                 (void)task(plus1).resources({{"GPU", amount}}).remote(1);
               })
               == errc::invalid_argument);
  }
  BOOST_TEST(state()["counters"]["tasks_submitted"] == 0);
}

BOOST_AUTO_TEST_CASE(amounts_no_node_has_are_task_unschedulable_not_an_overflow) {
  for (double amount : {1e6, 1e18, 1e300, std::numeric_limits<double>::max()}) {
    auto ref = task(plus1).num_cpus(amount).remote(1);
    BOOST_TEST(code_of([&] { ref.get(10s); }) == errc::task_unschedulable);
    auto gpu = task(plus1).resources({{"GPU", amount}, {"CPU", amount}}).remote(1);
    BOOST_TEST(code_of([&] { gpu.get(10s); }) == errc::task_unschedulable);
  }
  // Nothing was taken from the node: the CPUs are all free.
  BOOST_TEST(state()["node"]["resources"]["available"]["CPU"] == 2.0);
  BOOST_TEST(task(plus1).remote(1).get(10s) == 2);
  // No CPU at all runs too.
  BOOST_TEST(task(plus1).num_cpus(0).remote(1).get(10s) == 2);
}

BOOST_AUTO_TEST_CASE(malformed_resource_entries_are_invalid_argument_naming_the_entry) {
  // As Ray rules: no empty name, no zero request, no fraction above 1.
  auto message_of = [](auto&& submit) -> std::string {
    try {
      submit();
    } catch (const error& e) {
      BOOST_TEST(e.code() == errc::invalid_argument, e.message());
      return e.message();
    }
    BOOST_FAIL("must throw invalid_argument");
    return {};
  };
  auto empty = message_of([] { (void)task(plus1).resources({{"", 1}}).remote(1); });
  BOOST_TEST(empty.find("empty name") != std::string::npos, empty);
  auto zero = message_of([] { (void)task(plus1).resources({{"GPU", 0}}).remote(1); });
  BOOST_TEST(zero.find("\"GPU\" must be positive") != std::string::npos, zero);
  auto zero_cpu = message_of([] { (void)task(plus1).resources({{"CPU", 0}}).remote(1); });
  BOOST_TEST(zero_cpu.find("num_cpus(0)") != std::string::npos, zero_cpu);
  auto fraction = message_of([] { (void)task(plus1).resources({{"GPU", 2.5}}).remote(1); });
  BOOST_TEST(fraction.find("\"GPU\" above 1 must be a whole number") != std::string::npos,
             fraction);
  auto cpus = message_of([] { (void)task(plus1).num_cpus(1.5).remote(1); });
  BOOST_TEST(cpus.find("num_cpus above 1 must be a whole number") != std::string::npos, cpus);
  BOOST_TEST(state()["counters"]["tasks_submitted"] == 0);
  // Fractions below 1 and whole numbers above are requests.
  BOOST_TEST(task(plus1).resources({{"CPU", 0.25}}).remote(1).get(10s) == 2);
  BOOST_TEST(task(plus1).num_cpus(2).remote(1).get(10s) == 2);
}

BOOST_AUTO_TEST_CASE(a_cpu_entry_in_resources_is_the_cpu_request) {
  // The node has 2 CPUs: {"CPU", 2} asks for those two, not for 1 + 2.
  std::promise<void> release;
  auto released = release.get_future().share();
  auto both = task([released] {
                released.wait();
                return 7;
              })
                .resources({{"CPU", 2}})
                .remote();
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (state()["node"]["resources"]["available"]["CPU"] != 0.0
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_TEST(state()["node"]["resources"]["available"]["CPU"] == 0.0);
  release.set_value();
  BOOST_TEST(both.get(10s) == 7);
  // Whichever is set last counts.
  BOOST_TEST(task(plus1).resources({{"CPU", 3}}).num_cpus(1).remote(1).get(10s) == 2);
  BOOST_TEST(task(plus1).num_cpus(3).resources({{"CPU", 1}}).remote(1).get(10s) == 2);
  auto three = task(plus1).num_cpus(1).resources({{"CPU", 3}}).remote(1);
  try {
    (void)three.get(10s);
    BOOST_FAIL("must fail");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::task_unschedulable);
    BOOST_TEST(e.message().find("needs 3 CPU") != std::string::npos, e.message());
  }
}

BOOST_AUTO_TEST_CASE(a_ref_copied_into_a_refused_task_keeps_the_callers_object) {
  // The copy's reference is counted in the submission's trip through the
  // object table. A task refused before that trip drops the copy: its count
  // must come first, or the caller's own ref loses the object.
  auto arg = put(41);
  BOOST_TEST(code_of([&] { (void)task(plus1).num_cpus(-1).remote(arg); })
             == errc::invalid_argument);
  auto never = task(plus1).num_cpus(1e6).remote(arg);
  BOOST_TEST(code_of([&] { never.get(10s); }) == errc::task_unschedulable);
  BOOST_TEST(arg.get(10s) == 41);
  BOOST_TEST(task(plus1).remote(arg).get(10s) == 42);
  BOOST_TEST(arg.get(10s) == 41);
}

BOOST_AUTO_TEST_CASE(a_nil_ref_argument_fails_the_task_with_invalid_argument) {
  object_ref<int> nil;
  auto ref = task(plus1).name("given_nil").remote(nil);
  try {
    ref.get(10s);
    BOOST_FAIL("must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::invalid_argument);
    BOOST_TEST(e.message().find("task given_nil did not run") != std::string::npos, e.message());
  }
}

BOOST_AUTO_TEST_CASE(cancel_of_refs_that_are_no_task_is_false) {
  BOOST_TEST(!cancel(object_ref<int>{}));
  BOOST_TEST(!cancel(put(1)));
  auto done = task(plus1).remote(1);
  BOOST_TEST(done.get() == 2);
  BOOST_TEST(!cancel(done));
  BOOST_TEST(!cancel_requested()); // not inside a task
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(tasks_without_a_runtime_are_runtime_not_initialized) {
  BOOST_TEST(code_of([] { (void)task(plus1).remote(1); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([] { (void)cancel(object_ref<int>{}); }) == errc::runtime_not_initialized);
  BOOST_TEST(!cancel_requested());
}
