#include "client/internal/stream_watchdog.h"

#include "absl/time/clock.h"

namespace optout::client::internal {

StreamWatchdog::StreamWatchdog() : thread_([this] { Loop(); }) {}

StreamWatchdog::~StreamWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    changed_.Signal();
  }
  thread_.join();
}

void StreamWatchdog::Arm(grpc::ClientContext* context, absl::Duration limit) {
  absl::MutexLock lock(&mu_);
  context_ = context;
  deadline_ = absl::Now() + limit;
  fired_ = false;
  ++generation_;
  changed_.Signal();
}

bool StreamWatchdog::Disarm() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
  ++generation_;
  changed_.Signal();
  const bool fired = fired_;
  fired_ = false;
  return fired;
}

void StreamWatchdog::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    if (context_ == nullptr) {
      changed_.Wait(&mu_);
      continue;
    }
    const uint64_t generation = generation_;
    const absl::Time deadline = deadline_;
    while (!stop_ && generation_ == generation && absl::Now() < deadline) {
      changed_.WaitWithDeadline(&mu_, deadline);
    }
    if (!stop_ && generation_ == generation && context_ != nullptr) {
      context_->TryCancel();
      context_ = nullptr;
      fired_ = true;
    }
  }
}

}  // namespace optout::client::internal
