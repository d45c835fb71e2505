#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "rustyray/internal/adaptive_mutex.hpp"
#include "rustyray/internal/id_map.hpp"
#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/actors/internal/actor_host.hpp"

namespace rustyray::actors::internal {

/// The actors of one runtime: by ID (for handles loaded from bytes and for
/// shutdown) and by name (named actors live on without handles).
class actor_directory {
public:
  /// `name_taken` if `name` belongs to a live actor in namespace `ns`
  /// (checked before spawning; `add` checks again under the same lock it
  /// inserts with).
  [[nodiscard]] caf::error check_name(const std::string& name, const std::string& ns) const;

  /// Adds a new actor; `name_taken` if its name belongs to a live actor of
  /// its namespace.
  caf::error add(const std::shared_ptr<detail::actor_core>& core, std::shared_ptr<actor_host> host);

  /// The live actor with this ID, or null.
  [[nodiscard]] std::shared_ptr<detail::actor_core> find(const object_id& id) const;

  /// The actor of this name in namespace `ns`, or null.
  [[nodiscard]] std::shared_ptr<detail::actor_core> find_name(const std::string& name,
                                                              const std::string& ns) const;

  /// The actor died for good (kill, no restarts left): its name is free.
  void release_name(const object_id& id);

  /// The host ended: its handles detach from it, and their calls fail with
  /// `reason`.
  void remove(const object_id& id, const caf::error& reason);

  /// Tells `listener` of each name released from now on (the cluster's
  /// table of names). Set before the runtime is published.
  void on_name_released(std::function<void(const detail::actor_core&)> listener) {
    name_released_ = std::move(listener);
  }

  /// How many hosts run.
  [[nodiscard]] std::size_t size() const noexcept {
    return count_.load(std::memory_order_relaxed);
  }

  /// Every host still running, with its actor's ID.
  [[nodiscard]] std::vector<std::pair<object_id, std::shared_ptr<actor_host>>> hosts() const;

  /// Waits until every host has ended (shutdown, after stopping them all).
  void wait_empty() const;

  /// Shutdown: forgets every actor; handles still held detach from CAF.
  void clear();

private:
  struct entry {
    std::weak_ptr<detail::actor_core> core;
    std::shared_ptr<actor_host> host;
    /// Its name is in `by_name_` (until released).
    bool named = false;
  };

  /// Hosts on the actor threads remove entries while a user thread adds
  /// them, each under its shard's lock: short sections, so a waiter spins
  /// before it sleeps. Sharded so that a map's growing or shrinking (a
  /// rehash: O(its entries)) holds back a sixty-fourth of the actors, for a
  /// sixty-fourth of the time. One map of a million entries held every
  /// ending host back long enough for the actor threads' stall monitor to
  /// start threads that all waited on it.
  struct alignas(64) shard {
    mutable rustyray::internal::adaptive_mutex mtx;
    /// Flat: with a million actors, adding and removing one costs a cache
    /// miss or two, not a walk along a bucket's chain.
    rustyray::internal::id_map<entry> by_id; // guarded by mtx
  };
  static constexpr std::size_t shard_count = 64;

  [[nodiscard]] shard& shard_of(const object_id& id) noexcept;
  [[nodiscard]] const shard& shard_of(const object_id& id) const noexcept;

  /// Takes the entry's name out of `by_name_` (if it still names this
  /// actor); the core it held, to be destroyed outside the locks. With the
  /// entry's shard locked; locks `names_mtx_` (always after a shard's).
  std::shared_ptr<detail::actor_core> forget_name(const entry& e);

  std::array<shard, shard_count> shards_;
  /// Entries in all shards: `wait_empty` waits for zero.
  std::atomic<std::size_t> count_{0};
  /// Named actors by (namespace, name).
  using name_table =
    std::map<std::pair<std::string, std::string>, std::shared_ptr<detail::actor_core>>;
  mutable rustyray::internal::adaptive_mutex names_mtx_;
  name_table by_name_; // guarded by names_mtx_
  /// `wait_empty` waits on `emptied_` (the last `remove` wakes it).
  mutable std::mutex empty_mtx_;
  mutable std::condition_variable emptied_;
  std::function<void(const detail::actor_core&)> name_released_;
};

} // namespace rustyray::actors::internal
