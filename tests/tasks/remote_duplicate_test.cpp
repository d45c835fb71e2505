#define BOOST_TEST_MODULE tasks_remote_duplicate
#include <boost/test/unit_test.hpp>

#include "runtime_fixture.hpp"

using namespace rustyray;

namespace {

int twice(int x) {
  return 2 * x;
}

} // namespace

// The same name twice: the program must not start a runtime.
RUSTYRAY_REMOTE(twice);
RUSTYRAY_REMOTE(twice);

BOOST_AUTO_TEST_CASE(a_duplicate_name_makes_init_fail_naming_it) {
  try {
    init();
    shutdown();
    BOOST_FAIL("init must refuse duplicate registrations");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::invalid_argument);
    BOOST_TEST(e.message().find("\"twice\"") != std::string::npos);
  }
  BOOST_TEST(!is_initialized());
}
