#define BOOST_TEST_MODULE lib_runtime
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <fstream>
#include <future>
#include <thread>

#include <caf/all.hpp>

#include "conditions.hpp"
#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::eventually;

namespace {

/// Threads of this process that CAF started (CAF names them "caf.*").
std::size_t caf_thread_count() {
  std::size_t n = 0;
  if (auto dir = opendir("/proc/self/task")) {
    while (auto entry = readdir(dir)) {
      if (entry->d_name[0] == '.')
        continue;
      std::ifstream comm{std::string{"/proc/self/task/"} + entry->d_name + "/comm"};
      std::string name;
      if (std::getline(comm, name) && name.rfind("caf.", 0) == 0)
        ++n;
    }
    closedir(dir);
  }
  return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_call_without_runtime_fails_with_runtime_not_initialized) {
  BOOST_REQUIRE(!is_initialized());
  auto ref = object_ref<int>::adopt(object_id{1, 1});
  BOOST_TEST(code_of([] { (void)put(1); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([&] { get(ref); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([&] { get(ref, 10ms); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([&] { wait(std::vector{ref}, 1, 0ms); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([] { (void)object_store_stats(); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([&] { pin(ref); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([&] { unpin(ref); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([&] { rustyray::free(ref); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([&] { (void)contains(ref); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([] { (void)state(); }) == errc::runtime_not_initialized);
  BOOST_TEST(code_of([] { timeline("/tmp/rustyray_unused_timeline.json"); })
             == errc::runtime_not_initialized);
  auto result = try_get(ref);
  BOOST_REQUIRE(!result);
  BOOST_TEST(result.error().code() == static_cast<std::uint8_t>(errc::runtime_not_initialized));
  BOOST_CHECK_NO_THROW(shutdown()); // a no-op without runtime
}

BOOST_AUTO_TEST_CASE(init_twice_fails_and_leaves_the_first_runtime_running) {
  init();
  BOOST_TEST(is_initialized());
  auto ref = put(5);
  BOOST_TEST(code_of([] { init(); }) == errc::already_initialized);
  BOOST_TEST(get(ref) == 5);
  ref = object_ref<int>{};
  shutdown();
  BOOST_TEST(!is_initialized());
}

BOOST_AUTO_TEST_CASE(init_shutdown_init_works_and_old_refs_are_harmless) {
  init();
  auto old = put(1);
  shutdown();
  init();
  BOOST_TEST(get(put(2)) == 2);
  // A ref from the previous runtime names an object this runtime never had.
  BOOST_TEST(code_of([&] { get(old); }) == errc::object_lost);
  old = object_ref<int>{}; // releasing it touches nothing
  BOOST_TEST(test::tracked_objects() == 0u);
  shutdown();
}

BOOST_AUTO_TEST_CASE(no_thread_outlives_shutdown) {
  // Thread names in /proc change asynchronously, with no event to wait on:
  // a CAF thread names itself once it runs, and CAF's detached threads
  // signal their end just before they exit.
  auto none = [] { return caf_thread_count() == 0; };
  BOOST_REQUIRE(test::eventually(none));
  for (int i = 0; i < 3; ++i) {
    init();
    BOOST_TEST(get(put(i)) == i);
    // The runtime's own system runs threads (so the check below can fail).
    BOOST_TEST(test::eventually([] { return caf_thread_count() > 0; }));
    shutdown();
    BOOST_TEST(test::eventually(none));
  }
}

BOOST_AUTO_TEST_CASE(shutdown_wakes_a_blocked_get_with_a_clear_error) {
  init();
  auto pending = test::make_pending<int>();
  auto getter = std::async(std::launch::async, [&] { return code_of([&] { get(pending); }); });
  // Make sure the getter waits before shutting down: wait until it counted its miss.
  while (object_store_stats().misses == 0)
    std::this_thread::yield();
  shutdown();
  BOOST_TEST(getter.get() == errc::runtime_not_initialized);
  BOOST_TEST(code_of([] { (void)put(1); }) == errc::runtime_not_initialized);
}

BOOST_AUTO_TEST_CASE(embeds_into_a_caf_application_system) {
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  init(sys);
  BOOST_TEST(get(put(std::string{"embedded"})) == "embedded");
  BOOST_TEST(code_of([&] { init(sys); }) == errc::already_initialized);
  shutdown();
  BOOST_TEST(!is_initialized());
  // The application's system lives on and can host the runtime again.
  init(sys);
  BOOST_TEST(get(put(3)) == 3);
  shutdown();
}

BOOST_AUTO_TEST_CASE(embedding_without_configure_says_how_to_fix_it) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  try {
    init(sys);
    BOOST_FAIL("init must refuse an unconfigured system");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::invalid_config);
    BOOST_TEST(e.message().find("rustyray::configure") != std::string::npos);
  }
  BOOST_TEST(!is_initialized());
}
