#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "rustyray/detail/function_identity.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::internal {

/// What the counters of `state()` count, since the runtime started.
enum class counter : std::uint8_t {
  tasks_submitted,
  tasks_finished,
  tasks_failed,
  /// Extra attempts of tasks with `max_retries`.
  tasks_retried,
  tasks_cancelled,
  actor_calls,
  actor_calls_failed,
  count_ // not a counter: how many there are
};

/// The counters' names, as `state()` shows them, indexed by `counter`.
extern const std::array<const char*, static_cast<std::size_t>(counter::count_)> counter_names;

/// The sums of every thread's counters, indexed by `counter`.
using counter_values = std::array<std::uint64_t, static_cast<std::size_t>(counter::count_)>;

/// One run of a task or an actor call, as the timeline shows it.
struct execution {
  enum class kind : std::uint8_t { task, actor_call };
  enum class outcome : std::uint8_t { finished, failed };

  /// What few runs carry, kept apart so that the usual run is a small
  /// record without strings: every run is written into the ring, whose
  /// slots the cache does not hold.
  struct text {
    /// A name given with `.name(...)`, shown instead of `name`: given names
    /// may be as many as runs, so they are copied, not interned.
    std::string given_name;
    /// Why it failed.
    std::string error;
  };

  /// The function's or method's name, interned by the recorder: a run costs
  /// no string copy.
  const std::string* name = nullptr;
  /// Null unless it has a given name or failed.
  std::shared_ptr<const text> extra;
  object_id result;
  /// The actor of an actor call.
  object_id actor;
  /// Nanoseconds since the recorder started.
  std::int64_t start = 0;
  std::int64_t end = 0;
  /// The track (one thread's runs) it shows on; set by
  /// `recorder::lane::record`.
  std::uint32_t track = 0;
  std::uint16_t attempts = 1;
  kind what = kind::task;
  outcome how = outcome::finished;

  /// Sets `extra` unless both are empty.
  void describe(std::string given_name, std::string error) {
    if (!given_name.empty() || !error.empty())
      extra = std::make_shared<const text>(text{std::move(given_name), std::move(error)});
  }

  [[nodiscard]] const std::string& shown_name() const noexcept {
    return extra && !extra->given_name.empty() ? extra->given_name : *name;
  }
};

/// Records what the runtime executed and counts what it did, for `state()`
/// and `timeline()`, at a cost the task path can bear (~300k tasks/s).
///
/// Each thread that runs or submits work writes to a lane of its own: its
/// counters are written by that thread only (relaxed atomics, no locked
/// instruction) and summed when read. Its executions collect in a small
/// buffer under the lane's own mutex, which only `collect` contends for, and
/// move in batches into one ring that keeps the most recent `capacity`. When
/// a thread ends, its buffer moves to the ring and its lane (counters and all)
/// serves the next new thread: actors come and go with threads of their own,
/// and lanes must not pile up. The runs, though, show on a track per thread
/// (a new one each time a lane serves another thread), under that thread's
/// label: a reused lane never renames what ran before. Create it with
/// `std::make_shared`.
class recorder : public std::enable_shared_from_this<recorder> {
public:
  /// Keeps at most `capacity` executions; 0 records none (counters still count).
  explicit recorder(std::size_t capacity);

  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;

  ~recorder();

  class lane {
  public:
    lane(recorder& owner, std::uint32_t index) : owner_(owner), index_(index) {}

    /// Adds `n` to a counter; call it on the lane's own thread only.
    void bump(counter c, std::uint64_t n = 1) noexcept {
      auto& value = counts_[static_cast<std::size_t>(c)];
      value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    /// Keeps one execution (if recording is on).
    void record(execution&& e);

    /// The interned name for (`type`, `key`), computed with `make()` the first
    /// time this lane sees it: names are demangled once per lane, not per task.
    template <class F>
    const std::string* name(const void* type, const detail::function_identity& key, F&& make) {
      // The same as last time (an actor's host running a stream of calls of
      // one method), else by type first (one hash of a pointer), then the
      // few functions of that type: no key string is built per lookup.
      if (type == last_type_ && key == last_key_)
        return last_name_;
      auto& known = names_[type];
      const std::string* found = nullptr;
      for (const auto& [k, interned] : known) {
        if (k == key) {
          found = interned;
          break;
        }
      }
      if (found == nullptr) {
        known.emplace_back(key, owner_.intern(make()));
        found = known.back().second;
      }
      last_type_ = type;
      last_key_ = key;
      last_name_ = found;
      return found;
    }

    /// Names the lane's thread (its track) in the timeline, unless it has a
    /// name already.
    template <class F>
    void label(F&& make) {
      if (labelled_)
        return;
      labelled_ = true;
      owner_.set_label(track_, make());
    }

  private:
    friend class recorder;

    recorder& owner_;
    const std::uint32_t index_;
    // The track of the thread it serves now: set before that thread's first
    // use of it, read by that thread only.
    std::uint32_t track_ = 0;
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(counter::count_)> counts_{};
    // Touched by the lane's thread only.
    std::unordered_map<const void*,
                       std::vector<std::pair<detail::function_identity, const std::string*>>>
      names_;
    bool labelled_ = false;
    // The last name looked up (`name`).
    const void* last_type_ = nullptr;
    detail::function_identity last_key_;
    const std::string* last_name_ = nullptr;
    std::mutex mtx_;
    std::vector<execution> staged_; // guarded by mtx_
  };

  /// The calling thread's lane, registered on its first use.
  lane& local();

  /// The calling thread ends: its lane goes back for reuse.
  void release(lane& l);

  /// Nanoseconds since the recorder started (steady clock).
  [[nodiscard]] std::int64_t now() const noexcept {
    return (std::chrono::steady_clock::now() - start_).count();
  }

  [[nodiscard]] std::size_t capacity() const noexcept {
    return capacity_;
  }

  [[nodiscard]] counter_values totals() const;

  /// What `timeline` writes.
  struct snapshot {
    /// Every execution kept, by start time.
    std::vector<execution> events;
    /// The label of each track that has one.
    std::unordered_map<std::uint32_t, std::string> labels;
    /// Executions pushed out of the ring by newer ones.
    std::uint64_t dropped = 0;
  };

  [[nodiscard]] snapshot collect();

  /// How many lanes exist (each serves one thread at a time).
  [[nodiscard]] std::size_t lane_count() const;

private:
  /// Moves a full lane buffer into the ring; `lane.mtx_` is held.
  void flush(std::vector<execution>& staged);

  const std::string* intern(std::string name);

  void set_label(std::uint32_t track, std::string text);

  const std::size_t capacity_;
  const std::chrono::steady_clock::time_point start_;
  /// Tells this recorder's lanes from those of an earlier runtime in the
  /// threads' caches (an address could be reused, a generation is not).
  const std::uint64_t generation_;

  mutable std::mutex lanes_mtx_;
  std::vector<std::unique_ptr<lane>> lanes_;                // guarded by lanes_mtx_
  std::unordered_map<std::uint64_t, lane*> lane_of_thread_; // guarded by lanes_mtx_
  std::vector<lane*> free_lanes_;                           // guarded by lanes_mtx_
  std::unordered_set<std::string> names_;                   // guarded by lanes_mtx_
  std::uint32_t next_track_ = 0;                            // guarded by lanes_mtx_
  std::unordered_map<std::uint32_t, std::string> labels_;   // guarded by lanes_mtx_

  mutable std::mutex ring_mtx_;
  std::vector<execution> ring_; // guarded by ring_mtx_
  std::size_t next_ = 0;        // guarded by ring_mtx_: where the next one goes once full
  std::uint64_t dropped_ = 0;   // guarded by ring_mtx_
};

} // namespace rustyray::internal
