#pragma once

// The object table's locks, shared by its source files (object_table.cpp:
// the operations; object_table_queries.cpp: the reads of many objects;
// object_table_eviction.cpp: making room).

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "rustyray/objstore/internal/object_table.hpp"

namespace rustyray::objstore::internal {

/// Holds at most one shard's lock at a time; moving to another shard
/// releases the one held.
class object_table::shard_lock {
public:
  shard_lock() = default;
  shard_lock(const shard_lock&) = delete;
  shard_lock& operator=(const shard_lock&) = delete;

  ~shard_lock() {
    release();
  }

  shard& hold(shard& sh) {
    if (held_ != &sh) {
      release();
      sh.mtx.lock();
      held_ = &sh;
    }
    return sh;
  }

  void release() noexcept {
    if (held_ != nullptr) {
      held_->mtx.unlock();
      held_ = nullptr;
    }
  }

private:
  shard* held_ = nullptr;
};

/// Every shard's lock, taken in index order.
class object_table::all_shards_lock {
public:
  explicit all_shards_lock(const object_table& table) : table_(table) {
    for (auto& sh : table_.shards_)
      sh.mtx.lock();
  }
  all_shards_lock(const all_shards_lock&) = delete;
  all_shards_lock& operator=(const all_shards_lock&) = delete;

  ~all_shards_lock() {
    for (auto i = table_.shards_.rbegin(); i != table_.shards_.rend(); ++i)
      i->mtx.unlock();
  }

private:
  const object_table& table_;
};

inline object_table::shard& object_table::shard_of(const object_id& id) const noexcept {
  // The hash's high bits: the map inside the shard buckets by its low bits.
  auto h = static_cast<std::uint64_t>(std::hash<object_id>{}(id));
  return shards_[static_cast<std::size_t>(h >> 60) % shard_count];
}

template <class IdOf, class F>
void object_table::each_by_shard(std::size_t n, const IdOf& id_of, const F& f) const {
  if (n == 0)
    return;
  if (n == 1) {
    auto& sh = shard_of(id_of(0));
    std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
    f(sh, 0);
    return;
  }
  // The indices sorted by shard (a counting sort): O(n), where scanning
  // all of them once per shard cost 16 steps an ID (a get of 1,000 refs).
  std::vector<std::uint8_t> at(n);
  std::array<std::size_t, shard_count + 1> first{};
  for (std::size_t i = 0; i < n; ++i)
    ++first[1 + (at[i] = static_cast<std::uint8_t>(&shard_of(id_of(i)) - shards_.data()))];
  for (std::size_t s = 0; s < shard_count; ++s)
    first[s + 1] += first[s];
  std::vector<std::size_t> order(n);
  auto next = first;
  for (std::size_t i = 0; i < n; ++i)
    order[next[at[i]]++] = i;
  for (std::size_t s = 0; s < shard_count; ++s) {
    if (first[s] == first[s + 1])
      continue;
    auto& sh = shards_[s];
    // At most `ids_per_hold` IDs under one hold: a get of a million refs
    // would keep each shard from its writers for milliseconds, and the
    // actor threads storing results there would stall.
    for (auto k = first[s]; k < first[s + 1];) {
      auto until = std::min(first[s + 1], k + ids_per_hold);
      std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
      for (; k < until; ++k)
        f(sh, order[k]);
    }
  }
}

} // namespace rustyray::objstore::internal
