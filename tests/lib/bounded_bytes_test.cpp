#define BOOST_TEST_MODULE lib_bounded_bytes
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include <caf/all.hpp>

#include "rustyray/rustyray.hpp"
#include "test_printing.hpp"

using namespace rustyray;

// The largest allocation this thread made while `watching`: the decoder must
// not allocate what the input merely claims. The replaced global operators
// pair malloc with free; GCC cannot see that they replace new/delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
thread_local bool watching = false;
thread_local std::size_t largest = 0;
} // namespace

void* operator new(std::size_t size) {
  if (watching && size > largest)
    largest = size;
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc{};
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using bytes = std::vector<std::uint8_t>;

struct caf_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf_fixture() : sys{(configure(cfg), cfg)} {}

  std::vector<char> encode(const caf::message& msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    BOOST_REQUIRE(!sink(const_cast<caf::message&>(msg)));
    return buf;
  }

  /// Decodes `buf`; `largest` is then the largest allocation it made.
  /// Through `inspect`: CAF 0.17's `source(msg)` drops an element's error and
  /// leaves the message empty.
  caf::error decode(const std::vector<char>& buf, caf::message& out) {
    caf::binary_deserializer source{sys, buf};
    largest = 0;
    watching = true;
    auto err = caf::inspect(static_cast<caf::deserializer&>(source), out);
    watching = false;
    return err;
  }
};

/// `buf` with the length prefix of its last byte vector (the `payload`
/// bytes at its end, after a one-byte length) replaced by `prefix`.
std::vector<char> with_length(std::vector<char> buf, std::size_t payload,
                              std::vector<char> prefix) {
  buf.erase(buf.end() - static_cast<std::ptrdiff_t>(payload) - 1, buf.end());
  buf.insert(buf.end(), prefix.begin(), prefix.end());
  buf.push_back(1);
  return buf;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_bounded_bytes, caf_fixture)

BOOST_AUTO_TEST_CASE(byte_buffers_keep_cafs_wire_format) {
  auto msg = caf::make_message(bytes{1, 2, 3}, std::vector<bytes>{{4}, {}, {5, 6}});
  auto buf = encode(msg);
  // Written as plain CAF writes them: a system without the bound reads them.
  caf::actor_system_config plain_cfg;
  plain_cfg.add_message_type<bytes>("rustyray::bytes");
  caf::actor_system plain{plain_cfg};
  for (auto* system : {&sys, &plain}) {
    caf::message back;
    caf::binary_deserializer source{*system, buf};
    BOOST_REQUIRE(!source(back));
    BOOST_TEST(source.remaining() == 0u);
    BOOST_REQUIRE((back.match_elements<bytes, std::vector<bytes>>()));
    BOOST_TEST((back.get_as<bytes>(0) == bytes{1, 2, 3}));
    BOOST_TEST((back.get_as<std::vector<bytes>>(1) == std::vector<bytes>{{4}, {}, {5, 6}}));
  }
}

// Found by tests/fuzz/message_fuzz.cpp: CAF 0.17 resized the vector to the
// claimed length before checking the input, so these few bytes made the
// process allocate and zero 4 GiB.
BOOST_AUTO_TEST_CASE(a_length_beyond_the_input_is_an_error_before_allocating) {
  auto buf = encode(caf::make_message(bytes{7}));
  auto huge = with_length(buf, 1, {'\xff', '\xff', '\xff', '\xff', '\x0f'});
  caf::message out;
  auto err = decode(huge, out);
  BOOST_TEST((err == caf::sec::end_of_stream), sys.render(err));
  BOOST_TEST(largest < std::size_t{1} << 20);

  auto nested = encode(caf::make_message(std::vector<bytes>{{7}}));
  // The outer count claims 2^28 - 1 buffers in a few bytes.
  auto count_at = nested.size() - 3;
  nested.erase(nested.begin() + static_cast<std::ptrdiff_t>(count_at));
  nested.insert(nested.begin() + static_cast<std::ptrdiff_t>(count_at),
                {'\xff', '\xff', '\xff', '\x7f'});
  err = decode(nested, out);
  BOOST_TEST((err == caf::sec::end_of_stream), sys.render(err));
  BOOST_TEST(largest < std::size_t{1} << 20);
}

BOOST_AUTO_TEST_SUITE_END()
