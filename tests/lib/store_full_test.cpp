#define BOOST_TEST_MODULE lib_store_full
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::code_of;

namespace {

using bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t capacity = 1u << 20; // 1 MiB
constexpr std::size_t kib = 1024;

/// A buffer whose every byte tells where it came from.
bytes pattern(std::size_t size, std::uint8_t tag) {
  bytes b(size);
  for (std::size_t i = 0; i < size; ++i)
    b[i] = static_cast<std::uint8_t>(tag + i % 7);
  return b;
}

bool has_pattern(const bytes& b, std::size_t size, std::uint8_t tag) {
  if (b.size() != size)
    return false;
  for (std::size_t i = 0; i < size; ++i)
    if (b[i] != static_cast<std::uint8_t>(tag + i % 7))
      return false;
  return true;
}

bytes produce(std::size_t size, std::uint8_t tag) {
  return pattern(size, tag);
}

std::size_t length(const bytes& b) {
  return b.size();
}

struct Producer {
  static Producer create() {
    return {};
  }
  bytes make(std::size_t size) {
    return pattern(size, 9);
  }
};

struct small_store : test::runtime_fixture {
  small_store() : runtime_fixture(make()) {}
  static config make() {
    auto cfg = test::small_config();
    cfg.object_store_capacity = capacity;
    cfg.buffer_pool_capacity = 0;
    return cfg;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_store_full, small_store)

BOOST_AUTO_TEST_CASE(a_result_that_cannot_fit_is_the_tasks_error_and_its_dependants_see_it) {
  // 600 KiB pinned: a 600 KiB result cannot fit, whatever is evicted.
  std::vector<object_ref<bytes>> kept;
  for (std::uint8_t tag = 1; tag <= 3; ++tag) {
    kept.push_back(put(pattern(200 * kib, tag)));
    pin(kept.back());
  }
  auto big = task(produce).name("producer").remote(600 * kib, std::uint8_t{4});
  try {
    big.get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::object_store_full);
    BOOST_TEST(e.message().find("pinned") != std::string::npos, e.message());
  }
  auto dependant = task(length).name("consumer").remote(big);
  try {
    dependant.get(30s);
    BOOST_FAIL("get must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::object_store_full);
    BOOST_TEST(e.message().find("task consumer did not run") != std::string::npos, e.message());
  }
  // Larger than the whole store: the same, with another reason.
  auto huge = task(produce).remote(capacity + 1, std::uint8_t{5});
  BOOST_TEST(code_of([&] { huge.get(30s); }) == errc::object_store_full);
  // An actor method's result, too.
  auto producer = actor(Producer::create).remote();
  BOOST_TEST(code_of([&] { producer.task(&Producer::make).remote(600 * kib).get(30s); })
             == errc::object_store_full);
  // What was stored before is intact, and what fits still works.
  for (std::uint8_t tag = 1; tag <= 3; ++tag)
    BOOST_TEST(has_pattern(kept[tag - 1u].get(), 200 * kib, tag));
  BOOST_TEST(has_pattern(task(produce).remote(100 * kib, std::uint8_t{6}).get(30s), 100 * kib, 6));
  auto stats = object_store_stats();
  BOOST_TEST(stats.bytes_used <= capacity);
  BOOST_TEST(stats.pinned_bytes == 600 * kib);
  for (auto& ref : kept)
    unpin(ref);
}

BOOST_AUTO_TEST_CASE(producers_racing_for_a_full_store_get_a_value_or_store_full_never_garbage) {
  // 512 KiB pinned; 8 threads submit tasks whose results range from small
  // to larger than what is left.
  auto pinned = put(pattern(512 * kib, 42));
  pin(pinned);
  constexpr int threads = 8;
  constexpr int per_thread = 24;
  std::atomic<int> values{0};
  std::atomic<int> full{0};
  std::atomic<int> lost{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::vector<object_ref<bytes>> refs;
      std::vector<std::size_t> sizes;
      for (int i = 0; i < per_thread; ++i) {
        // 16, 144, 272, 400, 528, 656 KiB: the last two can never fit.
        auto size = (16 + 128 * static_cast<std::size_t>(i % 6)) * kib;
        sizes.push_back(size);
        refs.push_back(task(produce).remote(size, static_cast<std::uint8_t>(t)));
      }
      for (std::size_t i = 0; i < refs.size(); ++i) {
        auto got = try_get(refs[i], 30s);
        if (got) {
          if (has_pattern(*got, sizes[i], static_cast<std::uint8_t>(t)))
            ++values;
          else
            ++wrong;
        } else if (got.error().code() == static_cast<std::uint8_t>(errc::object_store_full)) {
          ++full;
        } else if (got.error().code() == static_cast<std::uint8_t>(errc::object_lost)) {
          ++lost; // stored, then evicted for a later result before this get
        } else {
          ++wrong;
        }
      }
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(wrong.load() == 0);
  BOOST_TEST(values.load() + full.load() + lost.load() == threads * per_thread);
  // The two sizes that can never fit beside the pinned half.
  BOOST_TEST(full.load() >= threads * per_thread / 3);
  BOOST_TEST(values.load() > 0);
  BOOST_TEST(has_pattern(pinned.get(), 512 * kib, 42));
  BOOST_TEST(object_store_stats().bytes_used <= capacity);
  unpin(pinned);
}

BOOST_AUTO_TEST_CASE(a_put_into_a_full_store_throws_and_leaves_the_store_as_it_was) {
  auto pinned = put(pattern(900 * kib, 3));
  pin(pinned);
  auto before = object_store_stats();
  BOOST_TEST(code_of([] { (void)put(pattern(200 * kib, 4)); }) == errc::object_store_full);
  auto after = object_store_stats();
  BOOST_TEST(after.objects == before.objects);
  BOOST_TEST(after.bytes_used == before.bytes_used);
  BOOST_TEST(after.evictions == before.evictions);
  BOOST_TEST(has_pattern(pinned.get(), 900 * kib, 3));
  unpin(pinned);
}

BOOST_AUTO_TEST_SUITE_END()
