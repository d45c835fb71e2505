#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "rustyray/object_id.hpp"

namespace rustyray::detail {

/// Object IDs in order, the first two kept inline: the objects a task or
/// call waits for, mostly one or two. A `std::vector` cost each call that
/// takes a ref a `malloc` by the caller and a `free` by the actor's thread.
class id_list {
public:
  id_list() = default;

  id_list(std::initializer_list<object_id> ids) {
    for (const auto& id : ids)
      push_back(id);
  }

  id_list(const id_list&) = default;
  id_list& operator=(const id_list&) = default;

  id_list(id_list&& other) noexcept
    : size_(other.size_), inline_{other.inline_[0], other.inline_[1]},
      spilled_(std::move(other.spilled_)) {
    other.size_ = 0;
  }

  id_list& operator=(id_list&& other) noexcept {
    size_ = other.size_;
    inline_[0] = other.inline_[0];
    inline_[1] = other.inline_[1];
    spilled_ = std::move(other.spilled_);
    other.size_ = 0;
    return *this;
  }

  void push_back(const object_id& id) {
    if (size_ < inline_capacity) {
      inline_[size_++] = id;
      return;
    }
    if (size_ == inline_capacity)
      spilled_.assign(inline_, inline_ + inline_capacity);
    spilled_.push_back(id);
    ++size_;
  }

  [[nodiscard]] std::size_t size() const noexcept {
    return size_;
  }

  [[nodiscard]] bool empty() const noexcept {
    return size_ == 0;
  }

  [[nodiscard]] object_id* data() noexcept {
    return size_ <= inline_capacity ? inline_ : spilled_.data();
  }

  [[nodiscard]] const object_id* data() const noexcept {
    return size_ <= inline_capacity ? inline_ : spilled_.data();
  }

  object_id& operator[](std::size_t i) noexcept {
    return data()[i];
  }

  const object_id& operator[](std::size_t i) const noexcept {
    return data()[i];
  }

  object_id* begin() noexcept {
    return data();
  }
  object_id* end() noexcept {
    return data() + size_;
  }
  [[nodiscard]] const object_id* begin() const noexcept {
    return data();
  }
  [[nodiscard]] const object_id* end() const noexcept {
    return data() + size_;
  }

private:
  static constexpr std::size_t inline_capacity = 2;
  std::size_t size_ = 0;
  object_id inline_[inline_capacity];
  // All of them once there are more than fit inline.
  std::vector<object_id> spilled_;
};

} // namespace rustyray::detail
