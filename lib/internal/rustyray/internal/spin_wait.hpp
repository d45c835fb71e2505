#pragma once

#include <chrono>
#include <thread>

namespace rustyray::internal {

/// A spin-wait hint to the CPU (x86's pause: the sibling hyperthread and
/// the memory bus get the cycles).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// How long a thread that expects an answer from another thread soon (a
/// `get` of a call's result, a host that ran a call) looks for it before it
/// sleeps. On a virtual machine a thread that sleeps costs the one that
/// wakes it an interrupt to a halted virtual CPU, two per synchronous call,
/// each far longer than the call itself (figures: docs/perf-log.md).
constexpr auto spin_budget = std::chrono::microseconds(30);

/// Polls `ready()` for up to `budget`: a short pause loop, then the core goes
/// to whoever else is runnable on it (on 2 cores, often the very thread that
/// will make `ready()` true). Returns `ready()`'s last answer.
template <class Ready>
bool spin_until(const Ready& ready, std::chrono::nanoseconds budget = spin_budget) {
  using clock = std::chrono::steady_clock;
  auto until = clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready())
        return true;
      cpu_relax();
    }
    if (clock::now() >= until)
      return ready();
    std::this_thread::yield();
  }
}

} // namespace rustyray::internal
