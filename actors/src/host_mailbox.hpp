#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "rustyray/actors/internal/actor_core.hpp"

namespace rustyray::actors::internal {

/// A message to a host besides a new call, read before the calls that came
/// after it.
struct host_signal {
  enum kind : std::uint8_t {
    /// The factory's arguments exist: build the instance.
    start,
    /// `call`'s arguments exist.
    ready,
    /// No handle is left: run the queued calls, then `on_stop`, then end.
    stop,
    /// End the instance now (`flag`: for good); the calls queued before it fail.
    kill,
    /// From a runner (max_concurrency > 1): `call` ended, `flag` if through
    /// `exit_actor()`, on the instance of `generation`.
    done,
    /// From a runner: it found no call left while the host was stopping.
    idle,
    /// From CAF (an exit message to the actor's CAF handle): end at once.
    terminate,
    /// The resources it holds (or waits for) are gone, `reason` says why:
    /// its placement group was removed, or shutdown refused them. End at
    /// once.
    lose_resources,
  };
  host_signal(kind what) : what(what) {} // NOLINT: a kind is a signal

  kind what;
  bool flag = false;
  std::uint64_t generation = 0;
  call_ptr call;
  /// For `kill`: how many calls came before it (they are queued when it
  /// strikes).
  std::size_t calls_before = 0;
  /// For `terminate`: why the CAF face quit.
  caf::error reason;
};

/// A host's mailbox: the calls and signals sent to it, under one lock. A
/// sender posts the host's job only if the host sleeps and none is posted
/// already: a burst of calls costs one post (and at most one wake-up), not
/// one each. Calls keep their submission order; a signal is read before the
/// calls sent after it.
class host_mailbox {
public:
  /// Appends `call`. Returns false if the host has ended (the call was not
  /// taken; `closed_reason` says why). `wake` says whether the caller must
  /// post the host.
  bool push(call_ptr call, bool& wake) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return false;
    calls_.push_back(std::move(call));
    wake = !awake_;
    awake_ = true;
    waiting_.store(true, std::memory_order_release);
    return true;
  }

  /// Appends `signal` (ahead of calls pushed later). False if the host has
  /// ended; `wake` as for `push`.
  bool signal(host_signal signal, bool& wake) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return false;
    signal.calls_before = calls_.size();
    signals_.push_back(std::move(signal));
    wake = !awake_;
    awake_ = true;
    waiting_.store(true, std::memory_order_release);
    return true;
  }

  /// The host: everything sent so far (`calls` and `signals` emptied first;
  /// their memory serves the next sends). Sends post nothing until `sleep`:
  /// the host looks again.
  void take(std::vector<call_ptr>& calls, std::vector<host_signal>& signals) {
    calls.clear();
    signals.clear();
    std::lock_guard<std::mutex> guard{mtx_};
    calls.swap(calls_);
    signals.swap(signals_);
    waiting_.store(false, std::memory_order_relaxed);
  }

  /// A sender could not post the host (no thread can run it): takes the
  /// calls back, for the sender to fail, and lets the next send post again,
  /// unless `signals_left` (then the sender posts for them).
  std::vector<call_ptr> refuse(bool& signals_left) {
    std::lock_guard<std::mutex> guard{mtx_};
    signals_left = !signals_.empty();
    awake_ = signals_left;
    waiting_.store(signals_left, std::memory_order_relaxed);
    return std::move(calls_);
  }

  /// The host stops looking: true if nothing waits, and the next send wakes
  /// it; false if something came in (take it first). A sleeping mailbox
  /// keeps no spare memory (freed after the lock is released).
  bool sleep() {
    std::vector<call_ptr> spare_calls;
    std::vector<host_signal> spare_signals;
    std::lock_guard<std::mutex> guard{mtx_};
    if (!calls_.empty() || !signals_.empty())
      return false;
    awake_ = false;
    spare_calls.swap(calls_);
    spare_signals.swap(signals_);
    return true;
  }

  /// The host ends: later sends fail, and their calls get `reason`.
  /// Returns the calls that came in meanwhile.
  std::vector<call_ptr> close(caf::error reason) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!closed_)
      reason_ = std::move(reason);
    closed_ = true;
    awake_ = true; // nothing wakes an ended host
    waiting_.store(false, std::memory_order_relaxed);
    signals_.clear();
    return std::move(calls_);
  }

  /// Why sends fail (after `close`).
  [[nodiscard]] caf::error closed_reason() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return reason_;
  }

  /// Something waits for the host. Without the lock: a host looking for
  /// more spins on it.
  [[nodiscard]] bool pending() const noexcept {
    return waiting_.load(std::memory_order_acquire);
  }

private:
  mutable std::mutex mtx_;
  std::vector<call_ptr> calls_;      // guarded by mtx_
  std::vector<host_signal> signals_; // guarded by mtx_
  /// The host looks, or its job is posted.
  bool awake_ = false; // guarded by mtx_
  /// `calls_` or `signals_` is not empty (written under mtx_).
  std::atomic<bool> waiting_{false};
  bool closed_ = false; // guarded by mtx_
  caf::error reason_;   // guarded by mtx_
};

} // namespace rustyray::actors::internal
