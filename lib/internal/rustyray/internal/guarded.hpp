#pragma once

#include <mutex>
#include <utility>

#include "rustyray/internal/adaptive_mutex.hpp"

namespace rustyray::internal {

/// A value reachable only under its lock: `lock()` returns a handle that
/// holds the lock while it lives and gives access to the value. "These
/// fields are guarded by that mutex" is then a rule of the type, not of a
/// comment.
template <class T, class Mutex = adaptive_mutex>
class guarded {
public:
  /// The value, locked while this lives.
  class locked {
  public:
    T& operator*() const noexcept {
      return *value_;
    }
    T* operator->() const noexcept {
      return value_;
    }

  private:
    friend class guarded;
    locked(Mutex& mtx, T& value) : guard_(mtx), value_(&value) {}
    std::lock_guard<Mutex> guard_;
    T* value_;
  };

  template <class... Args>
  explicit guarded(Args&&... args) : value_(std::forward<Args>(args)...) {}

  guarded(const guarded&) = delete;
  guarded& operator=(const guarded&) = delete;

  [[nodiscard]] locked lock() {
    return locked{mtx_, value_};
  }

private:
  Mutex mtx_;
  T value_;
};

} // namespace rustyray::internal
