#define BOOST_TEST_MODULE lib_id_map
#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <memory_resource>
#include <random>
#include <vector>

#include "rustyray/internal/id_map.hpp"

using rustyray::object_id;
using rustyray::internal::id_map;

namespace {

constexpr std::uint64_t node = 0x9f2c01d4e5a6b7c8ull;

} // namespace

BOOST_AUTO_TEST_CASE(finds_what_was_inserted_and_refuses_a_second_insert_of_a_key) {
  id_map<int> m;
  BOOST_TEST(m.find(object_id{node, 1}) == nullptr);
  auto [first, added] = m.insert(object_id{node, 1}, 10);
  BOOST_TEST(added);
  BOOST_TEST(*first == 10);
  auto [again, added_again] = m.insert(object_id{node, 1}, 20);
  BOOST_TEST(!added_again);
  BOOST_TEST(*again == 10);
  BOOST_TEST(m.size() == 1u);
  BOOST_TEST(m.find(object_id{node, 2}) == nullptr);
  BOOST_TEST(m.find(object_id{}) == nullptr);
}

namespace {

/// Random inserts and erases of `keys` random IDs against std::map: the
/// backward shift that closes each gap must never cut a probe chain, through
/// growth and shrinking. (A cut chain shows as a key found missing, or added
/// twice.)
void check_against_model(std::size_t keys, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::vector<object_id> ids;
  for (std::size_t k = 0; k < keys; ++k)
    ids.emplace_back(rng() | 1, rng());
  id_map<std::size_t> m;
  std::map<std::size_t, std::size_t> model; // key index -> value
  for (int round = 0; round < 200000; ++round) {
    auto k = static_cast<std::size_t>(rng() % keys);
    if (rng() % 3 != 0) {
      bool added = m.insert(ids[k], k + 1000).second;
      BOOST_REQUIRE(added == model.emplace(k, k + 1000).second);
    } else {
      auto value = m.erase(ids[k]);
      auto i = model.find(k);
      BOOST_REQUIRE(value == (i == model.end() ? 0 : i->second));
      if (i != model.end())
        model.erase(i);
    }
    BOOST_REQUIRE(m.size() == model.size());
  }
  for (std::size_t k = 0; k < keys; ++k) {
    auto* found = m.find(ids[k]);
    auto i = model.find(k);
    BOOST_REQUIRE((found != nullptr) == (i != model.end()));
    if (found != nullptr)
      BOOST_TEST(*found == i->second);
  }
  std::size_t visited = 0;
  m.for_each([&](const object_id& id, std::size_t value) {
    ++visited;
    BOOST_TEST((id == ids[value - 1000]));
  });
  BOOST_TEST(visited == model.size());
}

} // namespace

BOOST_AUTO_TEST_CASE(erase_returns_the_value_and_leaves_every_other_key_reachable) {
  check_against_model(5000, 42);
}

BOOST_AUTO_TEST_CASE(chains_that_wrap_past_the_last_slot_survive_erases) {
  // Eleven keys keep the table at its smallest (16 slots), up to 11/16
  // full: chains run past its last slot into its first all the time.
  for (std::uint64_t seed = 1; seed <= 20; ++seed)
    check_against_model(11, seed);
}

BOOST_AUTO_TEST_CASE(a_map_that_emptied_frees_its_values) {
  // Values go when their entries go, also those moved by growth and
  // shrinking: none is left behind in a slot.
  auto token = std::make_shared<int>(0);
  {
    id_map<std::shared_ptr<int>> m;
    for (std::uint64_t seq = 1; seq <= 100000; ++seq)
      m.insert(object_id{node, seq}, token);
    BOOST_TEST(token.use_count() == 100001);
    for (std::uint64_t seq = 1; seq <= 100000; seq += 2)
      BOOST_TEST(m.erase(object_id{node, seq}) == token);
    BOOST_TEST(token.use_count() == 50001);
    for (std::uint64_t seq = 2; seq <= 100000; seq += 2)
      (void)m.erase(object_id{node, seq});
    BOOST_TEST(m.empty());
    BOOST_TEST(token.use_count() == 1);
    BOOST_TEST(m.erase(object_id{node, 2}) == nullptr);
  }
  BOOST_TEST(token.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(keys_of_different_nodes_with_one_sequence_are_different_keys) {
  id_map<int> m;
  BOOST_TEST(m.insert(object_id{1, 5}, 1).second);
  BOOST_TEST(m.insert(object_id{2, 5}, 2).second);
  BOOST_TEST(*m.find(object_id{1, 5}) == 1);
  BOOST_TEST(*m.find(object_id{2, 5}) == 2);
  m.clear();
  BOOST_TEST(m.empty());
  BOOST_TEST(m.find(object_id{1, 5}) == nullptr);
}

BOOST_AUTO_TEST_CASE(a_stable_map_keeps_each_entry_in_place_until_it_is_erased) {
  using rustyray::internal::stable_id_map;
  // Counts what the map takes from its resource and gives back.
  struct counting_resource : std::pmr::memory_resource {
    long live = 0;
    void* do_allocate(std::size_t bytes, std::size_t align) override {
      ++live;
      return std::pmr::new_delete_resource()->allocate(bytes, align);
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
      --live;
      std::pmr::new_delete_resource()->deallocate(p, bytes, align);
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
      return this == &other;
    }
  } nodes;
  auto token = std::make_shared<int>(0);
  {
    stable_id_map<std::shared_ptr<int>> m{&nodes};
    std::vector<std::pair<object_id, void*>> places;
    for (std::uint64_t seq = 1; seq <= 10000; ++seq) {
      auto [entry, made] = m.try_emplace(object_id{node, seq});
      BOOST_REQUIRE(made);
      entry->second = token;
      places.emplace_back(entry->first, entry);
    }
    BOOST_TEST(nodes.live == 10000);
    BOOST_TEST(m.try_emplace(object_id{node, 5}).second == false);
    // Growth moved the index, not the entries.
    for (const auto& [id, place] : places)
      BOOST_REQUIRE(static_cast<void*>(m.find(id)) == place);
    // Nine in ten go: the index shrinks.
    for (std::uint64_t seq = 1; seq <= 10000; ++seq)
      if (seq % 10 != 0)
        m.erase(m.find(object_id{node, seq}));
    BOOST_TEST(m.size() == 1000u);
    BOOST_TEST(nodes.live == 1000);
    BOOST_TEST(token.use_count() == 1001);
    // Shrinking moved no entry either.
    for (const auto& [id, place] : places)
      if (id.sequence() % 10 == 0)
        BOOST_REQUIRE(static_cast<void*>(m.find(id)) == place);
    BOOST_TEST(m.find(object_id{node, 1}) == m.end());
    m[object_id{node, 1}] = token;
    std::size_t visited = 0;
    m.for_each([&](const auto& kv) {
      ++visited;
      BOOST_TEST(kv.second == token);
    });
    BOOST_TEST(visited == 1001u);
  }
  // The rest went with the map.
  BOOST_TEST(nodes.live == 0);
  BOOST_TEST(token.use_count() == 1);
}
