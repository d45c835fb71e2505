#pragma once

// Shared by the fuzz targets: one CAF actor system per process, configured as
// an application embedding RustyRay would configure it, and helpers to read
// the fuzzer's bytes. Every target defines LLVMFuzzerTestOneInput; it is
// linked either with libFuzzer (./dev fuzz, clang) or with replay_main.cpp,
// which runs the committed corpus once as a CTest test.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "rustyray/rustyray.hpp"

namespace rustyray::fuzz {

/// Stops the process with a message: a violated property of the decoder.
/// libFuzzer (and the replay runner) report the abort with the input.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

#define RUSTYRAY_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::rustyray::fuzz::fail(#cond " (" __FILE__ ":" RUSTYRAY_FUZZ_STR(__LINE__) ")");             \
  } while (false)
#define RUSTYRAY_FUZZ_STR2(x) #x
#define RUSTYRAY_FUZZ_STR(x) RUSTYRAY_FUZZ_STR2(x)

/// An actor system set up like an application's: `rustyray::configure`, plus
/// whatever the target registers as user types. Built once and never
/// destroyed: libFuzzer ends the process with exit(), and ~actor_system
/// would wait for the runtime's actors.
template <class Register>
caf::actor_system& system_once(Register register_types) {
  static caf::actor_system* sys = [&] {
    auto* cfg = new caf::actor_system_config;
    configure(*cfg);
    register_types(*cfg);
    // Two scheduler threads are enough and keep the fuzzer's process small.
    cfg->set("scheduler.max-threads", 2);
    return new caf::actor_system{*cfg};
  }();
  return *sys;
}

/// A runtime embedded in `sys`: one worker, a small store.
inline void init_runtime_once(caf::actor_system& sys) {
  static bool done = [&] {
    config cfg;
    cfg.num_workers = 1;
    cfg.object_store_capacity = 16u << 20;
    cfg.timeline_capacity = 0;
    init(sys, cfg);
    return true;
  }();
  (void)done;
}

/// The bytes after the first (which the targets use to pick a mode).
inline std::vector<char> payload(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return {};
  return std::vector<char>(reinterpret_cast<const char*>(data) + 1,
                           reinterpret_cast<const char*>(data) + size);
}

/// Whether `bytes` name a built-in CAF type whose 0.17 decoder fails
/// outside RustyRay's reach (README, Reliability): std::vector<char>
/// ("@charbuf") is resized to its claimed length (up to 4 GiB) before the
/// input is checked (RustyRay bounds its own byte type,
/// lib/src/bounded_bytes.hpp); a config_value ("@config_value") with an
/// unknown variant index throws std::runtime_error("invalid type found")
/// through CAF's decoder, which ends the process. Any message can hold
/// them, an error's context too.
inline bool names_known_caf_issue(const std::vector<char>& bytes) {
  for (const std::string& builtin : {std::string{"@charbuf"}, std::string{"@config_value"}})
    if (std::search(bytes.begin(), bytes.end(), builtin.begin(), builtin.end()) != bytes.end())
      return true;
  return false;
}

/// Writes `node` over the first 8 bytes of `bytes` in CAF's (network) byte
/// order, so that a decoded ID names an object of this process.
inline void put_node(std::vector<char>& bytes, std::uint64_t node) {
  if (bytes.size() < 8)
    return;
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((node >> (56 - 8 * i)) & 0xff);
}

/// Serializes `x` (which must succeed for a decoded value).
template <class T>
std::vector<char> serialize(caf::actor_system& sys, T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  RUSTYRAY_FUZZ_CHECK(!sink(x));
  return buf;
}

} // namespace rustyray::fuzz
