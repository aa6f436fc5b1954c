// File: service/disk_floor.h
//
// DiskFloor refuses new registrations once the file system holding the data
// folder has less than a minimum free (issue 9, finding 6): a flood of
// registrations must not fill the disk until RocksDB fails every write and
// the server stops answering. Checks go on; Revoke goes on too (it writes a
// few bytes, and withdrawing an opt-out must always work).
//
// gRPC-free; thread-safe. Free space is read with statvfs at most once a
// second.
#ifndef OPTOUT_SERVICE_DISK_FLOOR_H_
#define OPTOUT_SERVICE_DISK_FLOOR_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace optout::service {

class DiskFloor final {
 public:
  // `min_free_mb` <= 0: no floor.
  DiskFloor(std::string dir, int64_t min_free_mb) : dir_(std::move(dir)), min_free_mb_(min_free_mb) {}

  // RESOURCE_EXHAUSTED naming the limit when below the floor; OK otherwise
  // (also when free space cannot be read: RocksDB reports real I/O errors).
  absl::Status CheckWrite(absl::Time now);
  // Registrations refused so far.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  // Free bytes on the data disk now (statvfs; -1 when it cannot be read),
  // and the floor in bytes (0: none).
  int64_t FreeBytes() const;
  int64_t floor_bytes() const { return min_free_mb_ > 0 ? min_free_mb_ << 20 : 0; }

 private:
  const std::string dir_;
  const int64_t min_free_mb_;
  std::atomic<uint64_t> refused_{0};
  absl::Mutex mu_;
  absl::Time measured_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t free_mb_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_DISK_FLOOR_H_
