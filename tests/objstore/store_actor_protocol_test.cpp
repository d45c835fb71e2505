#define BOOST_TEST_MODULE objstore_store_actor_protocol
#include <boost/test/unit_test.hpp>

// The store actor's protocol under CAF's deterministic test coordinator:
// the store runs only when the test runs the scheduler, so each step (a
// request parked, an object resolved, the reply delivered) is observed in
// order, with no thread racing the test.

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/internal/store_actor.hpp"
#include "rustyray/objstore/stored_object.hpp"
#include "rustyray/rustyray.hpp"

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
  return cfg;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing_config(cfg)};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys, true};
  std::shared_ptr<object_table> table = std::make_shared<object_table>(1000);
  caf::actor store = spawn_store_actor(sys, table);

  fixture() {
    sched.run(); // the store starts
  }

  ~fixture() {
    self->send_exit(store, caf::exit_reason::user_shutdown);
    sched.run();
  }

  using get_handle = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<caf::actor&>(), caf::infinite, get_atom::value, object_id{}));

  /// Requests `id` (no timeout: the test clock does not move).
  get_handle ask_get(const object_id& id) {
    return self->request(store, caf::infinite, get_atom::value, id);
  }

  /// The answer `h` got: the int value, or minus the errc code of an error.
  /// Call it only once the answer is in the mailbox (it would wait).
  static int answer(get_handle& h) {
    int result = 0;
    h.receive([&](const stored_object& obj) { result = obj.value.get_as<int>(0); },
              [&](const caf::error& err) { result = -static_cast<int>(err.code()); });
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(objstore_store_actor_protocol, fixture)

BOOST_AUTO_TEST_CASE(a_get_of_a_pending_object_is_parked_until_the_object_resolves) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto h = ask_get(oid(1));
  sched.run();
  BOOST_TEST(self->mailbox().empty()); // parked: no answer before the object exists
  BOOST_REQUIRE(!table->fulfil(oid(1), caf::make_message(23), 4));
  // The waiter hands the value to the store as a message: until the store
  // runs, the requester has nothing.
  BOOST_TEST(self->mailbox().empty());
  BOOST_TEST(sched.has_job());
  sched.run();
  BOOST_TEST(!self->mailbox().empty());
  BOOST_TEST(answer(h) == 23);
}

BOOST_AUTO_TEST_CASE(every_parked_get_is_answered_once) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto a = ask_get(oid(1));
  auto b = ask_get(oid(1));
  auto c = ask_get(oid(1));
  sched.run();
  BOOST_TEST(self->mailbox().empty());
  BOOST_REQUIRE(!table->fulfil(oid(1), caf::make_message(7), 4));
  sched.run();
  BOOST_TEST(answer(a) == 7);
  BOOST_TEST(answer(b) == 7);
  BOOST_TEST(answer(c) == 7);
  BOOST_TEST(self->mailbox().empty()); // no answer twice
  BOOST_TEST(!sched.has_job());
}

BOOST_AUTO_TEST_CASE(a_failed_object_answers_its_parked_gets_with_the_error) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto h = ask_get(oid(1));
  sched.run();
  table->fail(oid(1), make_error(errc::task_failed, "boom"));
  BOOST_TEST(self->mailbox().empty());
  sched.run();
  BOOST_TEST(answer(h) == -static_cast<int>(errc::task_failed));
}

BOOST_AUTO_TEST_CASE(ready_and_unknown_objects_are_answered_in_the_same_step) {
  BOOST_REQUIRE(!table->put(oid(1), caf::make_message(11), 4));
  auto ready = ask_get(oid(1));
  auto unknown = ask_get(oid(2));      // object_lost at once, not parked
  BOOST_TEST(self->mailbox().empty()); // the store has not run yet
  sched.run();
  BOOST_TEST(answer(ready) == 11);
  BOOST_TEST(answer(unknown) == -static_cast<int>(errc::object_lost));
  BOOST_TEST(!sched.has_job()); // nothing left waiting in the store
}

BOOST_AUTO_TEST_CASE(a_value_resolved_after_the_store_quit_goes_nowhere) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  (void)ask_get(oid(1));
  sched.run();
  self->send_exit(store, caf::exit_reason::user_shutdown);
  sched.run();
  // The waiter finds no store to hand the value to: no message, no crash.
  BOOST_REQUIRE(!table->fulfil(oid(1), caf::make_message(5), 4));
  BOOST_TEST(!sched.has_job());
}

BOOST_AUTO_TEST_SUITE_END()
