#define BOOST_TEST_MODULE objstore_store_actor_protocol
#include <boost/test/unit_test.hpp>

// The store actor's message protocol, run step by step under CAF's
// deterministic scheduler (`scheduler.policy = testing`): no scheduler
// thread runs; each `step()` lets the store handle exactly one message, so
// the tests check what has been answered after each step, not within a time.
// CAF's own DSL (caf/test/dsl.hpp) needs CAF's unit test engine, not
// Boost.Test: the fixture drives `caf::scheduler::test_coordinator` itself.

#include <string>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/internal/store_actor.hpp"
#include "rustyray/objstore/stored_object.hpp"
#include "rustyray/rustyray.hpp"
#include "test_printing.hpp"

using namespace rustyray;
using namespace rustyray::objstore;
using namespace rustyray::objstore::internal;

namespace {

object_id oid(std::uint64_t n) {
  return object_id{42, n};
}

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  configure(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  return cfg;
}

/// What a request was answered with: the int value, or the error.
struct answer {
  int value = 0;
  caf::error err;
};

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;
  std::shared_ptr<object_table> table = std::make_shared<object_table>(1000);
  caf::actor store;

  fixture()
    : sys{testing_config(cfg)},
      sched{dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())}, self{sys, true} {
    store = spawn_store_actor(sys, table);
    sched.run(); // the store starts
  }

  ~fixture() {
    self->send_exit(store, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Lets the next scheduled actor handle one message; false if none waits.
  bool step() {
    return sched.try_run_once();
  }

  /// Replies (and other messages) waiting for the test's actor.
  std::size_t replies() {
    return self->mailbox().size();
  }

  /// Sends a request that never times out (no clock runs here); the reply
  /// is read with `read` once `replies()` shows it.
  template <class... Ts>
  auto ask(Ts... xs) {
    return self->request(store, caf::infinite, xs...);
  }

  /// The answer to a get whose reply has arrived (fails the test if it has
  /// not: reading it would block).
  template <class Handle>
  answer read(Handle& handle) {
    BOOST_REQUIRE(replies() > 0);
    answer result;
    handle.receive([&](const stored_object& obj) { result.value = obj.value.get_as<int>(0); },
                   [&](const caf::error& err) { result.err = err; });
    return result;
  }

  /// The error of an answered request with an empty reply (pin, unpin,
  /// free), or none.
  template <class Handle>
  caf::error read_unit(Handle& handle) {
    BOOST_REQUIRE(replies() > 0);
    caf::error result;
    handle.receive([] {}, [&](const caf::error& err) { result = err; });
    return result;
  }
};

int code(errc x) {
  return static_cast<int>(x);
}

std::string context_of(const caf::error& err) {
  return err.context().match_elements<std::string>() ? err.context().get_as<std::string>(0)
                                                     : std::string{};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(objstore_store_actor_protocol, fixture)

BOOST_AUTO_TEST_CASE(a_get_of_a_ready_object_is_answered_in_the_step_that_handles_it) {
  BOOST_REQUIRE(!table->put(oid(1), caf::make_message(11), 4));
  auto get = ask(get_atom::value, oid(1));
  BOOST_TEST(replies() == 0u);
  BOOST_REQUIRE(step());
  BOOST_TEST(replies() == 1u);
  BOOST_TEST(!step()); // nothing else was scheduled: no hand-off for a ready object
  auto got = read(get);
  BOOST_TEST(!got.err);
  BOOST_TEST(got.value == 11);
  BOOST_TEST(table->stats().hits == 1u);
}

BOOST_AUTO_TEST_CASE(a_get_of_a_pending_object_is_answered_exactly_when_the_put_arrives) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto get = ask(get_atom::value, oid(1));
  BOOST_REQUIRE(step());
  // Handled, counted as a miss, and not answered: the store waits without
  // anything scheduled (no polling).
  BOOST_TEST(table->stats().misses == 1u);
  BOOST_TEST(replies() == 0u);
  BOOST_TEST(!sched.has_job());
  // The value arrives on this thread; the store hears of it by a message
  // and answers when it handles that message, not before.
  BOOST_REQUIRE(!table->fulfil(oid(1), caf::make_message(23), 4));
  BOOST_TEST(sched.has_job());
  BOOST_TEST(replies() == 0u);
  BOOST_REQUIRE(step());
  BOOST_TEST(replies() == 1u);
  BOOST_TEST(!step());
  auto got = read(get);
  BOOST_TEST(!got.err);
  BOOST_TEST(got.value == 23);
}

BOOST_AUTO_TEST_CASE(the_store_answers_other_requests_while_a_get_waits) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  BOOST_REQUIRE(!table->put(oid(2), caf::make_message(2), 4));
  auto waiting = ask(get_atom::value, oid(1));
  auto stats = ask(stats_atom::value);
  auto has = ask(contains_atom::value, oid(2));
  auto ready = ask(get_atom::value, oid(2));
  BOOST_TEST(sched.run() == 4u); // one step per request
  BOOST_TEST(replies() == 3u);   // all but the waiting get
  stats.receive([](const store_stats& s) { BOOST_TEST(s.misses == 1u); },
                [](const caf::error&) { BOOST_FAIL("stats must answer"); });
  has.receive([](bool b) { BOOST_TEST(b); }, [](const caf::error&) { BOOST_FAIL("contains"); });
  BOOST_TEST(read(ready).value == 2);
  BOOST_TEST(replies() == 0u);
  BOOST_REQUIRE(!table->fulfil(oid(1), caf::make_message(1), 4));
  BOOST_TEST(sched.run() == 1u);
  BOOST_TEST(read(waiting).value == 1);
}

BOOST_AUTO_TEST_CASE(every_pending_get_is_answered_once_when_the_object_resolves) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  caf::scoped_actor other{sys, true};
  auto first = ask(get_atom::value, oid(1));
  auto second = ask(get_atom::value, oid(1));
  auto third = other->request(store, caf::infinite, get_atom::value, oid(1));
  BOOST_TEST(sched.run() == 3u);
  BOOST_TEST(replies() == 0u);
  BOOST_TEST(other->mailbox().size() == 0u);
  BOOST_REQUIRE(!table->fulfil(oid(1), caf::make_message(7), 4));
  // One hand-off per waiting get, one step each.
  BOOST_TEST(sched.run() == 3u);
  BOOST_TEST(replies() == 2u);
  BOOST_TEST(other->mailbox().size() == 1u);
  BOOST_TEST(read(first).value == 7);
  BOOST_TEST(read(second).value == 7);
  int seen = 0;
  third.receive([&](const stored_object& obj) { seen = obj.value.get_as<int>(0); },
                [](const caf::error&) { BOOST_FAIL("the get must succeed"); });
  BOOST_TEST(seen == 7);
  // Nothing more: no second answer, nothing left scheduled.
  BOOST_TEST(sched.run() == 0u);
  BOOST_TEST(replies() == 0u);
  BOOST_TEST(other->mailbox().size() == 0u);
  // A later get is answered from the table, in its own step.
  auto later = ask(get_atom::value, oid(1));
  BOOST_TEST(sched.run() == 1u);
  BOOST_TEST(read(later).value == 7);
}

BOOST_AUTO_TEST_CASE(a_stored_error_answers_every_waiting_get) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto first = ask(get_atom::value, oid(1));
  auto second = ask(get_atom::value, oid(1));
  BOOST_TEST(sched.run() == 2u);
  table->fail(oid(1), make_error(errc::task_failed, "boom"));
  BOOST_TEST(replies() == 0u);
  BOOST_TEST(sched.run() == 2u);
  for (auto* handle : {&first, &second}) {
    auto got = read(*handle);
    BOOST_TEST(got.err.code() == code(errc::task_failed));
    BOOST_TEST(context_of(got.err) == "boom");
  }
  BOOST_TEST(sched.run() == 0u);
}

BOOST_AUTO_TEST_CASE(free_by_message_fails_a_waiting_get_with_object_lost_after_its_own_reply) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto get = ask(get_atom::value, oid(1));
  BOOST_REQUIRE(step());
  auto freed = ask(free_atom::value, oid(1));
  // The free's step answers the free; the waiter hears of it in the next.
  BOOST_REQUIRE(step());
  BOOST_TEST(replies() == 1u);
  BOOST_TEST(!read_unit(freed));
  BOOST_TEST(replies() == 0u);
  BOOST_REQUIRE(step());
  BOOST_TEST(!step());
  auto got = read(get);
  BOOST_TEST(got.err.code() == code(errc::object_lost));
  BOOST_TEST(context_of(got.err).find("freed") != std::string::npos, context_of(got.err));
}

BOOST_AUTO_TEST_CASE(dropping_the_last_reference_fails_a_waiting_get_with_object_lost) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto get = ask(get_atom::value, oid(1));
  BOOST_REQUIRE(step());
  table->release(oid(1));
  BOOST_TEST(sched.run() == 1u);
  auto got = read(get);
  BOOST_TEST(got.err.code() == code(errc::object_lost));
  BOOST_TEST(context_of(got.err).find("dropped") != std::string::npos, context_of(got.err));
  BOOST_TEST(table->size() == 0u);
}

BOOST_AUTO_TEST_CASE(closing_the_table_fails_every_waiting_get_with_its_reason) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  BOOST_REQUIRE(!table->register_pending(oid(2)));
  auto one = ask(get_atom::value, oid(1));
  auto two = ask(get_atom::value, oid(2));
  BOOST_TEST(sched.run() == 2u);
  table->close(make_error(errc::runtime_not_initialized, "shutting down"));
  BOOST_TEST(replies() == 0u);
  BOOST_TEST(sched.run() == 2u);
  for (auto* handle : {&one, &two}) {
    auto got = read(*handle);
    BOOST_TEST(got.err.code() == code(errc::runtime_not_initialized));
    BOOST_TEST(context_of(got.err) == "shutting down");
  }
}

BOOST_AUTO_TEST_CASE(an_evicted_object_answers_object_lost_and_a_pinned_one_stays) {
  BOOST_REQUIRE(!table->put(oid(1), caf::make_message(1), 600));
  BOOST_REQUIRE(!table->put(oid(2), caf::make_message(2), 600)); // evicts 1
  auto evicted = ask(get_atom::value, oid(1));
  auto pin = ask(pin_atom::value, oid(2));
  BOOST_TEST(sched.run() == 2u);
  auto got = read(evicted);
  BOOST_TEST(got.err.code() == code(errc::object_lost));
  BOOST_TEST(context_of(got.err).find("evicted") != std::string::npos, context_of(got.err));
  BOOST_TEST(!read_unit(pin));
  // Pinned by message: a put that needs its room is refused instead.
  auto full = table->put(oid(3), caf::make_message(3), 600);
  BOOST_TEST(full.code() == code(errc::object_store_full));
  auto kept = ask(get_atom::value, oid(2));
  auto stats = ask(stats_atom::value);
  BOOST_TEST(sched.run() == 2u);
  BOOST_TEST(read(kept).value == 2);
  stats.receive(
    [](const store_stats& s) {
      BOOST_TEST(s.evictions == 1u);
      BOOST_TEST(s.pinned == 1u);
      BOOST_TEST(s.pinned_bytes == 600u);
    },
    [](const caf::error&) { BOOST_FAIL("stats must answer"); });
  // Unpinned, it may go; a second unpin is an error reply.
  auto unpin = ask(unpin_atom::value, oid(2));
  auto again = ask(unpin_atom::value, oid(2));
  BOOST_TEST(sched.run() == 2u);
  BOOST_TEST(!read_unit(unpin));
  BOOST_TEST(read_unit(again).code() == code(errc::invalid_argument));
  BOOST_TEST(!table->put(oid(3), caf::make_message(3), 600));
  BOOST_TEST(!table->contains(oid(2)));
}

BOOST_AUTO_TEST_CASE(a_pin_of_an_unknown_object_is_an_object_lost_reply) {
  auto pin = ask(pin_atom::value, oid(9));
  auto has = ask(contains_atom::value, oid(9));
  BOOST_TEST(sched.run() == 2u);
  BOOST_TEST(read_unit(pin).code() == code(errc::object_lost));
  has.receive([](bool b) { BOOST_TEST(!b); }, [](const caf::error&) { BOOST_FAIL("contains"); });
}

BOOST_AUTO_TEST_CASE(a_value_that_arrives_after_the_store_quit_schedules_nothing) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  (void)ask(get_atom::value, oid(1));
  BOOST_REQUIRE(step());
  self->send_exit(store, caf::exit_reason::user_shutdown);
  sched.run();
  // The waiter in the table finds the store gone: no message, no crash.
  BOOST_REQUIRE(!table->fulfil(oid(1), caf::make_message(1), 4));
  BOOST_TEST(!sched.has_job());
}

BOOST_AUTO_TEST_SUITE_END()
