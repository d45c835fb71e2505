#define BOOST_TEST_MODULE actors_interop
#include <boost/test/unit_test.hpp>

#include "actor_support.hpp"
#include "rustyray/internal/error_text.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::Counter;
using test::embedded_fixture;

namespace {

/// Methods whose parameters CAF callers may fill with other number types.
class Meter {
public:
  static Meter create() {
    return Meter{};
  }

  long add(long x) {
    return total_ += x;
  }

  double scale(double x) const {
    return 2 * x;
  }

  int narrow(int x) const {
    return x;
  }

private:
  long total_ = 0;
};

} // namespace

RUSTYRAY_REMOTE(Counter::create, &Counter::add, &Counter::value);
RUSTYRAY_REMOTE(Meter::create, &Meter::add, &Meter::scale, &Meter::narrow);

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

using splitter = caf::typed_actor<caf::replies_to<int>::with<int, int>>;

splitter::behavior_type splitter_impl() {
  return {[](int x) { return std::make_tuple(x / 2, x % 2); }};
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
  self
    ->request(iface, caf::infinite, call_atom::value, std::string{"Counter::add"},
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
BOOST_AUTO_TEST_CASE(a_call_with_arguments_of_other_types_names_the_expected_and_given_types) {
  auto counter = actor(Counter::create).remote(1);
  actor_interface iface = caf_interface(counter);
  auto reply_to = [&](caf::message args) {
    caf::error failure;
    self
      ->request(iface, caf::infinite, call_atom::value, std::string{"Counter::add"},
                std::move(args))
      .receive([&](caf::message&) {}, [&](caf::error& err) { failure = std::move(err); });
    BOOST_CHECK(static_cast<errc>(failure.code()) == errc::type_mismatch);
    return internal::error_text(failure);
  };
  auto text = reply_to(caf::make_message(std::string{"x"}));
  BOOST_TEST(text.find("Counter::add takes (int32_t) but got (std::string)") != std::string::npos,
             text);
  text = reply_to(caf::make_message(1, 2));
  BOOST_TEST(text.find("takes (int32_t) but got (int32_t, int32_t)") != std::string::npos, text);
  text = reply_to(caf::make_message());
  BOOST_TEST(text.find("takes (int32_t) but got ()") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_call_converts_numbers_where_no_value_is_lost) {
  auto meter = actor(Meter::create).remote();
  actor_interface iface = caf_interface(meter);
  auto call = [&](std::string method, caf::message args) {
    caf::expected<caf::message> result{caf::message{}};
    self->request(iface, caf::infinite, call_atom::value, std::move(method), std::move(args))
      .receive([&](caf::message& reply) { result = std::move(reply); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  };
  auto sum = call("Meter::add", caf::make_message(5)); // int for a long
  BOOST_REQUIRE(sum);
  BOOST_TEST(sum->get_as<long>(0) == 5);
  sum = call("Meter::add", caf::make_message(std::uint32_t{7}));
  BOOST_REQUIRE(sum);
  BOOST_TEST(sum->get_as<long>(0) == 12);
  auto scaled = call("Meter::scale", caf::make_message(1.5f));
  BOOST_REQUIRE(scaled);
  BOOST_TEST(scaled->get_as<double>(0) == 3.0);
  scaled = call("Meter::scale", caf::make_message(std::int16_t{4}));
  BOOST_REQUIRE(scaled);
  BOOST_TEST(scaled->get_as<double>(0) == 8.0);
  // Conversions that could lose a value are refused, naming the types.
  auto refused = call("Meter::narrow", caf::make_message(std::int64_t{1}));
  BOOST_REQUIRE(!refused);
  BOOST_TEST(internal::error_text(refused.error()).find("takes (int32_t) but got (int64_t)")
               != std::string::npos,
             internal::error_text(refused.error()));
  BOOST_TEST(!call("Meter::add", caf::make_message(std::uint64_t{1})));
  BOOST_TEST(!call("Meter::narrow", caf::make_message(1.0)));
  BOOST_TEST(!call("Meter::scale", caf::make_message(std::int64_t{1})));
}

BOOST_AUTO_TEST_CASE(an_anonymous_call_runs_and_its_reply_goes_nowhere) {
  auto counter = actor(Counter::create).remote(1);
  actor_interface iface = caf_interface(counter);
  auto add = [&](int x) {
    int result = 0;
    self
      ->request(iface, caf::infinite, call_atom::value, std::string{"Counter::add"},
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
  BOOST_TEST(codes.try_get_text.find("invalid_argument") != std::string::npos, codes.try_get_text);
  self->send_exit(refusing, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_reply_of_several_values_is_a_tuple) {
  auto app_actor = sys.spawn(splitter_impl);
  object_ref<std::tuple<int, int>> halves = wrap(app_actor).ask(7);
  BOOST_CHECK((halves.get() == std::make_tuple(3, 1)));
  auto dynamic = wrap(caf::actor_cast<caf::actor>(app_actor));
  BOOST_CHECK((dynamic.ask<std::tuple<int, int>>(9).get() == std::make_tuple(4, 1)));
  self->send_exit(app_actor, caf::exit_reason::user_shutdown);
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
