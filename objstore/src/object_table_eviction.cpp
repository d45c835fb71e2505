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
    // oldest is the table's, copies of other nodes' objects first.
    shard* oldest = nullptr;
    entry* tail = nullptr;
    for (auto list : {&shard::copies, &shard::own}) {
      for (auto& sh : shards_) {
        auto& l = sh.*list;
        settle_tail(l);
        if (l.tail != nullptr && (tail == nullptr || l.tail->tick < tail->tick)) {
          oldest = &sh;
          tail = l.tail;
        }
      }
      if (tail != nullptr)
        break;
    }
    auto& victim = *tail;
    auto victim_id = *victim.key;
    if (is_remote(victim_id)) {
      // Its owner still has it: the next get asks for it again.
      take_value(*oldest, victim, later);
      victim.st = state::pending;
      victim.elsewhere = true;
    } else {
      auto reason =
        make_error(errc::object_lost, "object " + to_string(victim_id)
                                        + " was evicted to make room (capacity " + mib(capacity)
                                        + "); pin objects you still need, or raise "
                                          "config.object_store_capacity");
      drop_value(*oldest, victim, std::move(reason), later);
    }
    take_credit_back(*oldest); // the victim's bytes went to it
    ++oldest->counts.evictions;
  }
  bytes_used_.fetch_add(size, std::memory_order_relaxed);
  return caf::none;
}

void object_table::settle_tail(lru_list& list) {
  // The list is in the order of `placed`, and an entry's tick is at least
  // its `placed`: a tail not read since it was placed is the shard's least
  // recently used. One that was goes where its tick puts it, mostly near
  // the head (found from there).
  while (list.tail != nullptr && list.tail->tick != list.tail->placed) {
    auto& e = *list.tail;
    unlink(list, e);
    e.placed = e.tick;
    entry* after = nullptr; // the entry it goes after (none: the head)
    for (auto* at = list.head; at != nullptr && at->placed > e.placed; at = at->lru_next)
      after = at;
    if (after == nullptr) {
      link_front(list, e);
      continue;
    }
    e.lru_prev = after;
    e.lru_next = after->lru_next;
    (after->lru_next != nullptr ? after->lru_next->lru_prev : list.tail) = &e;
    after->lru_next = &e;
  }
}

} // namespace rustyray::objstore::internal
