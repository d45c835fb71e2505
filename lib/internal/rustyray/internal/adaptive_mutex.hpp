#pragma once

#include <pthread.h>

namespace rustyray::internal {

/// A mutex that spins briefly before it sleeps (glibc's adaptive mutex).
/// For locks held a few hundred nanoseconds by threads on other cores: on a
/// virtual machine a futex sleep and wake-up costs microseconds, far more
/// than waiting for the holder. Lockable, so std::lock_guard works.
class adaptive_mutex {
public:
  adaptive_mutex() noexcept {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mtx_, &attr);
    pthread_mutexattr_destroy(&attr);
  }

  adaptive_mutex(const adaptive_mutex&) = delete;
  adaptive_mutex& operator=(const adaptive_mutex&) = delete;

  ~adaptive_mutex() {
    pthread_mutex_destroy(&mtx_);
  }

  void lock() noexcept {
    pthread_mutex_lock(&mtx_);
  }

  bool try_lock() noexcept {
    return pthread_mutex_trylock(&mtx_) == 0;
  }

  void unlock() noexcept {
    pthread_mutex_unlock(&mtx_);
  }

private:
  pthread_mutex_t mtx_;
};

} // namespace rustyray::internal
