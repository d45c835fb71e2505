#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <tuple>
#include <utility>
#include <vector>

#include "rustyray/object_id.hpp"

namespace rustyray::internal {

/// A full mix of the ID's two halves (MurmurHash3's finalizer): every bit
/// depends on every bit of the ID. `id_map` picks slots with the top bits;
/// an owner that shards its maps picks the shard with the low ones.
[[nodiscard]] inline std::uint64_t id_mix(const object_id& id) noexcept {
  auto h = id.sequence() ^ (id.node() * 0x9E3779B97F4A7C15ull);
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

/// A map from object IDs to `V`, stored flat: open addressing with linear
/// probing, so a lookup touches one slot (one cache miss) where a node-based
/// map walks a bucket's chain (three or four). That is what an insert or an
/// erase costs once the map holds a million entries (the actor directory).
/// Entries move when the map grows or shrinks and when an erase closes a
/// gap: hold no pointer to one across a change. The nil ID is no key (it
/// marks a free slot). Not thread-safe.
template <class V>
class id_map {
public:
  id_map() = default;

  [[nodiscard]] std::size_t size() const noexcept {
    return size_;
  }

  [[nodiscard]] bool empty() const noexcept {
    return size_ == 0;
  }

  /// The value of `id`, or null.
  [[nodiscard]] V* find(const object_id& id) noexcept {
    if (size_ == 0 || id.is_nil())
      return nullptr;
    for (auto i = home(id);; i = next(i)) {
      auto& s = slots_[i];
      if (s.key == id)
        return &s.value;
      if (s.key.is_nil())
        return nullptr;
    }
  }

  [[nodiscard]] const V* find(const object_id& id) const noexcept {
    return const_cast<id_map*>(this)->find(id);
  }

  /// Adds `id` with `value` unless present; the entry and whether it was
  /// added. Throws `std::bad_alloc` (the map unchanged) if it cannot grow.
  std::pair<V*, bool> insert(const object_id& id, V value) {
    if (auto* found = find(id))
      return {found, false};
    if ((size_ + 1) * 4 > slots_.size() * 3)
      rehash(slots_.empty() ? min_slots : slots_.size() * 2);
    auto i = home(id);
    while (!slots_[i].key.is_nil())
      i = next(i);
    slots_[i].key = id;
    slots_[i].value = std::move(value);
    ++size_;
    return {&slots_[i].value, true};
  }

  /// Removes `id`; its value, moved out (a default `V` if absent).
  V erase(const object_id& id) {
    V result{};
    if (size_ == 0 || id.is_nil())
      return result;
    auto gap = home(id);
    for (;; gap = next(gap)) {
      if (slots_[gap].key.is_nil())
        return result;
      if (slots_[gap].key == id)
        break;
    }
    result = std::move(slots_[gap].value);
    // Backward shift: an entry after the gap that may live there (its home
    // is not between the gap and itself) moves into it, so lookups never
    // meet a hole before their entry.
    for (auto i = next(gap); !slots_[i].key.is_nil(); i = next(i)) {
      auto h = home(slots_[i].key);
      bool stays = gap < i ? (gap < h && h <= i) : (gap < h || h <= i);
      if (stays)
        continue;
      slots_[gap] = std::move(slots_[i]);
      gap = i;
    }
    slots_[gap] = slot{};
    --size_;
    // A map that held many entries gives their memory back once most left.
    if (slots_.size() > min_slots && size_ * 8 < slots_.size()) {
      try {
        rehash(slots_.size() / 2);
      } catch (const std::bad_alloc&) {
        // stays large; still correct
      }
    }
    return result;
  }

  /// Calls `f(id, value)` for each entry.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_)
      if (!s.key.is_nil())
        f(s.key, s.value);
  }

  void clear() noexcept {
    slots_ = {};
    size_ = 0;
  }

  void swap(id_map& other) noexcept {
    slots_.swap(other.slots_);
    std::swap(size_, other.size_);
    std::swap(shift_, other.shift_);
  }

private:
  static constexpr std::size_t min_slots = 16;

  struct slot {
    object_id key;
    V value{};
  };

  /// The top bits of the ID's mix pick the slot: dense sequence numbers
  /// spread over the whole table, and the slot owes nothing to
  /// `std::hash<object_id>`, whose top bits pick the object table's shard
  /// (every ID in one shard shares them), nor to the mix's low bits (a
  /// sharded owner's pick).
  [[nodiscard]] std::size_t home(const object_id& id) const noexcept {
    return static_cast<std::size_t>(id_mix(id) >> shift_);
  }

  [[nodiscard]] std::size_t next(std::size_t i) const noexcept {
    return (i + 1) & (slots_.size() - 1);
  }

  /// `count` is a power of two that holds every entry below 3/4 full.
  void rehash(std::size_t count) {
    std::vector<slot> old(count);
    old.swap(slots_);
    int bits = 0;
    while ((std::size_t{1} << bits) < count)
      ++bits;
    shift_ = 64 - bits;
    for (auto& s : old) {
      if (s.key.is_nil())
        continue;
      auto i = home(s.key);
      while (!slots_[i].key.is_nil())
        i = next(i);
      slots_[i] = std::move(s);
    }
  }

  std::vector<slot> slots_;
  std::size_t size_ = 0;
  int shift_ = 64;
};

/// An `id_map` whose entries stay where they were made until erased (each
/// is a node from `nodes`, found through the flat index), for tables whose
/// entries others point into. Its interface is the part of
/// `std::unordered_map`'s that such a table uses; an iterator is a pointer
/// to the entry, null for none. Not thread-safe; `nodes` must outlive it.
template <class V>
class stable_id_map {
public:
  using value_type = std::pair<const object_id, V>;
  using iterator = value_type*;

  explicit stable_id_map(std::pmr::memory_resource* nodes) noexcept : nodes_(nodes) {}

  stable_id_map(const stable_id_map&) = delete;
  stable_id_map& operator=(const stable_id_map&) = delete;

  ~stable_id_map() {
    index_.for_each([this](const object_id&, value_type* node) { destroy(node); });
  }

  [[nodiscard]] std::size_t size() const noexcept {
    return index_.size();
  }

  [[nodiscard]] iterator find(const object_id& id) noexcept {
    auto* slot = index_.find(id);
    return slot == nullptr ? nullptr : *slot;
  }

  [[nodiscard]] iterator end() const noexcept {
    return nullptr;
  }

  /// The entry of `id`, made with a default `V` if there was none, and
  /// whether it was made.
  std::pair<iterator, bool> try_emplace(const object_id& id) {
    if (auto* slot = index_.find(id))
      return {*slot, false};
    std::pmr::polymorphic_allocator<value_type> alloc{nodes_};
    auto* node = alloc.allocate(1);
    try {
      alloc.construct(node, std::piecewise_construct, std::forward_as_tuple(id),
                      std::forward_as_tuple());
    } catch (...) {
      alloc.deallocate(node, 1);
      throw;
    }
    try {
      index_.insert(id, node);
    } catch (...) {
      destroy(node);
      throw;
    }
    return {node, true};
  }

  V& operator[](const object_id& id) {
    return try_emplace(id).first->second;
  }

  void erase(iterator i) {
    (void)index_.erase(i->first);
    destroy(i);
  }

  /// Calls `f(entry)` for each entry (a `value_type&`).
  template <class F>
  void for_each(F&& f) const {
    index_.for_each([&](const object_id&, value_type* node) { f(*node); });
  }

  /// Swaps the entries; both must take their nodes from the same resource.
  void swap(stable_id_map& other) noexcept {
    index_.swap(other.index_);
  }

private:
  void destroy(value_type* node) noexcept {
    std::pmr::polymorphic_allocator<value_type> alloc{nodes_};
    node->~value_type();
    alloc.deallocate(node, 1);
  }

  std::pmr::memory_resource* nodes_;
  id_map<value_type*> index_;
};

} // namespace rustyray::internal
