#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>

#include "rustyray/internal/adaptive_mutex.hpp"
#include "rustyray/internal/id_map.hpp"
#include "rustyray/objstore/internal/block_cache.hpp"
#include "rustyray/objstore/internal/dependency_wait.hpp"
#include "rustyray/objstore/internal/remote_objects.hpp"
#include "rustyray/object_id.hpp"
#include "rustyray/objstore/store_stats.hpp"

namespace rustyray::objstore::internal {

/// Given each value the table drops, with its size, outside the locks, before
/// it is destroyed: a chance to reuse its memory.
using recycler = std::function<void(caf::message&, std::uint64_t size)>;

/// Called once when a pending object resolves. Runs on the thread that
/// resolved it, after the table's locks are released.
using waiter = std::function<void(const lookup&)>;

/// What produces a pending object (a task): kept with the object until it
/// resolves, so the producer can be found from the object's ID (`cancel`,
/// `state()`, the slow-get warning).
class producer {
public:
  virtual ~producer() = default;

  /// What it is and where it stands, for people: "task plus1 (queued)".
  /// Safe to call from any thread.
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// How a task or call ended, for `object_table::complete`.
struct completion {
  /// The object to store the output as; nil stores nothing (the output went
  /// to a CAF requester instead).
  object_id result;
  /// The value or the error to store.
  lookup output{caf::message{}};
  std::uint64_t size = 0;
  /// References (`object_ref`s the run held) to drop.
  const std::vector<object_id>* released = nullptr;
  /// Gets the run served from its `dependency_wait::value`s: counted as the
  /// table's gets and hits, as if it had asked the table.
  std::size_t fetched_gets = 0;
};

/// The state of one object, as `status` reports it.
enum class object_status { unknown, pending, ready, failed, lost };

/// The object store's table: values, their sizes, local reference counts, pins
/// and waiters, with capacity-weighted LRU eviction.
///
/// It is owned by the store actor and shared with the threads of this process
/// that call `put`/`get` directly: a message hop costs far more than a
/// short lock. Every operation is O(1) except eviction
/// (O(objects evicted)). Values are destroyed, and waiters called, outside
/// the locks, because a value may hold `object_ref`s whose destructors call
/// back into the table.
///
/// The objects are split into shards by ID, each with its own lock and LRU
/// list, so that callers and actors working on different objects do not
/// queue for one lock. An operation holds one shard's lock at a time; only
/// eviction, `close` and the whole-table reads (`stats`, `size`, `largest`)
/// take them all, in index order. Each entry
/// in an LRU list carries a tick from one counter, taken when it is stored
/// and each time it is read; a read leaves it in its place, which eviction
/// corrects when it reaches it. The least recently used object of the whole
/// table is then the shard tail with the smallest tick.
class object_table {
public:
  explicit object_table(std::uint64_t capacity, recycler recycle = {});

  object_table(const object_table&) = delete;
  object_table& operator=(const object_table&) = delete;

  ~object_table();

  /// Stores a new object with one local reference. Evicts least recently used
  /// unpinned objects to make room; refuses with `object_store_full`, changing
  /// nothing, when the object cannot fit.
  caf::error put(const object_id& id, caf::message value, std::uint64_t size);

  /// Registers an object that a task will produce, with one local reference;
  /// gets wait for it.
  caf::error register_pending(const object_id& id, std::shared_ptr<producer> made_by = {});

  /// Makes `made_by` the producer of the pending object `id`; with
  /// `elsewhere`, its value is on another node: the first waiter (one
  /// waiting now, or the next) has the cluster fetch it
  /// (`remote_objects::refetch`). False, changing nothing, if `id` is not
  /// pending (nobody refers to it any more, or it failed meanwhile).
  bool hand_over(const object_id& id, std::shared_ptr<producer> made_by, bool elsewhere);

  /// The producer of a pending object, or null.
  [[nodiscard]] std::shared_ptr<producer> producer_of(const object_id& id) const;

  /// Gives a pending object its value and wakes its waiters. An object nobody
  /// refers to any more is dropped. If the value cannot fit, the object holds
  /// the `object_store_full` error instead, which is also returned.
  caf::error fulfil(const object_id& id, caf::message value, std::uint64_t size);

  /// Stores `reason` in place of a pending object's value and wakes its waiters.
  void fail(const object_id& id, caf::error reason);

  /// Counts a get. Returns the value or error if the object is resolved, or
  /// nothing if it is still pending.
  std::optional<lookup> try_get(const object_id& id);

  /// `try_get` of each `ids[i]` whose `found[i]` is empty, taking each
  /// shard's lock once. Unless `last_look`, a pending object stays empty and
  /// uncounted, so that a get which looks again once it resolves counts one
  /// get. Returns whether any is left empty.
  bool try_get_into(const std::vector<object_id>& ids, std::vector<std::optional<lookup>>& found,
                    bool last_look);

  /// As `try_get`, without counting, and registers `on_ready` if the object is
  /// pending; `token` then identifies the registration for `cancel_wait`.
  std::optional<lookup> get_or_wait(const object_id& id, waiter on_ready, std::uint64_t& token);

  /// A submission's trip through the table, one shard's lock at a time (the
  /// result's, then its arguments'): counts the references in `add_refs`
  /// (unless it is null) as `add_refs` does, whatever else happens;
  /// registers `result` as `register_pending` does (unless it is nil), then
  /// pins each of `deps.ids` that is not lost or unknown (those the run
  /// looks up, and finds why). It keeps what the resolved ones hold in
  /// `deps.value(i)` and registers, for each pending one, the waiter
  /// `make_waiter(i)` builds (`i`: its place in `deps.ids`). Sets `resolved`
  /// to how many need no waiter. Changes nothing if the table is closed and
  /// `result` is not nil, and returns why.
  caf::error register_and_pin(std::vector<object_id>* add_refs, const object_id& result,
                              std::shared_ptr<producer> made_by, dependency_wait& deps,
                              const std::function<waiter(std::size_t)>& make_waiter,
                              std::size_t& resolved);

  /// The end of a task or call, in one trip: unpins `deps`, drops the
  /// references `done.released` lists, then stores the output as `fulfil` or
  /// `fail` would (moving the output from `done`). Returns what `fulfil`
  /// returns.
  caf::error complete(completion& done, dependency_wait& deps);

  /// How many times `free` dropped a value, ever (see
  /// `dependency_wait::frees_seen`).
  [[nodiscard]] std::uint64_t frees() const noexcept {
    return frees_.load(std::memory_order_acquire);
  }

  /// Drops a registration of `get_or_wait` (after a timeout).
  void cancel_wait(const object_id& id, std::uint64_t token);

  /// In a cluster: the objects of other nodes (`node` is this one's ID)
  /// are counted by `remote`, not in this table (which holds at most a
  /// copy of them, with one reference that `remote` holds). Set before
  /// any reference is counted.
  void attach_remote(std::uint64_t node, std::shared_ptr<remote_objects> remote);

  /// The cluster's side, or null.
  [[nodiscard]] remote_objects* remote() const noexcept {
    return remote_.get();
  }

  /// Whether `id` is another node's object that the cluster tracks.
  [[nodiscard]] bool is_remote(const object_id& id) const noexcept {
    return remote_ != nullptr && id.node() != node_;
  }

  /// A pending entry for a copy of another node's object, with the one
  /// reference the cluster's side holds; false if there is one already (or
  /// the table is closed).
  bool add_placeholder(const object_id& id);

  /// Drops the reference a copy of another node's object holds: the
  /// cluster's side, once this node holds no ref to it.
  void release_copy(const object_id& id);

  void add_ref(const object_id& id);

  /// `add_ref` of each of `ids`; empties `ids`.
  void add_refs(std::vector<object_id>& ids);

  /// Drops a reference; the last one erases the object.
  void release(const object_id& id);

  [[nodiscard]] object_status status(const object_id& id) const;

  /// How many of `ids` are no longer pending (hold a value or an error, or
  /// are lost or unknown), taking each shard's lock once.
  [[nodiscard]] std::size_t count_resolved(const std::vector<object_id>& ids) const;

  /// The last of `ids` that is still pending, if any, taking each shard's
  /// lock once.
  [[nodiscard]] std::optional<object_id> last_pending(const std::vector<object_id>& ids) const;

  /// Whether the object holds a value or a stored error.
  [[nodiscard]] bool contains(const object_id& id) const;

  /// Protects an object from eviction (counted: pin twice, unpin twice).
  /// `object_lost` for an object that is gone.
  caf::error pin(const object_id& id);

  /// `invalid_argument` for an object that is not pinned.
  caf::error unpin(const object_id& id);

  /// Drops the value now; later gets fail with `object_lost`.
  void free(const object_id& id);

  [[nodiscard]] store_stats stats() const;

  /// Every pending object that has a producer, with it (for `state()`).
  [[nodiscard]] std::vector<std::pair<object_id, std::shared_ptr<producer>>> producers() const;

  /// The `n` largest objects holding a value, with their sizes, largest first.
  [[nodiscard]] std::vector<std::pair<object_id, std::uint64_t>> largest(std::size_t n) const;

  /// Objects the table tracks in any state, pending and lost ones included:
  /// zero once every ref is gone.
  [[nodiscard]] std::size_t size() const;

  /// Refuses new objects and fails every waiter with `reason` (shutdown).
  void close(caf::error reason);

private:
  enum class state : std::uint8_t { pending, ready, failed, lost };

  struct entry {
    state st = state::pending;
    // Changed under the shard's lock, except that `complete` drops a run's
    // pin or ref that is not the entry's last without it (`drop_unless_last`):
    // the last of either needs the lock (the LRU list, the erase), and the
    // ref the run still holds keeps the entry in place meanwhile.
    std::atomic<std::uint32_t> refs{0};
    std::atomic<std::uint32_t> pins{0};
    std::uint64_t size = 0;
    caf::message value; // when ready
    caf::error error;   // when failed or lost: what get reports
    // Its place in the LRU list (intrusive: an object stored costs no
    // allocation for it). The map's nodes stay put, so the links do too.
    entry* lru_prev = nullptr;
    entry* lru_next = nullptr;
    std::uint64_t tick = 0; // when it was last stored or read (in the list)
    // Its tick when it took its place in the list: the list is in this
    // order (newest first). A read only sets `tick` (settle_tail).
    std::uint64_t placed = 0;
    const object_id* key = nullptr; // its ID in the map; set only while in the list
    // Its value is on another node (a copy of another node's object that
    // eviction took, or a result the node that made it keeps): the next
    // waiter asks the cluster for it (`remote_objects::refetch`).
    bool elsewhere = false;
    [[nodiscard]] bool in_lru() const noexcept {
      return key != nullptr;
    }
    std::vector<std::pair<std::uint64_t, waiter>> waiters;
    std::shared_ptr<producer> made_by; // while pending
  };

  /// Flat, so that a lookup in a table of a million objects costs one cache
  /// miss for the index and one for the entry; the entries stay put (the
  /// LRU list and pinned arguments point into them).
  using entry_map = rustyray::internal::stable_id_map<entry>;

  /// A list that keeps its first element in place: most operations drop
  /// one value, wake one waiter or release one producer, and a vector would
  /// allocate for each.
  template <class T>
  struct mostly_one {
    std::optional<T> first;
    std::vector<T> rest;
    template <class... Ts>
    void emplace(Ts&&... xs) {
      if (!first)
        first.emplace(std::forward<Ts>(xs)...);
      else
        rest.emplace_back(std::forward<Ts>(xs)...);
    }
    template <class F>
    void each(const F& f) {
      if (!first)
        return;
      f(*first);
      for (auto& x : rest)
        f(x);
    }
    void clear() {
      first.reset();
      rest.clear();
    }
  };

  /// What an operation leaves to do once the lock is released.
  struct deferred {
    mostly_one<std::pair<caf::message, std::uint64_t>> garbage; // with its size
    mostly_one<std::pair<waiter, lookup>> wakeups;
    mostly_one<std::shared_ptr<producer>> producers;
    void run(const recycler& recycle);
  };

  struct lru_list {
    entry* head = nullptr;
    entry* tail = nullptr;
  };

  /// The objects whose IDs hash to it, with the lock that guards them.
  struct alignas(64) shard {
    rustyray::internal::adaptive_mutex mtx;
    // Everything below is guarded by mtx.
    // The map's nodes: an entry per call result is created by the caller
    // and erased when its last ref goes, often while another thread frees
    // or allocates through malloc; free lists under our own lock keep that
    // pair off malloc's locks. Declared before the map, which it outlives.
    block_cache nodes;
    entry_map entries{&nodes};
    // Its unpinned ready objects, most recently used first: copies of
    // other nodes' objects (evicted first: their owner has them) and this
    // node's own.
    lru_list copies;
    lru_list own;
    std::uint64_t next_token = 1;
    // Bytes of the capacity it took (in bytes_used_) beyond what its values
    // take: its next values take them without touching bytes_used_.
    std::uint64_t credit = 0;
    // Its part of the counts (bytes_used and capacity are the table's).
    store_stats counts;
  };

  static constexpr std::size_t shard_count = 16;

  /// How many IDs an operation on many (`each_by_shard`) handles under one
  /// hold of a shard's lock.
  static constexpr std::size_t ids_per_hold = 256;

  /// Holds the lock of at most one shard, switching as asked: operations on
  /// several IDs never hold two shards' locks at once.
  class shard_lock;

  /// Holds every shard's lock, taken in index order.
  class all_shards_lock;

  shard& shard_of(const object_id& id) const noexcept;

  /// Calls `f(shard, i)` for each `i` below `n`, grouped by the shard of
  /// `id_of(i)`: an operation on many IDs takes each lock once.
  template <class IdOf, class F>
  void each_by_shard(std::size_t n, const IdOf& id_of, const F& f) const;

  /// `each_by_shard` over every `ids[i]`.
  template <class F>
  void each_by_shard(const std::vector<object_id>& ids, const F& f) const {
    each_by_shard(
      ids.size(), [&](std::size_t i) -> const object_id& { return ids[i]; }, f);
  }

  // The private functions on a shard expect its lock to be held;
  // `make_room`, every shard's lock; those given a `shard_lock` take what
  // they need through it.
  std::optional<lookup> try_get_locked(shard& sh, const object_id& id, bool count_pending = true);
  void put_locked(shard& sh, const object_id& id, caf::message value, std::uint64_t size);
  caf::error fulfil_with(shard_lock& lock, const object_id& id, caf::message& value,
                         std::uint64_t size, deferred& later);
  void fail_locked(shard& sh, const object_id& id, caf::error& reason, deferred& later);
  bool unpin_locked(shard& sh, const object_id& id);
  void add_ref_locked(shard& sh, const object_id& id);
  void add_refs_with(shard_lock& lock, std::vector<object_id>& ids);
  void release_locked(shard& sh, const object_id& id, deferred& later);
  void release_entry_locked(shard& sh, const object_id& id, deferred& later);
  /// Takes `size` bytes of the capacity for a value in `sh`, if they are
  /// free, without eviction: from its credit, else from bytes_used_ (with a
  /// credit for the next ones, if that fits too).
  bool reserve(shard& sh, std::uint64_t size) noexcept;
  /// The bytes of a value `sh` dropped go to its credit, the credit beyond
  /// two chunks back to bytes_used_.
  void give_back(shard& sh, std::uint64_t size) noexcept;
  /// Returns all of `sh`'s credit to bytes_used_ (eviction: the count must
  /// be exact).
  void take_credit_back(shard& sh) noexcept;
  /// Takes `size` bytes of the capacity, evicting to make room.
  caf::error make_room(const object_id& id, std::uint64_t size, deferred& later);
  void store_value(shard& sh, entry_map::value_type& kv, caf::message value, std::uint64_t size);
  void drop_value(shard& sh, entry& e, caf::error reason, deferred& later);
  void resolve(entry& e, const lookup& result, deferred& later);
  void erase(shard& sh, entry_map::iterator i, deferred& later);
  lookup result_of(const object_id& id, entry& e);
  void pin_entry(shard& sh, entry& e);
  /// Takes one off `count` unless it is 1 or 0: true if it did.
  static bool drop_unless_last(std::atomic<std::uint32_t>& count) noexcept;
  /// Where `complete` finds `id` without a look-up: its entry, kept with
  /// its pin if it is one of the first pinned `deps`; else null.
  static entry* pinned_entry_of(const dependency_wait& deps, const object_id& id) noexcept;
  void lru_insert(shard& sh, entry_map::value_type& kv);
  void lru_remove(shard& sh, entry& e);
  /// The list an entry in the LRU (its `key` set) belongs to.
  lru_list& list_of(shard& sh, const entry& e) const noexcept {
    return is_remote(*e.key) ? sh.copies : sh.own;
  }
  void link_front(lru_list& list, entry& e);
  /// Moves the tail entries read since they were placed to their places,
  /// until the tail is the list's least recently used.
  void settle_tail(lru_list& list);
  void unlink(lru_list& list, entry& e);
  /// The value of a ready entry goes (its bytes back, out of the LRU).
  void take_value(shard& sh, entry& e, deferred& later);
  /// Before a waiter waits on a pending entry: a value on another node is asked for
  /// again.
  void fetch_if_elsewhere(const object_id& id, entry& e);

  // Read by every operation, written rarely.
  const recycler recycle_;
  const std::uint64_t capacity_;
  std::shared_ptr<remote_objects> remote_;
  std::uint64_t node_ = 0;
  /// How much credit a shard takes at once: small enough that the credits
  /// of all shards are a small part of the capacity.
  const std::uint64_t credit_chunk_;
  // Written under every shard's lock, so read under any one.
  bool closed_ = false;
  caf::error closed_reason_;
  std::atomic<std::uint64_t> frees_{0};
  // Mutable: the const operations take their locks too.
  mutable std::array<shard, shard_count> shards_;
  /// Bytes of the values stored, those being stored (`reserve`) and the
  /// shards' credits: changed under the lock of a shard, read exactly under
  /// all. The credits keep it from being written by every store and drop
  /// of a small value (a line all threads would write; docs/perf-log.md).
  /// On a line of its own.
  alignas(64) std::atomic<std::uint64_t> bytes_used_{0};
  /// Orders the LRU lists' entries across shards.
  alignas(64) std::atomic<std::uint64_t> ticks_{0};
};

} // namespace rustyray::objstore::internal
