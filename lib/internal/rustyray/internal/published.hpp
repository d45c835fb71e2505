#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace rustyray::internal {

/// Bumped by every `published<T>::publish`: a thread re-reads a slot only
/// after some publish, and keeps a weak copy in between.
std::atomic<std::uint64_t>& publish_generation() noexcept;

/// Throws `runtime_not_initialized`: no runtime is running.
[[noreturn]] void throw_not_running();

/// Whether this thread's slot caches are still alive: false once its
/// thread_local destructors ran (in `exit`, before static destructors, which
/// may still drop refs).
bool thread_caches_alive() noexcept;

/// The running runtime's part of type T (the store, the task system, ...),
/// which the runtime publishes at `init` and withdraws at `shutdown`, and
/// every thread reads on each API call. std::atomic_load of a shared_ptr
/// takes a mutex (libstdc++ keeps a small pool of them) that every call from
/// every thread would contend for: `get` reads it only when the generation
/// moved. One slot per T: the per-thread cache belongs to the type.
template <class T>
class published {
public:
  void publish(std::shared_ptr<T> value) {
    std::atomic_store(&value_, std::move(value));
    publish_generation().fetch_add(1, std::memory_order_acq_rel);
  }

  /// The current value, or null.
  std::shared_ptr<T> get() const noexcept {
    thread_local std::weak_ptr<T> cached;
    thread_local std::uint64_t seen = 0;
    if (!thread_caches_alive())
      return load();
    auto generation = publish_generation().load(std::memory_order_acquire);
    if (generation != seen) {
      cached = load();
      seen = generation;
    }
    return cached.lock();
  }

  /// The current value; throws `runtime_not_initialized` without one.
  std::shared_ptr<T> get_or_throw() const {
    if (auto value = get())
      return value;
    throw_not_running();
  }

  /// The current value without the per-thread cache.
  std::shared_ptr<T> load() const noexcept {
    return std::atomic_load(&value_);
  }

private:
  std::shared_ptr<T> value_;
};

} // namespace rustyray::internal
