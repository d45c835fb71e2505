#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace rustyray::detail {

/// The types stored as raw bytes: sized exactly, copied with one memcpy.
template <class T>
inline constexpr bool is_byte_buffer_v =
  std::is_same_v<
    T,
    std::
      string> || std::is_same_v<T, std::vector<char>> || std::is_same_v<T, std::vector<std::uint8_t>>;

/// Buffers from this size on are copied into memory backed by transparent
/// huge pages.
inline constexpr std::size_t huge_copy_threshold = std::size_t{4} << 20;

/// Asks the kernel to back the whole 2 MiB pages inside [data, data + size)
/// with transparent huge pages (Debian's default THP mode is "madvise").
void advise_huge_pages(const void* data, std::size_t size) noexcept;

/// Moves a recycled buffer with room for `size` bytes into `out` (see
/// lib/src/buffer_pool.hpp); false if there is none.
bool take_recycled(std::vector<std::uint8_t>& out, std::size_t size);
bool take_recycled(std::vector<char>& out, std::size_t size);
bool take_recycled(std::string& out, std::size_t size);

/// Copies a value: the one copy of `put` (from an lvalue) and of `get`.
/// A large byte buffer is copied into a recycled buffer whose pages are
/// already mapped, or else into fresh memory advised for huge pages before it
/// is touched: on a VM each 4 KiB page fault costs more than copying the
/// page, so faulting in a large buffer would dominate the copy.
template <class T>
T copy_value(const T& value) {
  if constexpr (is_byte_buffer_v<T>) {
    if (value.size() >= huge_copy_threshold) {
      T result;
      if (!take_recycled(result, value.size())) {
        result.reserve(value.size());
        advise_huge_pages(result.data(), value.size());
      }
      result.insert(result.end(), value.begin(), value.end());
      return result;
    }
  }
  return value;
}

} // namespace rustyray::detail
