#define BOOST_TEST_MODULE lib_buffer_pool
#include <boost/test/unit_test.hpp>

#include "rustyray/internal/buffer_pool.hpp"
#include "runtime_fixture.hpp"

using namespace rustyray;
using internal::buffer_pool;

namespace {

constexpr std::size_t big = 8u << 20; // above detail::huge_copy_threshold

caf::message holding(std::vector<std::uint8_t> buf) {
  return caf::make_message(std::move(buf));
}

} // namespace

BOOST_AUTO_TEST_CASE(a_dropped_large_buffer_is_reused_for_the_next_copy) {
  buffer_pool pool{64u << 20};
  auto msg = holding(std::vector<std::uint8_t>(big, 1));
  auto data = msg.get_as<std::vector<std::uint8_t>>(0).data();
  pool.recycle(msg, big);
  BOOST_TEST(pool.bytes() == big);
  std::vector<std::uint8_t> out;
  BOOST_TEST(!pool.take(out, 2 * big + 1)); // too small for that
  BOOST_TEST(!pool.take(out, big / 4));     // too large to waste on that
  BOOST_REQUIRE(pool.take(out, big - 10));
  BOOST_TEST(out.data() == data);
  BOOST_TEST(out.empty());
  BOOST_TEST(pool.bytes() == 0u);
  std::vector<char> chars;
  BOOST_TEST(!pool.take(chars, big)); // shelves are per type
}

BOOST_AUTO_TEST_CASE(shared_small_and_foreign_values_are_left_alone) {
  buffer_pool pool{64u << 20};
  auto msg = holding(std::vector<std::uint8_t>(big, 1));
  auto reader = msg; // a get still holds the value
  pool.recycle(msg, big);
  BOOST_TEST(pool.bytes() == 0u);
  BOOST_TEST(reader.get_as<std::vector<std::uint8_t>>(0).size() == big);
  auto small = holding(std::vector<std::uint8_t>(1000));
  pool.recycle(small, 1000);
  auto number = caf::make_message(42);
  pool.recycle(number, 4);
  BOOST_TEST(pool.bytes() == 0u);
  // The size the store gives decides before the value is looked at.
  auto said_small = holding(std::vector<std::uint8_t>(big, 1));
  pool.recycle(said_small, 100);
  BOOST_TEST(pool.bytes() == 0u);
  BOOST_TEST(said_small.get_as<std::vector<std::uint8_t>>(0).size() == big);
}

BOOST_AUTO_TEST_CASE(the_pool_stays_within_its_capacity_dropping_the_oldest) {
  buffer_pool pool{3 * big};
  std::vector<const std::uint8_t*> datas;
  for (int i = 0; i < 4; ++i) {
    auto msg = holding(std::vector<std::uint8_t>(big, std::uint8_t(i)));
    datas.push_back(msg.get_as<std::vector<std::uint8_t>>(0).data());
    pool.recycle(msg, big);
    BOOST_TEST(pool.bytes() <= 3 * big);
  }
  std::vector<std::uint8_t> out;
  BOOST_REQUIRE(pool.take(out, big));
  BOOST_TEST(out.data() == datas[3]); // newest first
  buffer_pool none{0};
  auto msg = holding(std::vector<std::uint8_t>(big));
  none.recycle(msg, big);
  BOOST_TEST(none.bytes() == 0u);
}

BOOST_FIXTURE_TEST_SUITE(lib_buffer_pool_in_the_store, test::runtime_fixture)

BOOST_AUTO_TEST_CASE(put_and_get_of_large_buffers_reuse_freed_memory_with_correct_content) {
  std::vector<std::uint8_t> source(big, 7);
  const std::uint8_t* first = nullptr;
  {
    auto ref = put(source); // an lvalue: copied
    first = detail::get_message(ref.id(), {})->get_as<std::vector<std::uint8_t>>(0).data();
  } // the object is freed; its buffer goes to the pool
  source.assign(big, 9);
  auto ref = put(source);
  auto stored = detail::get_message(ref.id(), {});
  BOOST_TEST(stored->get_as<std::vector<std::uint8_t>>(0).data() == first);
  stored = caf::message{};
  auto out = get(ref);
  BOOST_TEST((out == source));
}

BOOST_AUTO_TEST_SUITE_END()
