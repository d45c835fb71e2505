// Fuzz target: actor_handle<C> decoded by CAF's binary deserializer, as it
// arrives inside a message from another process (a task argument, an
// argument of another actor's method, a stored object).
//
// Input: one mode byte, then the bytes CAF decodes.
//   mode & 0x0f selects the handle type (see below);
//   mode & 0x80 writes this runtime's node ID over the first 8 payload bytes,
//   so decoded IDs can name this process's actors (the sequences of the two
//   actors started at start are small numbers).
// Properties: decoding returns an error or a handle; the handle encodes back
// to exactly the 16 bytes it consumed; a call through it returns the
// method's result or fails with actor_died (unknown ID or another class),
// never hangs or crashes, and never disturbs the actors this process runs.

#include "fuzz_support.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "runtime_state.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

class Gauge {
public:
  static Gauge create(int start) {
    return Gauge{start};
  }
  int value() const {
    return value_;
  }

private:
  explicit Gauge(int start) : value_(start) {}
  int value_;
};

class Meter {
public:
  static Meter create() {
    return Meter{};
  }
  std::string unit() const {
    return "m";
  }
};

struct fixture {
  caf::actor_system& sys;
  std::uint64_t node;
  actor_handle<Gauge> gauge;
  actor_handle<Meter> meter;
};

fixture& env() {
  static fixture* f = [] {
    auto& sys = fuzz::system_once([](caf::actor_system_config&) {});
    fuzz::init_runtime_once(sys);
    auto node = internal::current_or_throw()->node->id();
    auto gauge = actor(Gauge::create).name("gauge").remote(7);
    auto meter = actor(Meter::create).remote();
    return new fixture{sys, node, std::move(gauge), std::move(meter)};
  }();
  return *f;
}

template <class C>
bool decode(fixture& f, const std::vector<char>& bytes, actor_handle<C>& out) {
  caf::binary_deserializer source{f.sys, bytes};
  if (source(out))
    return false;
  auto consumed = bytes.size() - source.remaining();
  auto again = fuzz::serialize(f.sys, out);
  RUSTYRAY_FUZZ_CHECK(again.size() == consumed && consumed == sizeof(object_id));
  RUSTYRAY_FUZZ_CHECK(std::equal(again.begin(), again.end(), bytes.begin()));
  return true;
}

/// A call's result: the value, or actor_died for a handle that names no
/// actor of this class here. Calls take microseconds; 10 s means a hang.
template <class T>
void check_call(const object_ref<T>& ref, bool live) {
  auto result = try_get(ref, 10s);
  if (live) {
    RUSTYRAY_FUZZ_CHECK(static_cast<bool>(result));
  } else {
    RUSTYRAY_FUZZ_CHECK(!result);
    RUSTYRAY_FUZZ_CHECK(result.error().category() == errc_category);
    RUSTYRAY_FUZZ_CHECK(result.error().code() == static_cast<std::uint8_t>(errc::actor_died));
  }
}

template <class C, class M>
void use(fixture& f, const actor_handle<C>& handle, const actor_handle<C>& real, M method) {
  (void)std::hash<actor_handle<C>>{}(handle);
  (void)handle.caf_handle();
  auto copy = handle;
  RUSTYRAY_FUZZ_CHECK(copy == handle);
  bool live = handle == real;
  RUSTYRAY_FUZZ_CHECK(live == static_cast<bool>(handle.core()));
  check_call(handle.task(method).remote(), live);
  (void)f;
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
      actor_handle<Gauge> handle;
      if (decode(f, bytes, handle))
        use(f, handle, f.gauge, &Gauge::value);
      break;
    }
    case 1: {
      actor_handle<Meter> handle;
      if (decode(f, bytes, handle))
        use(f, handle, f.meter, &Meter::unit);
      break;
    }
    case 2: {
      // Loaded over a live handle: the old actor keeps running.
      auto handle = f.gauge;
      caf::binary_deserializer source{f.sys, bytes};
      if (!source(handle))
        use(f, handle, f.gauge, &Gauge::value);
      break;
    }
    default:
      break;
  }
  // The fixture's actors still answer.
  auto still = try_get(f.gauge.task(&Gauge::value).remote(), 10s);
  RUSTYRAY_FUZZ_CHECK(still && *still == 7);
  return 0;
}
