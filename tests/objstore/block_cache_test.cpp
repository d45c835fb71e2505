#define BOOST_TEST_MODULE objstore_block_cache
#include <boost/test/unit_test.hpp>

#include <vector>

#include "rustyray/objstore/internal/block_cache.hpp"

using rustyray::objstore::internal::block_cache;

BOOST_AUTO_TEST_CASE(a_freed_small_block_is_handed_out_again_for_its_size) {
  block_cache cache;
  auto* a = cache.allocate(88, 8);
  auto* b = cache.allocate(88, 8);
  BOOST_TEST(a != b);
  cache.deallocate(a, 88, 8);
  BOOST_TEST(cache.kept() == 1u);
  auto* other = cache.allocate(200, 8);
  BOOST_TEST(other != a); // another size: another list
  cache.deallocate(other, 200, 8);
  BOOST_TEST(cache.kept() == 2u);
  BOOST_TEST(cache.allocate(88, 8) == a);
  BOOST_TEST(cache.kept() == 1u);
  cache.deallocate(a, 88, 8);
  cache.deallocate(b, 88, 8);
  BOOST_TEST(cache.kept() == 3u);
}

BOOST_AUTO_TEST_CASE(large_blocks_go_to_the_heap_and_the_lists_stay_bounded) {
  block_cache cache;
  auto* big = cache.allocate(block_cache::largest + 1, 8);
  cache.deallocate(big, block_cache::largest + 1, 8);
  BOOST_TEST(cache.kept() == 0u);
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < block_cache::kept_per_size + 10; ++i)
    blocks.push_back(cache.allocate(64, 8));
  for (auto* p : blocks)
    cache.deallocate(p, 64, 8);
  BOOST_TEST(cache.kept() == block_cache::kept_per_size);
}

BOOST_AUTO_TEST_CASE(a_pmr_container_on_it_works_and_gives_its_blocks_back) {
  block_cache cache;
  {
    std::pmr::vector<int> v{&cache};
    for (int i = 0; i < 100; ++i)
      v.push_back(i);
    BOOST_TEST(v[99] == 99);
  }
  // Vectors of up to 128 ints (512 bytes) came from the lists and went back.
  BOOST_TEST(cache.kept() > 0u);
}
