#define BOOST_TEST_MODULE lib_object_ref
#include <boost/test/unit_test.hpp>

#include <unordered_set>

#include <caf/all.hpp>

#include "runtime_fixture.hpp"

using namespace rustyray;
using test::runtime_fixture;

namespace {

template <class T>
std::vector<char> serialize(caf::actor_system& sys, T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  BOOST_REQUIRE(!sink(x));
  return buf;
}

struct caf_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf_fixture() : sys{(configure(cfg), cfg)} {}
};

} // namespace

BOOST_AUTO_TEST_CASE(serialized_bytes_are_the_id_and_nothing_else) {
  runtime_fixture rt;
  caf_fixture caf;
  auto ref = put(7);
  auto id = ref.id();
  auto ref_bytes = serialize(caf.sys, ref);
  auto id_bytes = serialize(caf.sys, id);
  BOOST_TEST(ref_bytes.size() == 16u);
  BOOST_TEST(ref_bytes == id_bytes);
  std::uint64_t node = id.node();
  std::uint64_t seq = id.sequence();
  std::vector<char> fields;
  caf::binary_serializer sink{caf.sys, fields};
  BOOST_REQUIRE(!sink(node, seq));
  BOOST_TEST(ref_bytes == fields);
}

BOOST_AUTO_TEST_CASE(a_ref_survives_a_binary_round_trip_and_keeps_the_object) {
  runtime_fixture rt;
  caf_fixture caf;
  auto ref = put(std::string{"payload"});
  auto bytes = serialize(caf.sys, ref);
  object_ref<std::string> loaded;
  caf::binary_deserializer source{caf.sys, bytes};
  BOOST_REQUIRE(!source(loaded));
  BOOST_TEST(source.remaining() == 0u);
  BOOST_TEST(loaded == ref);
  ref = object_ref<std::string>{}; // the loaded ref alone keeps the object alive
  BOOST_TEST(loaded.get() == "payload");
}

BOOST_AUTO_TEST_CASE(a_ref_loaded_without_runtime_throws_runtime_not_initialized) {
  caf_fixture caf;
  std::vector<char> bytes;
  {
    runtime_fixture rt;
    auto ref = put(1);
    bytes = serialize(caf.sys, ref);
  }
  BOOST_REQUIRE(!is_initialized());
  object_ref<int> loaded;
  caf::binary_deserializer source{caf.sys, bytes};
  BOOST_REQUIRE(!source(loaded));
  BOOST_TEST(!loaded.id().is_nil());
  BOOST_TEST(test::code_of([&] { loaded.get(); }) == errc::runtime_not_initialized);
  BOOST_TEST(test::code_of([&] { get(loaded); }) == errc::runtime_not_initialized);
}

BOOST_AUTO_TEST_CASE(refs_compare_hash_and_copy_by_id) {
  runtime_fixture rt;
  auto a = put(1);
  auto b = put(1);
  auto a2 = a;
  BOOST_TEST((a == a2));
  BOOST_TEST((a != b));
  BOOST_TEST(std::hash<object_ref<int>>{}(a) == std::hash<object_ref<int>>{}(a2));
  std::unordered_set<object_ref<int>> set{a, b, a2};
  BOOST_TEST(set.size() == 2u);
  BOOST_TEST(a.id().node() == b.id().node());
  BOOST_TEST(a.id().sequence() != b.id().sequence());
}

BOOST_AUTO_TEST_CASE(the_last_ref_frees_the_object) {
  runtime_fixture rt;
  auto before = object_store_stats().bytes_used;
  BOOST_TEST(before == 0u);
  {
    auto ref = put(std::string(1000, 'x'));
    BOOST_TEST(object_store_stats().bytes_used == 1000u);
    auto copy = ref;
    auto moved = std::move(ref);
    BOOST_TEST(ref.id().is_nil());
    { auto third = copy; }
    BOOST_TEST(object_store_stats().bytes_used == 1000u);
    copy = moved;
    BOOST_TEST(object_store_stats().bytes_used == 1000u);
  }
  BOOST_TEST(object_store_stats().bytes_used == 0u);
  BOOST_TEST(object_store_stats().objects == 0u);
  BOOST_TEST(test::tracked_objects() == 0u);
}

BOOST_AUTO_TEST_CASE(refs_inside_stored_objects_keep_their_targets) {
  runtime_fixture rt;
  auto outer = put(std::vector<object_ref<int>>{put(1), put(2), put(3)});
  BOOST_TEST(object_store_stats().objects == 4u);
  auto inner = get(outer);
  BOOST_TEST(inner.size() == 3u);
  BOOST_TEST(get(inner[2]) == 3);
  inner.clear();
  outer = object_ref<std::vector<object_ref<int>>>{};
  BOOST_TEST(object_store_stats().objects == 0u);
}

BOOST_AUTO_TEST_CASE(a_nil_ref_names_no_object) {
  runtime_fixture rt;
  object_ref<int> nil;
  BOOST_TEST(nil.id().is_nil());
  BOOST_TEST(test::code_of([&] { nil.get(); }) == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(object_ids_print_node_and_sequence) {
  object_id id{0xabcdef, 42};
  BOOST_TEST(to_string(id) == "0000000000abcdef.42");
  BOOST_TEST(object_id{}.is_nil());
  BOOST_TEST(!id.is_nil());
}
