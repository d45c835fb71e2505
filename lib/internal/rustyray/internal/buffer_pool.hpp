#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <caf/message.hpp>

namespace rustyray::internal {

/// Large byte buffers whose objects were dropped, kept for the next large
/// copy (a put of an lvalue buffer, a get). Their pages are already faulted
/// in, so a copy into one runs at memcpy speed instead of paying the kernel
/// for fresh zeroed pages — what Ray's plasma store gets from its
/// pre-mapped arena. Bounded by `config.buffer_pool_capacity`.
class buffer_pool {
public:
  explicit buffer_pool(std::uint64_t capacity) : capacity_(capacity) {}

  /// Takes the byte buffer out of a value the store dropped, if it is large
  /// (`size`, the value's size in the store, says so at no cost: most values
  /// are small), not shared with anyone, and fits the pool.
  void recycle(caf::message& dropped, std::uint64_t size);

  /// Moves a cleared buffer with room for `size` bytes into `out`; false if
  /// the pool has none.
  bool take(std::vector<std::uint8_t>& out, std::size_t size);
  bool take(std::vector<char>& out, std::size_t size);
  bool take(std::string& out, std::size_t size);

  /// Bytes held now.
  [[nodiscard]] std::uint64_t bytes() const;

private:
  template <class T>
  void put_back(std::deque<T>& shelf, T&& buf);

  template <class T>
  bool take_from(std::deque<T>& shelf, T& out, std::size_t size);

  std::uint64_t capacity_;
  mutable std::mutex mtx_;
  // Guarded by mtx_:
  std::uint64_t held_ = 0;
  std::deque<std::vector<std::uint8_t>> bytes_;
  std::deque<std::vector<char>> chars_;
  std::deque<std::string> strings_;
};

} // namespace rustyray::internal
