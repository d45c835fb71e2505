#define BOOST_TEST_MODULE lib_id_list
#include <boost/test/unit_test.hpp>

#include <utility>
#include <vector>

#include "rustyray/detail/id_list.hpp"
#include "test_printing.hpp"

using rustyray::object_id;
using rustyray::detail::id_list;

namespace {

std::vector<object_id> ids_of(const id_list& xs) {
  return {xs.begin(), xs.end()};
}

std::vector<object_id> first(std::size_t n) {
  std::vector<object_id> result;
  for (std::size_t i = 1; i <= n; ++i)
    result.emplace_back(7, i);
  return result;
}

id_list list_of(std::size_t n) {
  id_list result;
  for (const auto& id : first(n))
    result.push_back(id);
  return result;
}

} // namespace

// Sizes on both sides of the inline capacity (2), and across the spill.
BOOST_AUTO_TEST_CASE(keeps_ids_in_order_inline_and_beyond) {
  for (std::size_t n : {0, 1, 2, 3, 4, 9}) {
    auto xs = list_of(n);
    BOOST_TEST(xs.size() == n);
    BOOST_TEST(xs.empty() == (n == 0));
    BOOST_TEST(ids_of(xs) == first(n), "n = " << n);
    for (std::size_t i = 0; i < n; ++i)
      BOOST_TEST(xs[i] == object_id(7, i + 1));
  }
}

BOOST_AUTO_TEST_CASE(elements_can_be_swapped_in_place) {
  for (std::size_t n : {2, 5}) {
    auto xs = list_of(n);
    std::swap(xs[0], xs[n - 1]);
    BOOST_TEST(xs[0] == object_id(7, n));
    BOOST_TEST(xs[n - 1] == object_id(7, 1));
  }
}

BOOST_AUTO_TEST_CASE(copies_are_independent) {
  for (std::size_t n : {1, 2, 4}) {
    auto xs = list_of(n);
    id_list ys = xs;
    ys[0] = object_id(9, 9);
    ys.push_back(object_id(9, 10));
    BOOST_TEST(ids_of(xs) == first(n));
    BOOST_TEST(ys.size() == n + 1);
    id_list zs;
    zs = xs;
    BOOST_TEST(ids_of(zs) == first(n));
  }
}

BOOST_AUTO_TEST_CASE(a_moved_from_list_is_empty_and_usable) {
  for (std::size_t n : {1, 2, 4}) {
    auto xs = list_of(n);
    id_list ys = std::move(xs);
    BOOST_TEST(ids_of(ys) == first(n));
    BOOST_TEST(xs.empty()); // NOLINT(bugprone-use-after-move): it is defined
    xs.push_back(object_id(1, 1));
    BOOST_TEST(xs.size() == 1u);
    id_list zs;
    zs = std::move(ys);
    BOOST_TEST(ids_of(zs) == first(n));
    BOOST_TEST(ys.empty()); // NOLINT(bugprone-use-after-move)
  }
}

BOOST_AUTO_TEST_CASE(builds_from_a_braced_list) {
  id_list xs = {object_id(7, 1), object_id(7, 2), object_id(7, 3)};
  BOOST_TEST(ids_of(xs) == first(3));
}
