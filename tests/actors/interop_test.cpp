#define BOOST_TEST_MODULE actors_interop
#include <boost/test/unit_test.hpp>

#include "actor_support.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::Counter;
using test::embedded_fixture;

RUSTYRAY_REMOTE(Counter::create, &Counter::add, &Counter::value);

namespace {

using adder = caf::typed_actor<caf::replies_to<int, int>::with<int>>;

adder::behavior_type adder_impl() {
  return {[](int x, int y) { return x + y; }};
}

using doubler = caf::typed_actor<caf::replies_to<int>::with<int>>;

/// Refuses every request with one of CAF's own errors.
doubler::behavior_type refusing_impl() {
  return {[](int) -> caf::result<int> { return caf::sec::invalid_argument; }};
}

int plus1(int x) {
  return x + 1;
}

/// The code of each way to read a failed ref: get, try_get and a task that
/// takes it as an argument, all of which must agree.
struct read_codes {
  errc get;
  errc try_get;
  errc dependent;
  std::string try_get_text;
};

read_codes codes_of(const object_ref<int>& ref) {
  read_codes codes{};
  codes.get = test::code_of([&] { (void)ref.get(10s); });
  auto tried = try_get(ref, 10s);
  BOOST_REQUIRE(!tried);
  BOOST_TEST(tried.error().category() == errc_category);
  codes.try_get = errc_of(tried.error());
  codes.try_get_text = describe(tried.error());
  auto dependent = task(plus1).remote(ref);
  codes.dependent = test::code_of([&] { (void)dependent.get(10s); });
  return codes;
}

/// An application actor that awaits an actor call's result without blocking.
caf::behavior awaiting(caf::event_based_actor* self, actor_handle<Counter> counter,
                       caf::actor reply_to) {
  get_async(self, counter.task(&Counter::add).remote(10))
    .then([=](int value) { self->send(reply_to, value); },
          [=](const caf::error&) { self->send(reply_to, -1); });
  return {};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(interop, embedded_fixture)

BOOST_AUTO_TEST_CASE(plain_caf_code_calls_an_actor_through_its_typed_interface) {
  auto counter = actor(Counter::create).remote(1);
  actor_interface iface = caf_interface(counter);
  int result = 0;
  self->request(iface, caf::infinite, call_atom::value, std::string{"Counter::add"},
                caf::make_message(41))
    .receive([&](caf::message& reply) { result = reply.get_as<int>(0); },
             [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  BOOST_CHECK_EQUAL(result, 42);
  // Calls from RustyRay see the same state.
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 42);

  auto code_of_reply = [&](std::string method, caf::message args) {
    std::uint8_t code = 0;
    self->request(iface, caf::infinite, call_atom::value, std::move(method), std::move(args))
      .receive([&](caf::message&) {}, [&](caf::error& err) { code = err.code(); });
    return static_cast<errc>(code);
  };
  BOOST_CHECK(code_of_reply("Counter::nothing", caf::make_message(1))
              == errc::function_not_registered);
  BOOST_CHECK(code_of_reply("Counter::add", caf::make_message(std::string{"x"}))
              == errc::type_mismatch);
  BOOST_CHECK((caf::actor_cast<caf::actor>(iface) == counter.caf_handle()));
}

// Found by the message fuzz target: a call without a sender (anon_send, or
// a peer process that sent none) dereferenced the null sender and crashed
// the process.
BOOST_AUTO_TEST_CASE(an_anonymous_call_runs_and_its_reply_goes_nowhere) {
  auto counter = actor(Counter::create).remote(1);
  actor_interface iface = caf_interface(counter);
  auto add = [&](int x) {
    int result = 0;
    self->request(iface, caf::infinite, call_atom::value, std::string{"Counter::add"},
                  caf::make_message(x))
      .receive([&](caf::message& reply) { result = reply.get_as<int>(0); },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return result;
  };
  BOOST_CHECK_EQUAL(add(0), 1); // the actor runs
  caf::anon_send(iface, call_atom::value, std::string{"Counter::add"}, caf::make_message(4));
  caf::anon_send(iface, call_atom::value, std::string{"Counter::nothing"}, caf::make_message());
  // The host runs a ready call while it handles its message, and handles its
  // mailbox in order: the anonymous add ran before this one.
  BOOST_CHECK_EQUAL(add(10), 15);
  BOOST_CHECK_EQUAL(counter.task(&Counter::value).remote().get(), 15);
}

BOOST_AUTO_TEST_CASE(a_wrapped_typed_actor_answers_with_object_refs) {
  auto app_actor = sys.spawn(adder_impl);
  auto wrapped = wrap(app_actor);
  object_ref<int> sum = wrapped.ask(1, 2);
  BOOST_CHECK_EQUAL(sum.get(), 3);
  // The ref feeds actors and tasks like any other.
  auto counter = actor(Counter::create).remote(100);
  BOOST_CHECK_EQUAL(counter.task(&Counter::add).remote(sum).get(), 103);
  // A dynamically typed CAF actor: the caller names the reply type.
  auto dynamic = wrap(caf::actor_cast<caf::actor>(app_actor));
  BOOST_CHECK_EQUAL(dynamic.ask<int>(20, 22).get(), 42);
  self->send_exit(app_actor, caf::exit_reason::user_shutdown);
}

// A request to an actor that exited surfaced as actor_died from get, as
// system_error in a dependent task, and as CAF's raw error from try_get.
BOOST_AUTO_TEST_CASE(a_wrapped_actor_that_exited_fails_alike_on_every_path) {
  auto gone = sys.spawn(adder_impl);
  self->monitor(gone);
  self->send_exit(gone, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  auto codes = codes_of(wrap(gone).ask(1, 2));
  BOOST_TEST(codes.get == errc::actor_died);
  BOOST_TEST(codes.try_get == errc::actor_died);
  BOOST_TEST(codes.dependent == errc::actor_died);
  BOOST_TEST(codes.try_get_text.rfind("actor_died: ", 0) == 0u, codes.try_get_text);
  BOOST_TEST(codes.try_get_text.find("request_receiver_down") != std::string::npos,
             codes.try_get_text);
}

BOOST_AUTO_TEST_CASE(a_wrapped_actor_answering_a_caf_error_fails_alike_on_every_path) {
  auto refusing = sys.spawn(refusing_impl);
  auto codes = codes_of(wrap(refusing).ask(1));
  BOOST_TEST(codes.get == errc::system_error);
  BOOST_TEST(codes.try_get == errc::system_error);
  BOOST_TEST(codes.dependent == errc::system_error);
  BOOST_TEST(codes.try_get_text.find("invalid_argument") != std::string::npos,
             codes.try_get_text);
  self->send_exit(refusing, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(an_event_based_actor_awaits_an_actor_result) {
  auto counter = actor(Counter::create).remote(5);
  auto app = sys.spawn(awaiting, counter, caf::actor{self});
  int result = 0;
  self->receive([&](int value) { result = value; },
                caf::after(10s) >> [] { BOOST_FAIL("no answer"); });
  BOOST_CHECK_EQUAL(result, 15);
  // The handler's copy of the ref dies with the actor: wait for that before
  // the fixture checks that no object is left.
  self->monitor(app);
  self->send_exit(app, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
}

BOOST_AUTO_TEST_SUITE_END()
