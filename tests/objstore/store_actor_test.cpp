#define BOOST_TEST_MODULE objstore_store_actor
#include <boost/test/unit_test.hpp>

#include <thread>

#include <caf/all.hpp>

#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/stored_object.hpp"
#include "rustyray/rustyray.hpp"
#include "test_printing.hpp"
#include "rustyray/objstore/internal/store_actor.hpp"

using namespace rustyray;
using namespace rustyray::objstore;
using namespace rustyray::objstore::internal;
using namespace std::chrono_literals;

namespace {

object_id oid(std::uint64_t n) {
  return object_id{42, n};
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  std::shared_ptr<object_table> table = std::make_shared<object_table>(1000);
  caf::actor store;

  fixture() : sys{(configure(cfg), cfg)}, self{sys} {
    store = spawn_store_actor(sys, table);
  }

  ~fixture() {
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }

  /// The int value the store answers for a get, or minus the errc code.
  int get(const object_id& id) {
    int result = 0;
    self->request(store, 10s, get_atom::value, id)
      .receive([&](const stored_object& obj) { result = obj.value.get_as<int>(0); },
               [&](const caf::error& err) { result = -static_cast<int>(err.code()); });
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(objstore_store_actor, fixture)

BOOST_AUTO_TEST_CASE(get_answers_ready_and_unknown_objects) {
  BOOST_REQUIRE(!table->put(oid(1), caf::make_message(11), 4));
  BOOST_TEST(get(oid(1)) == 11);
  BOOST_TEST(get(oid(2)) == -static_cast<int>(errc::object_lost));
}

BOOST_AUTO_TEST_CASE(get_of_a_pending_object_is_answered_when_it_arrives) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto pending = self->request(store, 10s, get_atom::value, oid(1));
  // The store stays responsive while the get waits.
  self->request(store, 10s, stats_atom::value)
    .receive([](const store_stats& s) { BOOST_TEST(s.misses == 1u); },
             [](const caf::error&) { BOOST_FAIL("stats must answer"); });
  std::thread producer{[&] { table->fulfil(oid(1), caf::make_message(23), 4); }};
  int value = 0;
  pending.receive([&](const stored_object& obj) { value = obj.value.get_as<int>(0); },
                  [](const caf::error&) { BOOST_FAIL("the get must succeed"); });
  producer.join();
  BOOST_TEST(value == 23);
}

BOOST_AUTO_TEST_CASE(a_stored_error_is_the_reply_error) {
  BOOST_REQUIRE(!table->register_pending(oid(1)));
  auto pending = self->request(store, 10s, get_atom::value, oid(1));
  table->fail(oid(1), make_error(errc::task_failed, "boom"));
  pending.receive([](const stored_object&) { BOOST_FAIL("must fail"); },
                  [](const caf::error& err) {
                    BOOST_TEST(err.code() == static_cast<int>(errc::task_failed));
                    BOOST_TEST(err.context().get_as<std::string>(0) == "boom");
                  });
}

BOOST_AUTO_TEST_CASE(contains_pin_unpin_free_and_stats_by_message) {
  BOOST_REQUIRE(!table->put(oid(1), caf::make_message(1), 100));
  auto ask = [&](auto... xs) {
    caf::error result;
    self->request(store, 10s, xs...).receive([]() {}, [&](const caf::error& err) { result = err; });
    return result;
  };
  bool has = false;
  self->request(store, 10s, contains_atom::value, oid(1))
    .receive([&](bool b) { has = b; }, [](caf::error&) {});
  BOOST_TEST(has);
  BOOST_TEST(!ask(pin_atom::value, oid(1)));
  BOOST_TEST(table->stats().pinned == 1u);
  BOOST_TEST(!ask(unpin_atom::value, oid(1)));
  BOOST_TEST(ask(unpin_atom::value, oid(1)).code() == static_cast<int>(errc::invalid_argument));
  BOOST_TEST(!ask(free_atom::value, oid(1)));
  BOOST_TEST(get(oid(1)) == -static_cast<int>(errc::object_lost));
  self->request(store, 10s, stats_atom::value)
    .receive([](const store_stats& s) { BOOST_TEST(s.bytes_used == 0u); }, [](caf::error&) {});
}

BOOST_AUTO_TEST_SUITE_END()
