// File: client/internal/stream_watchdog.h
//
// StreamWatchdog bounds blocking steps of a long-lived gRPC stream. A whole
// stream cannot carry a deadline (it may run for hours), but each step can:
// Arm() before a blocking Write/Read/Finish, Disarm() after; if the step is
// still blocked when its limit passes, the watchdog cancels the call, which
// unblocks it. One background thread per watchdog.
//
// Thread-safety: Arm/Disarm from one thread; the context must outlive the
// armed period (Disarm before destroying it).
#ifndef OPTOUT_CLIENT_INTERNAL_STREAM_WATCHDOG_H_
#define OPTOUT_CLIENT_INTERNAL_STREAM_WATCHDOG_H_

#include <cstdint>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace optout::client::internal {

class StreamWatchdog final {
 public:
  StreamWatchdog();
  ~StreamWatchdog();
  StreamWatchdog(const StreamWatchdog&) = delete;
  StreamWatchdog& operator=(const StreamWatchdog&) = delete;

  // Cancels `context`'s call unless Disarm() comes within `limit`.
  void Arm(grpc::ClientContext* context, absl::Duration limit);
  // Returns true when the call was cancelled because the limit passed.
  bool Disarm();

 private:
  void Loop();

  absl::Mutex mu_;
  absl::CondVar changed_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time deadline_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by every Arm/Disarm
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace optout::client::internal

#endif  // OPTOUT_CLIENT_INTERNAL_STREAM_WATCHDOG_H_
