#include "service/check_stream_reactor.h"

#include <utility>

#include "service/status_util.h"

namespace optout::service {

CheckStreamReactor::CheckStreamReactor(const Registry* registry) : registry_(registry) {
  absl::MutexLock lock(&mu_);
  reading_ = true;
  StartRead(&request_);
}

void CheckStreamReactor::OnReadDone(bool ok) {
  absl::MutexLock lock(&mu_);
  reading_ = false;
  if (!ok) {
    reads_done_ = true;  // client half-closed (or the call broke)
    Pump();
    return;
  }
  v1::CheckResponse response;
  absl::Status status = registry_->Check(request_, &response);
  if (!status.ok()) {
    // A bad batch ends the stream; earlier answers still go out first.
    reads_done_ = true;
    final_status_ = status;
    Pump();
    return;
  }
  queue_.push_back(std::move(response));
  if (queue_.size() < kMaxQueued) {
    reading_ = true;
    StartRead(&request_);
  }
  Pump();
}

void CheckStreamReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  queue_.pop_front();
  if (!ok) {
    // The client went away; nothing more can be delivered.
    queue_.clear();
    reads_done_ = true;
    final_status_ = absl::CancelledError("stream write failed");
  }
  if (!reads_done_ && !reading_ && queue_.size() < kMaxQueued) {
    reading_ = true;
    StartRead(&request_);
  }
  Pump();
}

void CheckStreamReactor::Pump() {
  if (finished_ || writing_) return;
  if (!queue_.empty()) {
    writing_ = true;
    StartWrite(&queue_.front());
    return;
  }
  if (reads_done_ && !reading_) {
    finished_ = true;
    Finish(ToGrpcStatus(final_status_));
  }
}

}  // namespace optout::service
