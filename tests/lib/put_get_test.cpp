#define BOOST_TEST_MODULE lib_put_get
#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

#include <caf/all.hpp>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;
using test::runtime_fixture;

namespace {

/// A user type: inspectable, and counting its copies.
struct point {
  int x = 0;
  int y = 0;
  std::string label;
  static inline int copies = 0;
  point() = default;
  point(int x, int y, std::string label) : x(x), y(y), label(std::move(label)) {}
  point(const point& other) : x(other.x), y(other.y), label(other.label) {
    ++copies;
  }
  point(point&&) = default;
  point& operator=(const point&) = default;
  point& operator=(point&&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, point& p) {
  return f(caf::meta::type_name("point"), p.x, p.y, p.label);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_put_get, runtime_fixture)

BOOST_AUTO_TEST_CASE(put_then_get_returns_the_value) {
  BOOST_TEST(get(put(42)) == 42);
  BOOST_TEST(put(std::string{"hi"}).get() == "hi");
  BOOST_TEST(get(put(2.5), 100ms) == 2.5);
  auto p = get(put(point{1, 2, "p"}));
  BOOST_TEST(p.x == 1);
  BOOST_TEST(p.label == "p");
  std::vector<object_ref<int>> refs{put(1), put(2), put(3)};
  BOOST_TEST(get(refs) == (std::vector<int>{1, 2, 3}));
  BOOST_TEST(get(refs, 1s) == (std::vector<int>{1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(values_are_copied_at_most_once_on_put_and_once_on_get) {
  point p{1, 2, "x"};
  point::copies = 0;
  auto moved = put(std::move(p));
  BOOST_TEST(point::copies == 0);
  point q{3, 4, "y"};
  auto copied = put(q);
  BOOST_TEST(point::copies == 1);
  point::copies = 0;
  auto out = get(copied);
  BOOST_TEST(point::copies == 1);
  BOOST_TEST(out.y == 4);
}

BOOST_AUTO_TEST_CASE(a_moved_buffer_is_stored_without_copy) {
  std::vector<std::uint8_t> buf(1 << 20, 7);
  auto data = buf.data();
  auto ref = put(std::move(buf));
  auto stored = detail::get_message(ref.id(), 0ms);
  BOOST_REQUIRE(stored);
  BOOST_TEST(stored->get_as<std::vector<std::uint8_t>>(0).data() == data);
  BOOST_TEST(get(ref).size() == std::size_t{1} << 20);
}

BOOST_AUTO_TEST_CASE(sizes_are_exact_for_buffers_and_serialized_otherwise) {
  auto s = put(std::string(1000, 'a'));
  BOOST_TEST(object_store_stats().bytes_used == 1000u);
  auto b = put(std::vector<std::uint8_t>(4096));
  auto c = put(std::vector<char>(10));
  BOOST_TEST(object_store_stats().bytes_used == 1000u + 4096u + 10u);
  auto i = put(std::int64_t{1});
  BOOST_TEST(object_store_stats().bytes_used == 5106u + 8u);
  point p{1, 2, "abc"};
  std::vector<char> bytes;
  caf::binary_serializer sink{static_cast<caf::execution_unit*>(nullptr), bytes};
  BOOST_REQUIRE(!sink(p));
  BOOST_TEST(detail::value_size(p) == bytes.size());
  std::vector<double> doubles(100, 1.0);
  bytes.clear();
  caf::binary_serializer sink2{static_cast<caf::execution_unit*>(nullptr), bytes};
  BOOST_REQUIRE(!sink2(doubles));
  BOOST_TEST(detail::value_size(doubles) == bytes.size());
  // A message whose types the reader does not know (a value from another
  // node) sizes the same.
  BOOST_TEST(detail::message_size(caf::make_message(p)) == detail::value_size(p));
  BOOST_TEST(detail::message_size(caf::make_message(doubles)) == detail::value_size(doubles));
  BOOST_TEST(detail::message_size(caf::make_message(std::vector<std::uint8_t>(4096))) == 4096u);
  BOOST_TEST(detail::message_size(caf::make_message(std::string(1000, 'a'))) == 1000u);
  BOOST_TEST(detail::message_size(caf::message{}) == 0u); // a void task's result
  // Several elements: each serialized (the string with its length's byte).
  BOOST_TEST(detail::message_size(caf::make_message(1, std::string{"ab"})) == 4u + 1u + 2u);
}

BOOST_AUTO_TEST_CASE(get_waits_for_a_pending_object) {
  auto ref = test::make_pending<int>();
  BOOST_TEST(!contains(ref));
  auto getter = std::async(std::launch::async, [&] { return get(ref); });
  BOOST_TEST((getter.wait_for(20ms) == std::future_status::timeout));
  BOOST_REQUIRE(!test::fulfil(ref, 99));
  BOOST_TEST(getter.get() == 99);
  BOOST_TEST(contains(ref));
}

BOOST_AUTO_TEST_CASE(get_with_timeout_on_a_pending_object_throws_timeout) {
  auto ref = test::make_pending<int>();
  BOOST_TEST(code_of([&] { get(ref, 30ms); }) == errc::timeout);
  auto result = try_get(ref, 1ms);
  BOOST_REQUIRE(!result);
  BOOST_TEST(result.error().code() == static_cast<std::uint8_t>(errc::timeout));
  // The timed-out waiters are gone; the object can still arrive.
  BOOST_REQUIRE(!test::fulfil(ref, 5));
  BOOST_TEST(get(ref, 0ms) == 5);
}

BOOST_AUTO_TEST_CASE(get_of_a_list_reports_the_first_failure_in_order) {
  auto ready = put(1);
  auto pending = test::make_pending<int>();
  std::vector<object_ref<int>> refs{ready, pending, ready};
  BOOST_TEST(code_of([&] { get(refs, 30ms); }) == errc::timeout);
  std::vector<object_ref<int>> with_nil{ready, object_ref<int>{}};
  BOOST_TEST(code_of([&] { get(with_nil); }) == errc::invalid_argument);
  BOOST_REQUIRE(!test::fulfil(pending, 2));
  BOOST_TEST((get(refs, 0ms) == std::vector<int>{1, 2, 1}));
}

BOOST_AUTO_TEST_CASE(negative_timeouts_are_invalid_arguments) {
  auto ref = put(1);
  BOOST_TEST(code_of([&] { get(ref, -1ms); }) == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_stored_error_is_thrown_as_task_error) {
  auto ref = test::make_pending<int>();
  test::fail(ref, errc::task_failed, "f threw std::runtime_error: boom");
  try {
    get(ref);
    BOOST_FAIL("get must throw");
  } catch (const task_error& e) {
    BOOST_TEST(e.message() == "f threw std::runtime_error: boom");
  }
  auto result = try_get(ref);
  BOOST_REQUIRE(!result);
  BOOST_TEST(result.error().code() == static_cast<std::uint8_t>(errc::task_failed));
  auto cancelled = test::make_pending<int>();
  test::fail(cancelled, errc::task_cancelled, "cancelled");
  BOOST_TEST(code_of([&] { get(cancelled); }) == errc::task_cancelled);
}

BOOST_AUTO_TEST_CASE(reading_with_the_wrong_type_is_type_mismatch) {
  auto ref = put(42);
  auto as_string = test::retype<std::string>(ref);
  try {
    get(as_string);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::type_mismatch);
    BOOST_TEST(e.message().find("int32_t") != std::string::npos);
    BOOST_TEST(e.message().find("read as std::string") != std::string::npos);
  }
  BOOST_TEST(!try_get(as_string));
  auto as_void = test::retype<void>(ref);
  BOOST_TEST(code_of([&] { get(as_void); }) == errc::type_mismatch);
}

BOOST_AUTO_TEST_CASE(void_objects_signal_completion) {
  auto ref = test::make_pending<void>();
  BOOST_REQUIRE(!test::fulfil(ref));
  BOOST_CHECK_NO_THROW(get(ref));
  BOOST_CHECK_NO_THROW(ref.get(10ms));
  BOOST_TEST(static_cast<bool>(try_get(ref)));
}

BOOST_AUTO_TEST_CASE(lost_objects_throw_object_lost) {
  auto ref = put(1);
  rustyray::free(ref);
  BOOST_TEST(!contains(ref));
  try {
    get(ref);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::object_lost);
    BOOST_TEST(e.message().find("freed") != std::string::npos);
  }
  auto unknown = object_ref<int>::adopt(object_id{12345, 1});
  BOOST_TEST(code_of([&] { get(unknown); }) == errc::object_lost);
}

BOOST_AUTO_TEST_CASE(a_put_that_cannot_fit_is_object_store_full) {
  auto before = object_store_stats();
  std::string huge(before.capacity + 1, 'x');
  BOOST_TEST(code_of([&] { (void)put(std::move(huge)); }) == errc::object_store_full);
  auto after = object_store_stats();
  BOOST_TEST(after.objects == before.objects);
  BOOST_TEST(after.puts == before.puts);
}

BOOST_AUTO_TEST_CASE(stats_count_puts_gets_hits_and_misses) {
  auto ref = put(1);
  get(ref);
  get(ref);
  auto pending = test::make_pending<int>();
  (void)try_get(pending, 0ms);
  auto s = object_store_stats();
  BOOST_TEST(s.puts == 1u);
  BOOST_TEST(s.gets == 3u);
  BOOST_TEST(s.hits == 2u);
  BOOST_TEST(s.misses == 1u);
  BOOST_TEST(s.objects == 1u);
  BOOST_TEST(s.capacity == (64u << 20));
}

BOOST_AUTO_TEST_SUITE_END()
