// Making room: eviction of the least recently used unpinned objects, with
// every shard's lock held.

#include <algorithm>

#include "object_table_locks.hpp"
#include "rustyray/errc.hpp"

namespace rustyray::objstore::internal {

namespace {

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes) + " bytes (" + std::to_string(bytes >> 20) + " MiB)";
}

} // namespace

caf::error object_table::make_room(const object_id& id, std::uint64_t size, deferred& later) {
  auto capacity = capacity_;
  if (size > capacity)
    return make_error(errc::object_store_full,
                      "object " + to_string(id) + " needs " + mib(size)
                        + ", more than the object store's whole capacity of " + mib(capacity)
                        + "; raise config.object_store_capacity or split the object");
  std::uint64_t pinned_bytes = 0;
  // The shards' credits back: bytes_used_ is now what the values take.
  for (auto& sh : shards_) {
    pinned_bytes += sh.counts.pinned_bytes;
    take_credit_back(sh);
  }
  if (pinned_bytes + size > capacity)
    return make_error(errc::object_store_full,
                      "object " + to_string(id) + " needs " + mib(size) + " but "
                        + mib(pinned_bytes) + " of the capacity of " + mib(capacity)
                        + " are pinned; unpin objects or raise config.object_store_capacity");
  while (bytes_used_.load(std::memory_order_relaxed) + size > capacity) {
    // Only unpinned ready objects are in the LRU lists, and the check above
    // guarantees that evicting them all makes room. The oldest of the shards'
    // oldest is the table's.
    shard* oldest = nullptr;
    for (auto& sh : shards_) {
      settle_tail(sh);
      if (sh.lru_tail != nullptr
          && (oldest == nullptr || sh.lru_tail->tick < oldest->lru_tail->tick))
        oldest = &sh;
    }
    auto& victim = *oldest->lru_tail;
    auto victim_id = *victim.key;
    auto reason =
      make_error(errc::object_lost, "object " + to_string(victim_id)
                                      + " was evicted to make room (capacity " + mib(capacity)
                                      + "); pin objects you still need, or raise "
                                        "config.object_store_capacity");
    drop_value(*oldest, victim, std::move(reason), later);
    take_credit_back(*oldest); // the victim's bytes went to it
    ++oldest->counts.evictions;
  }
  bytes_used_.fetch_add(size, std::memory_order_relaxed);
  return caf::none;
}

void object_table::settle_tail(shard& sh) {
  // The list is in the order of `placed`, and an entry's tick is at least
  // its `placed`: a tail not read since it was placed is the shard's least
  // recently used. One that was goes where its tick puts it, mostly near
  // the head (found from there).
  while (sh.lru_tail != nullptr && sh.lru_tail->tick != sh.lru_tail->placed) {
    auto& e = *sh.lru_tail;
    unlink(sh, e);
    e.placed = e.tick;
    entry* after = nullptr; // the entry it goes after (none: the head)
    for (auto* at = sh.lru_head; at != nullptr && at->placed > e.placed; at = at->lru_next)
      after = at;
    if (after == nullptr) {
      link_front(sh, e);
      continue;
    }
    e.lru_prev = after;
    e.lru_next = after->lru_next;
    (after->lru_next != nullptr ? after->lru_next->lru_prev : sh.lru_tail) = &e;
    after->lru_next = &e;
  }
}

} // namespace rustyray::objstore::internal
