#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "rustyray/internal/adaptive_mutex.hpp"

namespace rustyray::internal {

/// Free blocks of `Size` bytes, for every thread. A task or call record is
/// allocated by its submitter and freed by the thread that ran it; glibc's
/// malloc serves such a pair badly (the freeing thread's cache fills, the
/// allocating thread's stays empty, and both end up in the arena under its
/// lock). Here a block goes back to the stack it was taken for, where the
/// next allocation for the same stack finds it; each stack has its own
/// lock, which only the threads that share its blocks take.
template <std::size_t Size>
class block_stacks {
public:
  static constexpr int stack_bits = 4;
  static constexpr std::size_t stack_count = std::size_t{1} << stack_bits;

  /// Never destroyed: a record may be freed during static destruction.
  static block_stacks& instance() {
    static auto* stacks = new block_stacks;
    return *stacks;
  }

  /// A block from stack `home` (below `stack_count`).
  void* take(std::size_t home) {
    auto& st = stacks_[home];
    {
      std::lock_guard<adaptive_mutex> guard{st.mtx};
      if (!st.free.empty()) {
        auto* block = st.free.back();
        st.free.pop_back();
        return block;
      }
    }
    auto* h = static_cast<header*>(::operator new(sizeof(header) + Size));
    h->stack = home;
    return h + 1;
  }

  void give(void* block) noexcept {
    auto* h = static_cast<header*>(block) - 1;
    auto& st = stacks_[h->stack];
    {
      std::lock_guard<adaptive_mutex> guard{st.mtx};
      if (st.free.size() < kept_per_stack) {
        try {
          st.free.push_back(block);
          return;
        } catch (const std::bad_alloc&) {
          // freed below
        }
      }
    }
    ::operator delete(h);
  }

private:
  /// A burst of this many records per stack is reused; beyond it, blocks
  /// go back to malloc (at most stack_count * kept_per_stack * Size bytes
  /// stay cached).
  static constexpr std::size_t kept_per_stack = 1024;

  struct alignas(16) header {
    std::size_t stack;
  };

  struct alignas(64) stack {
    adaptive_mutex mtx;
    std::vector<void*> free; // guarded by mtx
  };

  block_stacks() = default;

  std::array<stack, stack_count> stacks_;
};

/// An allocator for `std::allocate_shared` of records that one thread
/// creates and another frees (see `block_stacks`). Records allocated with
/// the same `key` (say, the actor a call goes to) share a stack: the blocks
/// its runs free serve its next submissions, whichever thread makes them.
/// Under AddressSanitizer it is plain `new`, so that a use after free is
/// still caught.
template <class T>
class recycling_allocator {
public:
  using value_type = T;

  explicit recycling_allocator(const void* key) noexcept
    // Fibonacci hashing: the top bits of the product pick the stack.
    : stack_(static_cast<std::size_t>(
      (std::uint64_t{reinterpret_cast<std::uintptr_t>(key)} * 0x9E3779B97F4A7C15u)
      >> (64 - block_stacks<1>::stack_bits))) {}

  template <class U>
  recycling_allocator(const recycling_allocator<U>& other) noexcept : stack_(other.stack_) {}

  T* allocate(std::size_t n) {
#ifndef __SANITIZE_ADDRESS__
    static_assert(alignof(T) <= 16, "recycled blocks are 16-byte aligned");
    if (n == 1)
      return static_cast<T*>(block_stacks<sizeof(T)>::instance().take(stack_));
#endif
    return std::allocator<T>{}.allocate(n);
  }

  void deallocate(T* p, std::size_t n) noexcept {
#ifndef __SANITIZE_ADDRESS__
    if (n == 1) {
      block_stacks<sizeof(T)>::instance().give(p);
      return;
    }
#endif
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  bool operator==(const recycling_allocator<U>&) const noexcept {
    return true;
  }

  template <class U>
  bool operator!=(const recycling_allocator<U>&) const noexcept {
    return false;
  }

private:
  template <class U>
  friend class recycling_allocator;

  std::size_t stack_;
};

} // namespace rustyray::internal
