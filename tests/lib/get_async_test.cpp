#define BOOST_TEST_MODULE lib_get_async
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;

/// An event-based actor that awaits `ref` and reports to `reporter` what it
/// got: the value, or the errc code of the failure. It answers pings while it
/// waits.
template <class T>
caf::behavior awaiting(caf::event_based_actor* self, object_ref<T> ref, caf::actor reporter,
                       std::chrono::milliseconds timeout) {
  get_async(self, ref, timeout)
    .then([=](T value) { self->send(reporter, std::string{"value"}, value); },
          [=](const caf::error& err) {
            self->send(reporter, std::string{"error"}, static_cast<int>(err.code()));
          });
  return {[](ping_atom) { return std::string{"pong"}; }};
}

struct fixture : test::embedded_fixture {
  /// Receives the actor's report: ("value", v) or ("error", code).
  template <class T>
  std::pair<std::string, T> report() {
    std::pair<std::string, T> result{"none", T{}};
    self->receive(
      [&](const std::string& kind, T v) {
        result = {kind, v};
      },
      caf::after(10s) >> [] { BOOST_FAIL("no report from the actor"); });
    return result;
  }

  /// Stops an actor and waits until it is gone, with everything it held.
  void stop(const caf::actor& a) {
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {},
                  caf::after(10s) >> [] { BOOST_FAIL("the actor did not stop"); });
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_get_async, fixture)

BOOST_AUTO_TEST_CASE(an_actor_awaits_a_pending_object_without_blocking) {
  auto ref = test::make_pending<int>();
  auto a = sys.spawn(awaiting<int>, ref, caf::actor{self}, forever);
  // The actor serves other messages while it waits.
  self->request(a, 10s, ping_atom::value)
    .receive([](const std::string& pong) { BOOST_TEST(pong == "pong"); },
             [](const caf::error&) { BOOST_FAIL("the awaiting actor must answer"); });
  BOOST_REQUIRE(!test::fulfil(ref, 7));
  auto [kind, value] = report<int>();
  BOOST_TEST(kind == "value");
  BOOST_TEST(value == 7);
  stop(a);
}

BOOST_AUTO_TEST_CASE(a_ready_object_arrives_at_once) {
  auto ref = put(5);
  auto a = sys.spawn(awaiting<int>, ref, caf::actor{self}, forever);
  auto [kind, value] = report<int>();
  BOOST_TEST(kind == "value");
  BOOST_TEST(value == 5);
  stop(a);
}

BOOST_AUTO_TEST_CASE(failures_reach_the_error_handler_with_their_code) {
  auto failed = test::make_pending<int>();
  test::fail(failed, errc::task_failed, "boom");
  auto a = sys.spawn(awaiting<int>, failed, caf::actor{self}, forever);
  auto r1 = report<int>();
  BOOST_TEST(r1.first == "error");
  BOOST_TEST(r1.second == static_cast<int>(errc::task_failed));
  auto wrong = test::retype<int>(put(std::string{"not an int"}));
  auto b = sys.spawn(awaiting<int>, wrong, caf::actor{self}, forever);
  auto r2 = report<int>();
  BOOST_TEST(r2.second == static_cast<int>(errc::type_mismatch));
  auto pending = test::make_pending<int>();
  auto c = sys.spawn(awaiting<int>, pending, caf::actor{self}, 20ms);
  auto r3 = report<int>();
  BOOST_TEST(r3.second == static_cast<int>(errc::timeout));
  for (auto& x : {a, b, c})
    stop(x);
}

BOOST_AUTO_TEST_CASE(void_objects_call_the_value_handler_without_arguments) {
  auto ref = test::make_pending<void>();
  auto a = sys.spawn([ref, reporter = caf::actor{self}](caf::event_based_actor* s) {
    get_async(s, ref).then([=] { s->send(reporter, std::string{"value"}, 0); },
                           [=](const caf::error&) { s->send(reporter, std::string{"error"}, 0); });
  });
  BOOST_REQUIRE(!test::fulfil(ref));
  BOOST_TEST(report<int>().first == "value");
  stop(a); // its handler held a copy of the ref
}

BOOST_AUTO_TEST_CASE(shutdown_answers_a_waiting_actor) {
  auto ref = test::make_pending<int>();
  auto a = sys.spawn(awaiting<int>, ref, caf::actor{self}, forever);
  self->request(a, 10s, ping_atom::value)
    .receive([](const std::string&) {}, [](const caf::error&) {});
  ref = object_ref<int>{}; // the actor's handler still holds it
  shutdown();
  auto [kind, code] = report<int>();
  BOOST_TEST(kind == "error");
  BOOST_TEST(code == static_cast<int>(errc::runtime_not_initialized));
  stop(a);
}

BOOST_AUTO_TEST_SUITE_END()
