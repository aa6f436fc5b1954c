// File: service/stream_guard.h
//
// Limits for CheckStreams whose client does not read (issue 9, finding 5).
//
// StreamSweeper: asks every open stream once a second whether it has been
// idle too long (nothing read, written or checked), so a stream that stops
// reading is cancelled after --stream_idle_timeout_seconds and its memory
// goes back.
//
// gRPC-free; thread-safe.
#ifndef OPTOUT_SERVICE_STREAM_GUARD_H_
#define OPTOUT_SERVICE_STREAM_GUARD_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace optout::service {

class StreamSweeper final {
 public:
  // Called with the current time; cancels its stream if idle too long.
  using IdleCheck = std::function<void(absl::Time now)>;
  using Handle = uint64_t;

  StreamSweeper();
  ~StreamSweeper();  // stops the sweeping thread

  Handle Watch(IdleCheck check);
  // After Forget returns, `check` of `handle` is not running and never runs.
  void Forget(Handle handle);

 private:
  void Run();

  absl::Mutex mu_;
  absl::flat_hash_map<Handle, IdleCheck> streams_ ABSL_GUARDED_BY(mu_);
  Handle next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_STREAM_GUARD_H_
