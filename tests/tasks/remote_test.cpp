#define BOOST_TEST_MODULE tasks_remote
#include <boost/test/unit_test.hpp>

#include <atomic>

#include "runtime_fixture.hpp"

using namespace rustyray;
using test::runtime_fixture;

namespace demo {

int add(int a, int b) {
  return a + b;
}

double scale(double x) {
  return 2 * x;
}

int scale(int x) {
  return 3 * x;
}

int fails(int) {
  throw std::runtime_error("registered and failing");
}

std::atomic<int> last_noted{0};

void note(int x) {
  last_noted = x;
}

std::string concat(std::string&& a, std::string&& b) {
  return std::move(a) + b;
}

struct counter {
  int n = 0;
  static counter create(int start) {
    return counter{start};
  }
  int increment(int by) {
    return n += by;
  }
  int add_length(std::string&& s) {
    return n += static_cast<int>(s.size());
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, counter& x) {
  return f(caf::meta::type_name("demo::counter"), x.n);
}

} // namespace demo

RUSTYRAY_REMOTE(demo::add, RUSTYRAY_FUNC(demo::scale, double), RUSTYRAY_FUNC(demo::scale, int),
                demo::counter::create, &demo::counter::increment);
RUSTYRAY_REMOTE(demo::fails);
RUSTYRAY_REMOTE(demo::note, demo::concat, &demo::counter::add_length);

BOOST_AUTO_TEST_CASE(names_split_at_top_level_commas) {
  auto names =
    detail::split_remote_names("add, RUSTYRAY_FUNC(scale, double), &C::method, ns::f<int, char>,g");
  BOOST_TEST(
    names
      == (std::vector<std::string>{"add", "scale(double)", "C::method", "ns::f<int, char>", "g"}),
    boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_SUITE(tasks_remote, runtime_fixture)

BOOST_AUTO_TEST_CASE(registered_functions_are_found_by_name) {
  auto sum = detail::invoke_remote("demo::add", caf::make_message(2, 3));
  BOOST_REQUIRE(sum);
  BOOST_TEST(sum->get_as<int>(0) == 5);
  auto doubled = detail::invoke_remote("demo::scale(double)", caf::make_message(1.5));
  BOOST_REQUIRE(doubled);
  BOOST_TEST(doubled->get_as<double>(0) == 3.0);
  auto tripled = detail::invoke_remote("demo::scale(int)", caf::make_message(2));
  BOOST_REQUIRE(tripled);
  BOOST_TEST(tripled->get_as<int>(0) == 6);
  auto made = detail::invoke_remote("demo::counter::create", caf::make_message(4));
  BOOST_REQUIRE(made);
}

BOOST_AUTO_TEST_CASE(an_unregistered_name_is_function_not_registered) {
  auto missing = detail::invoke_remote("demo::nope", caf::make_message(1));
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().code() == static_cast<std::uint8_t>(errc::function_not_registered));
  auto wrong = detail::invoke_remote("demo::add", caf::make_message(std::string{"x"}));
  BOOST_REQUIRE(!wrong);
  BOOST_TEST(wrong.error().code() == static_cast<std::uint8_t>(errc::type_mismatch));
}

BOOST_AUTO_TEST_CASE(overloads_are_picked_by_parameter_types) {
  BOOST_TEST(task(RUSTYRAY_FUNC(demo::scale, double)).remote(1.25).get() == 2.5);
  BOOST_TEST(task(RUSTYRAY_FUNC(demo::scale, int)).remote(5).get() == 15);
}

BOOST_AUTO_TEST_CASE(registered_tasks_carry_their_name_in_errors) {
  try {
    task(demo::fails).remote(1).get();
    BOOST_FAIL("must throw");
  } catch (const task_error& e) {
    BOOST_TEST(e.message().find("task demo::fails threw") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_void_function_registers_and_runs_by_name_and_as_a_task) {
  auto nothing = detail::invoke_remote("demo::note", caf::make_message(7));
  BOOST_REQUIRE(nothing);
  BOOST_TEST(nothing->empty());
  BOOST_TEST(demo::last_noted == 7);
  task(demo::note).remote(8).get();
  BOOST_TEST(demo::last_noted == 8);
}

// What task() accepts, registration accepts: the call gets its own copy of
// each argument of the message, which an rvalue reference may take over.
BOOST_AUTO_TEST_CASE(rvalue_reference_parameters_run_by_name_as_they_run_as_tasks) {
  BOOST_TEST(task(demo::concat).remote("a", "b").get() == "ab");
  auto joined =
    detail::invoke_remote("demo::concat", caf::make_message(std::string{"c"}, std::string{"d"}));
  BOOST_REQUIRE(joined);
  BOOST_TEST(joined->get_as<std::string>(0) == "cd");

  auto invoker = detail::find_member_invoker("demo::counter::add_length", typeid(demo::counter));
  BOOST_REQUIRE(invoker);
  demo::counter c{1};
  auto total = (*invoker)(&c, caf::make_message(std::string{"four"}));
  BOOST_REQUIRE(total);
  BOOST_TEST(total->get_as<int>(0) == 5);
}

BOOST_AUTO_TEST_SUITE_END()
