#define BOOST_TEST_MODULE lib_recycling_allocator
#include <boost/test/unit_test.hpp>

#include <array>
#include <memory>
#include <thread>

#include "rustyray/internal/recycling_allocator.hpp"

BOOST_AUTO_TEST_CASE(recycled_blocks_serve_the_next_record_of_the_same_key) {
  struct record {
    std::array<char, 200> payload;
  };
  int key = 0;
  rustyray::internal::recycling_allocator<record> alloc{&key};
  auto* first = alloc.allocate(1);
  alloc.deallocate(first, 1);
  auto* again = alloc.allocate(1);
#ifndef __SANITIZE_ADDRESS__
  BOOST_TEST(again == first);
#endif
  // A block freed on another thread goes back to the same stack.
  std::thread other{[&] { alloc.deallocate(again, 1); }};
  other.join();
  auto* third = alloc.allocate(1);
#ifndef __SANITIZE_ADDRESS__
  BOOST_TEST(third == first);
#endif
  alloc.deallocate(third, 1);
  auto shared = std::allocate_shared<record>(alloc);
  BOOST_TEST(shared.use_count() == 1);
}
