#define BOOST_TEST_MODULE objstore_run_record
#include <boost/test/unit_test.hpp>

#include <functional>
#include <memory>

#include "rustyray/objstore/internal/dependencies.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/objstore/internal/store_context.hpp"
#include "rustyray/rustyray.hpp"

// The path every task and actor call takes through the object table, driven
// by hand: submission (result registered, argument pinned, the body's copy
// of the ref counted), the run (gets of the argument answered from the
// value fetched with the pin), completion (one trip out).

using namespace rustyray;
using namespace rustyray::objstore::internal;

namespace {

struct probe_run : run_record {
  std::string describe() const override {
    return "probe run";
  }
};

struct fixture {
  runtime_guard guard{config{}};
  object_ref<int> arg = put(7);
  std::shared_ptr<store_context> store = current_store_or_throw();
  object_table& table = *store->table;
  std::shared_ptr<probe_run> run = std::make_shared<probe_run>();
  /// What a task's body holds: a copy of the argument's ref.
  std::function<int()> body;

  /// Submits the run on `arg`, as `remote` does: true if it is ready.
  bool submit() {
    detail::add_ref_batch batch;
    body = [copy = arg] { return copy.get(); };
    run->result = store->node->next_id();
    run->deps.ids = {arg.id()};
    run->deps.prepare_values();
    auto ready = register_and_await(table, run->result, run, run->deps, [] { return [] {}; });
    return ready && *ready;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_run_answers_gets_of_its_arguments_from_the_values_fetched_with_the_pins,
                        fixture) {
  BOOST_REQUIRE(submit());
  BOOST_TEST(table.stats().pinned == 1u);
  {
    arguments_scope scope{table, *run};
    BOOST_TEST(body() == 7);
    BOOST_TEST(arg.get() == 7);
  }
  BOOST_TEST(run->fetched_gets == 2u);
  BOOST_TEST(arg.get() == 7); // outside the scope: from the table
  BOOST_TEST(run->fetched_gets == 2u);
  (void)complete_run(table, *run, body, caf::message{});
}

BOOST_FIXTURE_TEST_CASE(a_freed_argument_is_looked_up_in_the_table_as_without_the_scope, fixture) {
  BOOST_REQUIRE(submit());
  free(arg);
  {
    arguments_scope scope{table, *run};
    BOOST_CHECK_EXCEPTION(arg.get(), error,
                          [](const error& e) { return e.code() == errc::object_lost; });
  }
  BOOST_TEST(run->fetched_gets == 0u);
  (void)complete_run(table, *run, body, caf::message{});
}

BOOST_FIXTURE_TEST_CASE(completing_a_run_drops_its_arguments_refs_and_pins_and_stores_its_result,
                        fixture) {
  BOOST_REQUIRE(submit());
  auto id = arg.id();
  BOOST_REQUIRE(!complete_run(table, *run, body, caf::make_message(8), sizeof(int)));
  BOOST_TEST(!body); // the arguments were dropped
  BOOST_TEST(table.stats().pinned == 0u);
  BOOST_TEST(run->deps.pinned == 0u);
  auto result = object_ref<int>::adopt(run->result);
  BOOST_TEST(result.get() == 8);
  arg = object_ref<int>{}; // the caller's ref was the last: the body's is gone
  BOOST_TEST((table.status(id) == object_status::unknown));
}

BOOST_FIXTURE_TEST_CASE(a_run_that_never_ran_completes_with_its_error_the_same_way, fixture) {
  BOOST_REQUIRE(submit());
  auto id = arg.id();
  (void)complete_run(table, *run, body,
                     lookup{make_error(errc::task_cancelled, "cancelled before it ran")});
  BOOST_TEST(table.stats().pinned == 0u);
  auto result = object_ref<int>::adopt(run->result);
  BOOST_CHECK_EXCEPTION(result.get(), error,
                        [](const error& e) { return e.code() == errc::task_cancelled; });
  arg = object_ref<int>{};
  BOOST_TEST((table.status(id) == object_status::unknown));
}
