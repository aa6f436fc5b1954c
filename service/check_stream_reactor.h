// File: service/check_stream_reactor.h
//
// CheckStream: each request batch is answered by one response, in order.
// Flow control: at most kMaxQueued answered batches wait for the network;
// beyond that the reactor stops reading, so a fast client cannot make the
// server buffer without bound. A bad batch ends the stream with its error
// (INVALID_ARGUMENT naming the item); batches before it were answered.
//
// Deletes itself in OnDone. Callbacks may run concurrently; `mu_` guards the
// queue and the read/write state.
#ifndef OPTOUT_SERVICE_CHECK_STREAM_REACTOR_H_
#define OPTOUT_SERVICE_CHECK_STREAM_REACTOR_H_

#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "optout/v1/optout.grpc.pb.h"
#include "service/registry.h"

namespace optout::service {

class CheckStreamReactor final
    : public grpc::ServerBidiReactor<v1::CheckRequest, v1::CheckResponse> {
 public:
  explicit CheckStreamReactor(const Registry* registry);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }
  void OnCancel() override {}

 private:
  static constexpr size_t kMaxQueued = 4;

  // Starts the next write or finishes, as the state allows. Needs mu_ held.
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Registry* const registry_;
  v1::CheckRequest request_;  // target of the one outstanding read

  absl::Mutex mu_;
  std::deque<v1::CheckResponse> queue_ ABSL_GUARDED_BY(mu_);  // front is being written
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_STREAM_REACTOR_H_
