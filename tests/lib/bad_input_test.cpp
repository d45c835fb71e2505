#define BOOST_TEST_MODULE lib_bad_input
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "conditions.hpp"
#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::runtime_fixture;

// Out-of-range arguments to the public functions of lib/ and objstore/: each
// answers with the code the README's table documents, never a crash or hang.

BOOST_FIXTURE_TEST_SUITE(lib_bad_input, runtime_fixture)

BOOST_AUTO_TEST_CASE(a_ref_that_names_no_object_is_invalid_argument_everywhere_but_contains) {
  object_ref<int> nil;
  BOOST_TEST(code_of([&] { nil.get(); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { get(nil, 10ms); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { get(std::vector{put(1), nil}); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { wait(std::vector{put(1), nil}, 1, 0ms); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { pin(nil); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { unpin(nil); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { rustyray::free(nil); }) == errc::invalid_argument);
  BOOST_TEST(!contains(nil));
  BOOST_TEST(!cancel(nil));
  auto tried = try_get(nil);
  BOOST_REQUIRE(!tried);
  BOOST_TEST(tried.error().code() == static_cast<std::uint8_t>(errc::invalid_argument));
  // A moved-from ref is nil too.
  auto ref = put(1);
  auto moved = std::move(ref);
  // NOLINTNEXTLINE(bugprone-use-after-move): a moved-from ref is what this checks
  BOOST_TEST(code_of([&] { ref.get(); }) == errc::invalid_argument);
  BOOST_TEST(moved.get() == 1);
}

BOOST_AUTO_TEST_CASE(negative_timeouts_are_invalid_argument_and_forever_is_not) {
  auto ref = put(1);
  BOOST_TEST(code_of([&] { get(ref, -1ms); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { get(std::vector{ref}, -1ms); }) == errc::invalid_argument);
  BOOST_TEST(code_of([&] { wait(std::vector{ref}, 1, std::chrono::milliseconds::min()); })
             == errc::invalid_argument);
  BOOST_TEST(!try_get(ref, -1ms));
  BOOST_TEST(get(ref, forever) == 1);
  BOOST_TEST(get(ref, 0ms) == 1); // zero: do not wait, but a ready object is there
  BOOST_TEST(wait(std::vector{ref}, 1, forever).ready.size() == 1u);
}

BOOST_AUTO_TEST_CASE(get_async_checks_its_arguments_at_once) {
  // The checks run before the actor is touched, as get's do.
  caf::event_based_actor* no_actor = nullptr;
  object_ref<int> nil;
  BOOST_TEST(code_of([&] { (void)get_async(no_actor, nil); }) == errc::invalid_argument);
  auto ref = put(1);
  BOOST_TEST(code_of([&] { (void)get_async(no_actor, ref, -5ms); }) == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(absurdly_long_timeouts_wait_as_forever_does) {
  auto ref = put(7);
  auto almost_forever = std::chrono::milliseconds::max() - 1ms;
  BOOST_TEST(get(ref, almost_forever) == 7);
  BOOST_TEST(get(std::vector{ref}, almost_forever) == std::vector<int>{7});
  BOOST_TEST(wait(std::vector{ref}, 1, almost_forever).ready.size() == 1u);
  // An actor awaiting with such a timeout gets the value, not an instant
  // timeout from an overflowing deadline.
  auto& sys = internal::current_or_throw()->system();
  caf::scoped_actor self{sys};
  auto reply_to = caf::actor_cast<caf::actor>(self);
  sys.spawn([ref, reply_to, almost_forever](caf::event_based_actor* me) -> caf::behavior {
    get_async(me, ref, almost_forever)
      .then([=](int value) { me->send(reply_to, value); },
            [=](const caf::error&) { me->send(reply_to, -1); });
    return {};
  });
  int got = 0;
  self->receive([&](int value) { got = value; }, caf::after(30s) >> [] {});
  BOOST_TEST(got == 7);
  // The actor's copy of the ref goes with the actor, on a CAF thread, after
  // its reply: the fixture's check for dropped objects must not race it.
  ref = object_ref<int>{};
  BOOST_TEST(test::eventually([] { return test::tracked_objects() == 0u; }));
}

BOOST_AUTO_TEST_CASE(empty_lists_are_fine_for_get_and_invalid_for_wait) {
  BOOST_TEST(get(std::vector<object_ref<int>>{}).empty());
  BOOST_TEST(code_of([] { wait(std::vector<object_ref<int>>{}, 1, 0ms); })
             == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(reading_an_object_as_another_type_is_type_mismatch_everywhere) {
  auto ref = put(std::string{"text"});
  auto as_int = test::retype<int>(ref);
  BOOST_TEST(code_of([&] { as_int.get(); }) == errc::type_mismatch);
  BOOST_TEST(code_of([&] { get(std::vector{as_int}); }) == errc::type_mismatch);
  auto tried = try_get(as_int);
  BOOST_REQUIRE(!tried);
  BOOST_TEST(tried.error().code() == static_cast<std::uint8_t>(errc::type_mismatch));
  // A task taking the wrong type gets the mismatch as its argument's error.
  auto twice = task([](int x) { return 2 * x; }).remote(as_int);
  BOOST_TEST(code_of([&] { twice.get(); }) == errc::type_mismatch);
  // The object itself is unharmed.
  BOOST_TEST(ref.get() == "text");
}

BOOST_AUTO_TEST_CASE(unpin_without_pin_is_invalid_argument_and_pin_of_a_lost_object_object_lost) {
  auto ref = put(1);
  BOOST_TEST(code_of([&] { unpin(ref); }) == errc::invalid_argument);
  rustyray::free(ref);
  BOOST_TEST(code_of([&] { pin(ref); }) == errc::object_lost);
  BOOST_CHECK_NO_THROW(rustyray::free(ref)); // freeing twice is harmless
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(refs_from_a_runtime_that_was_shut_down_are_object_lost_and_say_why) {
  init(test::small_config());
  auto old = put(1);
  auto old_pending = test::make_pending<int>();
  shutdown();
  // Without a runtime: runtime_not_initialized.
  BOOST_TEST(code_of([&] { old.get(); }) == errc::runtime_not_initialized);
  init(test::small_config());
  try {
    old.get();
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::object_lost);
    BOOST_TEST(e.message().find("shut down") != std::string::npos, e.message());
  }
  BOOST_TEST(code_of([&] { get(std::vector{old, old_pending}); }) == errc::object_lost);
  BOOST_TEST(code_of([&] { pin(old); }) == errc::object_lost);
  BOOST_TEST(!contains(old));
  BOOST_TEST(!cancel(old_pending));
  // As a task's argument: the task does not run and says which argument.
  auto dependant = task([](int x) { return x; }).remote(old);
  BOOST_TEST(code_of([&] { dependant.get(); }) == errc::object_lost);
  // wait counts it as ready (it will never change).
  BOOST_TEST(wait(std::vector{old}, 1, 0ms).ready.size() == 1u);
  dependant = object_ref<int>{};
  old = object_ref<int>{};
  old_pending = object_ref<int>{};
  BOOST_TEST(test::tracked_objects() == 0u);
  shutdown();
}

BOOST_AUTO_TEST_CASE(absurd_config_values_are_invalid_config_naming_the_key) {
  auto code_with = [](auto change) {
    config cfg;
    change(cfg);
    return code_of([&] { cfg.validate(); });
  };
  BOOST_TEST(code_with([](config& c) { c.object_store_capacity = 0; }) == errc::invalid_config);
  BOOST_TEST(code_with([](config& c) { c.num_workers = 1u << 20; }) == errc::invalid_config);
  BOOST_TEST(code_with([](config& c) { c.num_workers = static_cast<std::size_t>(-1); })
             == errc::invalid_config);
  BOOST_TEST(
    code_with([](config& c) { c.resources["GPU"] = std::numeric_limits<double>::infinity(); })
    == errc::invalid_config);
  BOOST_TEST(
    code_with([](config& c) { c.resources["GPU"] = std::numeric_limits<double>::quiet_NaN(); })
    == errc::invalid_config);
  BOOST_TEST(code_with([](config& c) { c.resources["GPU"] = -1; }) == errc::invalid_config);
  BOOST_TEST(code_with([](config& c) { c.resources["GPU"] = 1e300; }) == errc::invalid_config);
  BOOST_TEST(code_with([](config& c) { c.slow_get_warning = -1ms; }) == errc::invalid_config);
  BOOST_TEST(code_with([](config& c) { c.scheduler_policy = ""; }) == errc::invalid_config);
  config most;
  most.num_workers = 65536;
  BOOST_CHECK_NO_THROW(most.validate());
  try {
    (void)config::from_json({{"num_workers", 100000}});
    BOOST_FAIL("must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::invalid_config);
    BOOST_TEST(e.message().find("num_workers") != std::string::npos, e.message());
  }
  // init refuses such a config and starts nothing.
  config bad;
  bad.num_workers = static_cast<std::size_t>(-1);
  BOOST_TEST(code_of([&] { init(bad); }) == errc::invalid_config);
  BOOST_TEST(!is_initialized());
}

BOOST_AUTO_TEST_CASE(init_on_a_system_without_configure_and_twice_are_refused) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  BOOST_TEST(code_of([&] { init(sys); }) == errc::invalid_config);
  init(test::small_config());
  BOOST_TEST(code_of([] { init(test::small_config()); }) == errc::already_initialized);
  BOOST_CHECK_NO_THROW(shutdown());
  BOOST_CHECK_NO_THROW(shutdown()); // twice: a no-op
}
