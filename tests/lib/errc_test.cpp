#define BOOST_TEST_MODULE lib_errc
#include <boost/test/unit_test.hpp>

#include <set>

#include <caf/all.hpp>

#include "rustyray/internal/error_text.hpp"
#include "rustyray/rustyray.hpp"
#include "test_printing.hpp"

using namespace rustyray;

namespace {

std::vector<errc> all_codes() {
  std::vector<errc> result;
  for (auto i = 1; i <= static_cast<int>(last_errc); ++i)
    result.push_back(static_cast<errc>(i));
  return result;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_code_has_its_own_name) {
  std::set<std::string> names;
  for (auto code : all_codes()) {
    auto name = to_string(code);
    BOOST_TEST(name.find("errc(") == std::string::npos, "unnamed code " << name);
    names.insert(name);
  }
  BOOST_TEST(names.size() == all_codes().size());
  BOOST_TEST(to_string(errc::object_lost) == "object_lost");
}

BOOST_AUTO_TEST_CASE(error_carries_code_and_message) {
  error e{errc::object_lost, "object x was evicted; pin it"};
  BOOST_TEST(e.code() == errc::object_lost);
  BOOST_TEST(e.message() == "object x was evicted; pin it");
  BOOST_TEST(std::string{e.what()} == "object_lost: object x was evicted; pin it");
}

BOOST_AUTO_TEST_CASE(task_failed_throws_task_error_and_others_plain_error) {
  BOOST_CHECK_THROW(throw_error(errc::task_failed, "f threw"), task_error);
  try {
    throw_error(errc::timeout, "late");
  } catch (const task_error&) {
    BOOST_FAIL("timeout must not be a task_error");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::timeout);
  }
}

BOOST_AUTO_TEST_CASE(every_code_survives_caf_error_round_trip) {
  for (auto code : all_codes()) {
    auto err = make_error(code, "details for " + to_string(code));
    BOOST_TEST(err.category() == errc_category);
    try {
      detail::throw_caf_error(err);
    } catch (const error& e) {
      BOOST_TEST(e.code() == code);
      BOOST_TEST(e.message() == "details for " + to_string(code));
      auto back = detail::to_caf_error(e);
      BOOST_TEST(back == err);
    }
  }
}

BOOST_AUTO_TEST_CASE(caf_system_errors_map_to_codes) {
  auto code_of = [](caf::error err) {
    try {
      detail::throw_caf_error(err);
    } catch (const error& e) {
      return e.code();
    }
    return errc{};
  };
  BOOST_TEST(code_of(caf::sec::request_timeout) == errc::timeout);
  BOOST_TEST(code_of(caf::sec::request_receiver_down) == errc::actor_died);
  BOOST_TEST(code_of(caf::sec::unexpected_message) == errc::system_error);
}

// The public twins of what get throws: code and text of any caf::error,
// without an actor_system, the same as the exception get would throw.
BOOST_AUTO_TEST_CASE(errc_of_and_describe_say_what_get_would_throw) {
  auto thrown = [](const caf::error& err) -> std::pair<errc, std::string> {
    try {
      detail::throw_caf_error(err);
    } catch (const error& e) {
      return {e.code(), e.what()};
    }
    return {};
  };
  std::vector<caf::error> errors{make_error(errc::object_lost, "object x was evicted"),
                                 caf::sec::request_timeout, caf::sec::request_receiver_down,
                                 caf::sec::invalid_argument, caf::error{200, errc_category}};
  for (const auto& err : errors) {
    auto [code, text] = thrown(err);
    BOOST_TEST(errc_of(err) == code);
    BOOST_TEST(describe(err) == text);
  }
  BOOST_TEST(describe(make_error(errc::object_lost, "object x was evicted"))
             == "object_lost: object x was evicted");
  BOOST_TEST(errc_of(caf::sec::request_receiver_down) == errc::actor_died);
  BOOST_TEST(describe(caf::sec::invalid_argument).find("invalid_argument") != std::string::npos,
             describe(caf::sec::invalid_argument));
  BOOST_TEST(describe(caf::error{}) == "no error");
  BOOST_TEST(errc_of(caf::error{}) == errc::system_error);
}

// Found by the error fuzz target (tests/fuzz/error_fuzz.cpp): bytes from
// another process may carry a rustyray code that no errc has.
BOOST_AUTO_TEST_CASE(an_unknown_rustyray_code_is_a_system_error) {
  caf::error err{200, errc_category, caf::make_message(std::string{"from the future"})};
  try {
    detail::throw_caf_error(err);
    BOOST_FAIL("must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::system_error);
    BOOST_TEST(e.message().find("unknown RustyRay code 200") != std::string::npos, e.message());
    BOOST_TEST(e.message().find("from the future") != std::string::npos, e.message());
  }
}

// Found by the error fuzz target: a dependant of an object holding a CAF
// error (a failed reply of an application's actor) took the CAF code as an
// errc, so request_receiver_down (CAF code 3) surfaced as object_lost.
BOOST_AUTO_TEST_CASE(a_dependant_of_a_caf_error_keeps_its_meaning) {
  auto code_of = [](const caf::error& err) {
    BOOST_TEST(err.category() == errc_category);
    return static_cast<errc>(err.code());
  };
  BOOST_TEST(code_of(internal::did_not_run("task t", caf::sec::request_receiver_down))
             == errc::actor_died);
  BOOST_TEST(code_of(internal::did_not_run("task t", caf::sec::request_timeout)) == errc::timeout);
  BOOST_TEST(code_of(internal::did_not_run("task t", caf::sec::unexpected_message))
             == errc::system_error);
  BOOST_TEST(code_of(internal::did_not_run("task t", caf::error{200, errc_category}))
             == errc::system_error);
  // caf::error::category() of an empty error dereferences null: an empty
  // error decoded from bytes crashed error_text.
  BOOST_TEST(code_of(internal::did_not_run("task t", caf::error{})) == errc::system_error);
  BOOST_TEST(internal::error_text(caf::error{}) == "no error");
  auto chained = internal::did_not_run("task t", make_error(errc::task_failed, "f threw"));
  BOOST_TEST(code_of(chained) == errc::task_failed);
  BOOST_TEST(internal::error_text(chained) == "task t did not run: f threw");
}

BOOST_AUTO_TEST_CASE(errors_travel_inside_serialized_messages_and_render) {
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  auto err = make_error(errc::object_store_full, "needs 10 bytes; raise capacity");
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto msg = caf::make_message(err);
  BOOST_REQUIRE(!sink(msg));
  caf::message loaded;
  caf::binary_deserializer source{sys, buf};
  BOOST_REQUIRE(!source(loaded));
  BOOST_REQUIRE(loaded.match_elements<caf::error>());
  BOOST_TEST(loaded.get_as<caf::error>(0) == err);
  BOOST_TEST(sys.render(err) == "object_store_full: needs 10 bytes; raise capacity");
}
