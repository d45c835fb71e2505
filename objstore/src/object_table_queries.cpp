// Reads of many objects or of the whole table: status, counts, stats and the
// lists `state()` shows.

#include <algorithm>

#include "object_table_locks.hpp"
#include "rustyray/errc.hpp"

namespace rustyray::objstore::internal {

object_status object_table::status(const object_id& id) const {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  auto i = sh.entries.find(id);
  if (i == sh.entries.end())
    return object_status::unknown;
  switch (i->second.st) {
    case state::pending:
      return object_status::pending;
    case state::ready:
      return object_status::ready;
    case state::failed:
      return object_status::failed;
    case state::lost:
      return object_status::lost;
  }
  return object_status::unknown;
}

std::size_t object_table::count_resolved(const std::vector<object_id>& ids) const {
  std::size_t n = 0;
  each_by_shard(ids, [&](shard& sh, std::size_t i) {
    auto e = sh.entries.find(ids[i]);
    if (e == sh.entries.end() || e->second.st != state::pending)
      ++n;
  });
  return n;
}

std::optional<object_id> object_table::last_pending(const std::vector<object_id>& ids) const {
  std::vector<bool> pending(ids.size());
  each_by_shard(ids, [&](shard& sh, std::size_t i) {
    auto e = sh.entries.find(ids[i]);
    pending[i] = e != sh.entries.end() && e->second.st == state::pending;
  });
  for (auto i = ids.size(); i-- > 0;)
    if (pending[i])
      return ids[i];
  return std::nullopt;
}

bool object_table::contains(const object_id& id) const {
  auto st = status(id);
  return st == object_status::ready || st == object_status::failed;
}

store_stats object_table::stats() const {
  store_stats total;
  all_shards_lock all{*this};
  // bytes_used_ holds the shards' credits too.
  total.bytes_used = bytes_used_.load(std::memory_order_relaxed);
  for (const auto& sh : shards_) {
    total.bytes_used -= sh.credit;
    total.objects += sh.counts.objects;
    total.puts += sh.counts.puts;
    total.gets += sh.counts.gets;
    total.hits += sh.counts.hits;
    total.misses += sh.counts.misses;
    total.evictions += sh.counts.evictions;
    total.pinned += sh.counts.pinned;
    total.pinned_bytes += sh.counts.pinned_bytes;
  }
  total.capacity = capacity_;
  return total;
}

std::vector<std::pair<object_id, std::shared_ptr<producer>>> object_table::producers() const {
  std::vector<std::pair<object_id, std::shared_ptr<producer>>> result;
  for (auto& sh : shards_) {
    std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
    sh.entries.for_each([&](const entry_map::value_type& kv) {
      if (kv.second.made_by)
        result.emplace_back(kv.first, kv.second.made_by);
    });
  }
  return result;
}

std::vector<std::pair<object_id, std::uint64_t>> object_table::largest(std::size_t n) const {
  std::vector<std::pair<object_id, std::uint64_t>> result;
  if (n == 0)
    return result;
  // A min-heap of the n largest so far: O(objects * log n) under the locks.
  auto smaller = [](const auto& a, const auto& b) { return a.second > b.second; };
  all_shards_lock all{*this};
  for (const auto& sh : shards_) {
    sh.entries.for_each([&](const entry_map::value_type& kv) {
      const auto& [id, e] = kv;
      if (e.st != state::ready)
        return;
      if (result.size() < n) {
        result.emplace_back(id, e.size);
        std::push_heap(result.begin(), result.end(), smaller);
      } else if (e.size > result.front().second) {
        std::pop_heap(result.begin(), result.end(), smaller);
        result.back() = {id, e.size};
        std::push_heap(result.begin(), result.end(), smaller);
      }
    });
  }
  std::sort_heap(result.begin(), result.end(), smaller);
  return result;
}

std::size_t object_table::size() const {
  std::size_t n = 0;
  all_shards_lock all{*this};
  for (const auto& sh : shards_)
    n += sh.entries.size();
  return n;
}

} // namespace rustyray::objstore::internal
