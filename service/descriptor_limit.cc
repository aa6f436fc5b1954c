#include "service/descriptor_limit.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace optout::service {
namespace {

int Reserve(int limit) { return std::max(kMinDescriptorReserve, limit / 8); }

}  // namespace

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

int LowestFreeDescriptor() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ::close(fd);
  return fd;
}

int DefaultMaxConnections(int limit, int in_use) {
  return std::max(1, limit - in_use - Reserve(limit));
}

absl::Status CheckMaxConnections(int max_connections, int limit, int in_use) {
  if (max_connections < 1) return absl::InvalidArgumentError("max_connections must be >= 1");
  if (max_connections > DefaultMaxConnections(limit, in_use)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_connections ", max_connections, " does not fit: RLIMIT_NOFILE is ", limit, ", ",
        in_use, " descriptors are in use and ", Reserve(limit),
        " are kept in reserve; raise the limit (e.g. LimitNOFILE=) or lower --max_connections"));
  }
  return absl::OkStatus();
}

}  // namespace optout::service
