#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace rustyray::detail {

template <class Signature, std::size_t Capacity>
class inline_function;

/// A move-only `std::function` that keeps callables of up to `Capacity`
/// bytes in itself. `std::function` keeps only 16 bytes inline, so a method
/// call with one argument (a member pointer and a ref: 32 bytes) cost a heap
/// allocation on the submitting thread and its free on the running one,
/// the pattern glibc's malloc serves worst. Larger callables go to the heap.
template <class R, class... Args, std::size_t Capacity>
class inline_function<R(Args...), Capacity> {
public:
  inline_function() noexcept = default;

  inline_function(std::nullptr_t) noexcept {}

  template <
    class F,
    class = std::enable_if_t<
      !std::is_same_v<std::decay_t<F>,
                      inline_function> && std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  inline_function(F&& f) {
    emplace(std::forward<F>(f));
  }

  inline_function(inline_function&& other) noexcept {
    take(other);
  }

  inline_function& operator=(inline_function&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }

  inline_function& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }

  inline_function(const inline_function&) = delete;
  inline_function& operator=(const inline_function&) = delete;

  ~inline_function() {
    reset();
  }

  explicit operator bool() const noexcept {
    return ops_ != nullptr;
  }

  /// Calls it; it must hold a callable.
  R operator()(Args... args) {
    return ops_->call(storage_, std::forward<Args>(args)...);
  }

private:
  struct operations {
    R (*call)(void* storage, Args&&... args);
    // Moves the callable from one storage into another, empty one, and
    // destroys the source.
    void (*relocate)(void* from, void* to) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  template <class F>
  static constexpr bool fits_inline = sizeof(F) <= Capacity
                                      && alignof(F) <= alignof(std::max_align_t)
                                      && std::is_nothrow_move_constructible_v<F>;

  template <class F>
  static const operations* inline_ops() noexcept {
    static constexpr operations ops{
      [](void* s, Args&&... args) -> R {
        return (*std::launder(static_cast<F*>(s)))(std::forward<Args>(args)...);
      },
      [](void* from, void* to) noexcept {
        auto* f = std::launder(static_cast<F*>(from));
        ::new (to) F(std::move(*f));
        f->~F();
      },
      [](void* s) noexcept { std::launder(static_cast<F*>(s))->~F(); }};
    return &ops;
  }

  template <class F>
  static const operations* heap_ops() noexcept {
    static constexpr operations ops{
      [](void* s, Args&&... args) -> R {
        return (**static_cast<F**>(s))(std::forward<Args>(args)...);
      },
      [](void* from, void* to) noexcept { *static_cast<F**>(to) = *static_cast<F**>(from); },
      [](void* s) noexcept { delete *static_cast<F**>(s); }};
    return &ops;
  }

  template <class F>
  void emplace(F&& f) {
    using target = std::decay_t<F>;
    if constexpr (fits_inline<target>) {
      ::new (static_cast<void*>(storage_)) target(std::forward<F>(f));
      ops_ = inline_ops<target>();
    } else {
      *reinterpret_cast<target**>(storage_) = new target(std::forward<F>(f));
      ops_ = heap_ops<target>();
    }
  }

  void take(inline_function& other) noexcept {
    if (other.ops_ != nullptr) {
      other.ops_->relocate(other.storage_, storage_);
      ops_ = std::exchange(other.ops_, nullptr);
    }
  }

  void reset() noexcept {
    if (ops_ != nullptr)
      std::exchange(ops_, nullptr)->destroy(storage_);
  }

  static_assert(Capacity >= sizeof(void*), "room for a pointer to a larger callable");

  const operations* ops_ = nullptr;
  alignas(std::max_align_t) unsigned char storage_[Capacity];
};

} // namespace rustyray::detail
