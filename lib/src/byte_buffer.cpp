#include "rustyray/detail/byte_buffer.hpp"

#include <sys/mman.h>

namespace rustyray::detail {

void advise_huge_pages(const void* data, std::size_t size) noexcept {
  constexpr std::uintptr_t huge_page = std::uintptr_t{2} << 20;
  auto begin = (reinterpret_cast<std::uintptr_t>(data) + huge_page - 1) & ~(huge_page - 1);
  auto end = (reinterpret_cast<std::uintptr_t>(data) + size) & ~(huge_page - 1);
  if (end > begin)
    // Advice only: where THP is off or unavailable the copy is merely slower.
    (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

} // namespace rustyray::detail
