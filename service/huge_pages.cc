#include "service/huge_pages.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace optout::service {

void UseHugePagesForMalloc(char** argv) {
  if (::getenv("GLIBC_TUNABLES") != nullptr) return;
  if (::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", /*overwrite=*/0) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Still here: the exec failed (e.g. no /proc); run as we are.
  ::unsetenv("GLIBC_TUNABLES");
}

void KeepCheckBuffersOnHeap() {
  const char* tunables = ::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && ::strstr(tunables, "threshold") != nullptr) return;
  ::mallopt(M_MMAP_THRESHOLD, 8 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace optout::service
