#define BOOST_TEST_MODULE lib_inline_function
#include <boost/test/unit_test.hpp>

#include <array>
#include <memory>

#include "rustyray/detail/inline_function.hpp"

using rustyray::detail::inline_function;

namespace {

/// Counts its live copies, so a test sees every construction destroyed once.
struct counted {
  static inline int alive = 0;
  int value;
  explicit counted(int v) : value(v) {
    ++alive;
  }
  counted(const counted& other) : value(other.value) {
    ++alive;
  }
  counted(counted&& other) noexcept : value(other.value) {
    ++alive;
  }
  ~counted() {
    --alive;
  }
};

using fn = inline_function<int(int), 32>;

} // namespace

BOOST_AUTO_TEST_CASE(a_small_callable_is_kept_inline_and_destroyed_once) {
  {
    counted c{40};
    fn f = [c](int x) { return c.value + x; };
    BOOST_TEST(static_cast<bool>(f));
    BOOST_TEST(f(2) == 42);
    fn g = std::move(f);
    BOOST_TEST(!static_cast<bool>(f));
    BOOST_TEST(g(3) == 43);
    BOOST_TEST(counted::alive == 2); // c, and the one in g
    g = nullptr;
    BOOST_TEST(!static_cast<bool>(g));
    BOOST_TEST(counted::alive == 1);
  }
  BOOST_TEST(counted::alive == 0);
}

BOOST_AUTO_TEST_CASE(a_large_callable_goes_to_the_heap_and_moves_as_a_pointer) {
  {
    std::array<int, 64> big{};
    big[63] = 7;
    counted c{1};
    fn f = [big, c](int x) { return big[63] + c.value + x; };
    BOOST_TEST(f(0) == 8);
    fn g;
    g = std::move(f);
    BOOST_TEST(!static_cast<bool>(f));
    BOOST_TEST(g(2) == 10);
    BOOST_TEST(counted::alive == 2);
  }
  BOOST_TEST(counted::alive == 0);
}

BOOST_AUTO_TEST_CASE(a_move_only_callable_with_state_keeps_it_across_moves) {
  auto owned = std::make_unique<int>(5);
  fn f = [p = std::move(owned)](int x) mutable { return *p += x; };
  BOOST_TEST(f(1) == 6);
  fn g = std::move(f);
  BOOST_TEST(g(1) == 7);
}
