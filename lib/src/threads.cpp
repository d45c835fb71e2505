#include "rustyray/internal/threads.hpp"

#include <mutex>

#include <caf/logger.hpp>

#include "rustyray/error.hpp"
#include "rustyray/log.hpp"
#include "rustyray/internal/published.hpp"

namespace rustyray::internal {

thread_local blocking_observer* current_blocking_observer = nullptr;

thread_local bool on_scheduler_thread = false;

void warn_blocking_on_scheduler_thread() noexcept {
  static std::once_flag warned;
  std::call_once(warned, [] {
    rustyray::log(
      rustyray::log_level::warning,
      "a blocking get or wait runs on a CAF scheduler thread (inside an event-based actor, "
      "say). It holds that thread until the object is ready; once every scheduler thread is "
      "held so, nothing runs and the call waits until its timeout, or forever. In a CAF actor, "
      "use rustyray::get_async(self, ref) instead. (Shown once.)");
  });
}

void release_thread_logger() noexcept {
  caf::logger::set_current_actor_system(nullptr);
}

void throw_not_running() {
  throw error{errc::runtime_not_initialized,
              "no RustyRay runtime is running in this process; call rustyray::init() "
              "first (and do not use object refs after rustyray::shutdown())"};
}

std::atomic<std::uint64_t>& publish_generation() noexcept {
  static std::atomic<std::uint64_t> generation{1};
  return generation;
}

namespace {

// Trivially destructible, so readable after this thread's thread_local
// destructors ran; the guard below, constructed before any slot's cache on
// this thread, is destroyed after them and marks it.
thread_local bool caches_gone = false;

struct cache_guard {
  ~cache_guard() {
    caches_gone = true;
  }
};

} // namespace

bool thread_caches_alive() noexcept {
  if (caches_gone)
    return false;
  thread_local cache_guard guard;
  (void)guard;
  return true;
}

} // namespace rustyray::internal
