#include "client/cli/streaming_heap.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace optout::cli {
namespace {

// Address space the main heap reserves at once and asks huge pages for.
// Later growth past it (a run holding more) gets ordinary pages.
constexpr size_t kHugeReserve = size_t{256} << 20;
constexpr size_t kTopPad = size_t{64} << 20;

}  // namespace

void TuneHeapForStreaming() {
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  // Above the reserve plus the pad: a free never trims the reserve away
  // (memory given back and grown again would come without huge pages).
  ::mallopt(M_TRIM_THRESHOLD, 512 << 20);
  ::mallopt(M_TOP_PAD, static_cast<int>(kTopPad));
  // One arena for every thread: the workers' buffers (each record's URL
  // digests) then come from the same huge-page heap, and no per-thread
  // heap grows by mprotect, each call a TLB shootdown across the cores.
  // The workers allocate only while the first chunks fill (records are
  // reused after), so they hardly contend for it.
  ::mallopt(M_ARENA_MAX, 1);
  const char* tunables = ::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && ::strstr(tunables, "hugetlb") != nullptr) return;
  // Grow the main heap once by the reserve: ask for more than its top
  // chunk holds while the pad is the reserve. If the heap cannot grow
  // (glibc then maps memory instead), the break does not move and nothing
  // is advised.
  const size_t top = ::mallinfo2().keepcost;
  ::mallopt(M_TOP_PAD, static_cast<int>(kHugeReserve));
  const uintptr_t before = reinterpret_cast<uintptr_t>(::sbrk(0));
  // volatile: the compiler may not drop the malloc and free as unused.
  void* volatile probe = ::malloc(top + (size_t{1} << 20));
  const uintptr_t after = reinterpret_cast<uintptr_t>(::sbrk(0));
  ::free(probe);
  ::mallopt(M_TOP_PAD, static_cast<int>(kTopPad));
  // From the start of the old top chunk (the next allocations are carved
  // from it) to the new break. The kernel backs only the 2 MiB-aligned
  // blocks inside the range with huge pages, so the ends need no rounding
  // beyond the page.
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t from = (before - top) & ~(page - 1);
  // Advice only: without THP (or on an old kernel) the heap works as before.
  if (after > before) ::madvise(reinterpret_cast<void*>(from), after - from, MADV_HUGEPAGE);
}

}  // namespace optout::cli
