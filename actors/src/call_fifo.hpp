#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "rustyray/actors/internal/actor_core.hpp"

namespace rustyray::actors::internal {

/// Calls in arrival order: a vector read from a moving head. An actor's
/// queues are short-lived (most empty after a call or a burst), and a
/// `std::deque` costs two allocations and half a kilobyte before its first
/// element; this costs one small allocation, kept while the queue lives.
class call_fifo {
public:
  using iterator = std::vector<call_ptr>::iterator;

  [[nodiscard]] bool empty() const {
    return head_ == items_.size();
  }
  [[nodiscard]] std::size_t size() const {
    return items_.size() - head_;
  }
  [[nodiscard]] call_ptr& front() {
    return items_[head_];
  }
  void push_back(call_ptr call) {
    items_.push_back(std::move(call));
  }
  void pop_front() {
    items_[head_].reset();
    if (++head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= compact_after && head_ * 2 >= items_.size()) {
      // A queue that never empties (its caller keeps ahead) would grow
      // without end: drop the consumed front, amortized O(1) per call.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  [[nodiscard]] iterator begin() {
    return items_.begin() + static_cast<std::ptrdiff_t>(head_);
  }
  [[nodiscard]] iterator end() {
    return items_.end();
  }
  iterator erase(iterator i) {
    return items_.erase(i);
  }
  void swap(call_fifo& other) noexcept {
    items_.swap(other.items_);
    std::swap(head_, other.head_);
  }

private:
  static constexpr std::size_t compact_after = 64;
  std::vector<call_ptr> items_;
  std::size_t head_ = 0;
};

} // namespace rustyray::actors::internal
