#pragma once

#include <array>
#include <cstddef>
#include <memory_resource>

namespace rustyray::objstore::internal {

/// A memory resource for one shard's map, used under the shard's lock: it
/// keeps freed small blocks (the map's nodes, all of one size) on free lists
/// and hands them out again, so a stored object costs no trip to malloc, and
/// a pair of threads that create and erase entries never meet on malloc's
/// locks. Larger blocks (the bucket arrays) go to the heap. At most
/// `kept_per_size` blocks of each size are kept; the rest are freed.
///
/// Not thread-safe: the shard's lock guards it, as it guards the map.
class block_cache final : public std::pmr::memory_resource {
public:
  static constexpr std::size_t largest = 512;
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t kept_per_size = 4096;

  block_cache() = default;
  block_cache(const block_cache&) = delete;
  block_cache& operator=(const block_cache&) = delete;

  // Unsized deletes throughout: clang enables sized deallocation only with
  // -fsized-deallocation.
  ~block_cache() override {
    for (std::size_t i = 0; i < lists_.size(); ++i) {
      while (lists_[i].head != nullptr) {
        auto* next = lists_[i].head->next;
        ::operator delete(lists_[i].head);
        lists_[i].head = next;
      }
    }
  }

  /// Blocks kept for reuse, over all sizes.
  [[nodiscard]] std::size_t kept() const noexcept {
    std::size_t n = 0;
    for (const auto& l : lists_)
      n += l.length;
    return n;
  }

private:
  struct free_block {
    free_block* next;
  };
  struct free_list {
    free_block* head = nullptr;
    std::size_t length = 0;
  };

  static bool cached(std::size_t bytes, std::size_t alignment) noexcept {
    return bytes != 0 && bytes <= largest && alignment <= alignof(std::max_align_t);
  }

  /// Its list; a size is rounded up to the granule, so each list holds one size.
  free_list& list_for(std::size_t bytes) noexcept {
    return lists_[(bytes - 1) / granule];
  }

  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (!cached(bytes, alignment))
      return ::operator new (bytes, std::align_val_t{alignment});
    auto& l = list_for(bytes);
    if (l.head == nullptr)
      return ::operator new((bytes + granule - 1) / granule * granule);
    auto* b = l.head;
    l.head = b->next;
    --l.length;
    return b;
  }

  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    if (!cached(bytes, alignment)) {
      ::operator delete (p, std::align_val_t{alignment});
      return;
    }
    auto& l = list_for(bytes);
    if (l.length >= kept_per_size) {
      ::operator delete(p);
      return;
    }
    l.head = new (p) free_block{l.head};
    ++l.length;
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::array<free_list, largest / granule> lists_{};
};

} // namespace rustyray::objstore::internal
