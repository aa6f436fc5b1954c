#include "service/disk_floor.h"

#include <sys/statvfs.h>

#include "absl/strings/str_cat.h"

namespace optout::service {

absl::Status DiskFloor::CheckWrite(absl::Time now) {
  if (min_free_mb_ <= 0) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (now - measured_ >= absl::Seconds(1)) {
    struct statvfs fs {};
    if (::statvfs(dir_.c_str(), &fs) != 0) return absl::OkStatus();
    free_mb_ = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize) >> 20;
    measured_ = now;
  }
  if (free_mb_ >= min_free_mb_) return absl::OkStatus();
  refused_.fetch_add(1, std::memory_order_relaxed);
  return absl::ResourceExhaustedError(
      absl::StrCat("registrations are paused: the data disk has ", free_mb_,
                   " MB free, below the floor of ", min_free_mb_,
                   " MB (--min_free_disk_mb); checks still work"));
}

int64_t DiskFloor::FreeBytes() const {
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) != 0) return -1;
  return static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
}

}  // namespace optout::service
