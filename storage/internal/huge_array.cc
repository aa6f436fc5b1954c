// File: storage/internal/huge_array.cc
#include "storage/internal/huge_array.h"

#include <cstdlib>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace optout::storage::internal {

void* AllocateLarge(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t align = bytes >= kHugePage ? kHugePage : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (p == nullptr) std::abort();  // out of memory, as operator new would
#ifdef __linux__
  // Advice only: without THP the buffer still works with 4 KiB pages.
  if (align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace optout::storage::internal
