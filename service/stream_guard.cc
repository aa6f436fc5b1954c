#include "service/stream_guard.h"

#include "absl/time/clock.h"

namespace optout::service {

StreamSweeper::StreamSweeper() : thread_([this] { Run(); }) {}

StreamSweeper::~StreamSweeper() {
  stop_.Notify();
  thread_.join();
}

StreamSweeper::Handle StreamSweeper::Watch(IdleCheck check) {
  absl::MutexLock lock(&mu_);
  const Handle handle = next_++;
  streams_.emplace(handle, std::move(check));
  return handle;
}

void StreamSweeper::Forget(Handle handle) {
  absl::MutexLock lock(&mu_);  // waits for a sweep in progress
  streams_.erase(handle);
}

void StreamSweeper::Run() {
  while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(1))) {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    for (auto& [handle, check] : streams_) check(now);
  }
}

}  // namespace optout::service
