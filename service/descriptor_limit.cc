#include "service/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace optout::service {

int RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  // An "unlimited" hard limit is capped by the kernel (fs.nr_open) anyway.
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 24));
}

}  // namespace optout::service
