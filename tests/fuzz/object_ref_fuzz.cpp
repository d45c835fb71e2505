// Fuzz target: object_id and object_ref<T> decoded by CAF's binary
// deserializer, as they arrive inside messages from another process.
//
// Input: one mode byte, then the bytes CAF decodes.
//   mode & 0x0f selects what is decoded (see below);
//   mode & 0x80 writes this runtime's node ID over the first 8 payload bytes,
//   so that decoded refs name objects this process holds (the two objects
//   put at start have sequences 1 and 2) and reach the object table.
// Properties: decoding returns an error or a value; a decoded value
// serializes back to exactly the bytes it consumed; using a decoded ref
// (try_get, copies, dropping it) returns a value or an error and never
// disturbs the objects this process holds.

#include "fuzz_support.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "runtime_state.hpp"

using namespace rustyray;

namespace {

struct fixture {
  caf::actor_system& sys;
  std::uint64_t node;
  object_ref<int> number;
  object_ref<std::string> text;
};

fixture& env() {
  static fixture* f = [] {
    auto& sys = fuzz::system_once([](caf::actor_system_config&) {});
    fuzz::init_runtime_once(sys);
    auto node = internal::current_or_throw()->node->id();
    auto number = put(42);
    auto text = put(std::string{"forty-two"});
    return new fixture{sys, node, std::move(number), std::move(text)};
  }();
  return *f;
}

/// Decodes a T; on success checks that it encodes again to a value that
/// decodes equal, and, for fixed-size encodings (`exact`), to exactly the
/// bytes consumed (a sequence's length may come in a longer varint form).
template <class T>
bool decode(fixture& f, const std::vector<char>& bytes, T& out, bool exact) {
  caf::binary_deserializer source{f.sys, bytes};
  if (source(out))
    return false;
  auto consumed = bytes.size() - source.remaining();
  auto again = fuzz::serialize(f.sys, out);
  if (exact) {
    RUSTYRAY_FUZZ_CHECK(again.size() == consumed);
    RUSTYRAY_FUZZ_CHECK(std::equal(again.begin(), again.end(), bytes.begin()));
  }
  T back;
  caf::binary_deserializer reread{f.sys, again};
  RUSTYRAY_FUZZ_CHECK(!reread(back) && reread.remaining() == 0);
  RUSTYRAY_FUZZ_CHECK(back == out);
  return true;
}

template <class T>
void use(const object_ref<T>& ref) {
  (void)std::hash<object_ref<T>>{}(ref);
  (void)to_string(ref.id());
  auto copy = ref;
  RUSTYRAY_FUZZ_CHECK(copy == ref);
  if (ref.id().is_nil())
    return;
  // Nothing is pending in this process: a ref finds its value, a stored
  // error, or object_lost at once; never a throw or a wait.
  auto value = try_get(ref, std::chrono::milliseconds{0});
  if (!value)
    RUSTYRAY_FUZZ_CHECK(value.error().category() == errc_category);
}

void check_fixture_intact(fixture& f) {
  auto n = try_get(f.number, std::chrono::milliseconds{0});
  RUSTYRAY_FUZZ_CHECK(n && *n == 42);
  auto s = try_get(f.text, std::chrono::milliseconds{0});
  RUSTYRAY_FUZZ_CHECK(s && *s == "forty-two");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = env();
  if (size == 0)
    return 0;
  auto mode = data[0];
  auto bytes = fuzz::payload(data, size);
  if (mode & 0x80)
    fuzz::put_node(bytes, f.node);
  switch (mode & 0x0f) {
    case 0: {
      object_id id;
      if (decode(f, bytes, id, true)) {
        (void)to_string(id);
        (void)std::hash<object_id>{}(id);
      }
      break;
    }
    case 1: {
      object_ref<int> ref;
      if (decode(f, bytes, ref, true))
        use(ref);
      break;
    }
    case 2: {
      object_ref<std::string> ref;
      if (decode(f, bytes, ref, true))
        use(ref);
      break;
    }
    case 3: {
      std::vector<object_ref<int>> refs;
      if (decode(f, bytes, refs, false))
        for (const auto& ref : refs)
          use(ref);
      break;
    }
    case 4: {
      // A ref loaded over a ref that already names an object drops that one.
      auto ref = f.number;
      caf::binary_deserializer source{f.sys, bytes};
      if (!source(ref))
        use(ref);
      break;
    }
    default:
      break;
  }
  check_fixture_intact(f);
  return 0;
}
