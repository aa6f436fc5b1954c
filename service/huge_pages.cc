#include "service/huge_pages.h"

#include <stdlib.h>
#include <unistd.h>

namespace optout::service {

void UseHugePagesForMalloc(char** argv) {
  if (::getenv("GLIBC_TUNABLES") != nullptr) return;
  if (::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", /*overwrite=*/0) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Still here: the exec failed (e.g. no /proc); run as we are.
  ::unsetenv("GLIBC_TUNABLES");
}

}  // namespace optout::service
