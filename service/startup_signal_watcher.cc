#include "service/startup_signal_watcher.h"

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "service/log.h"

namespace optout::service {

StartupSignalWatcher::StartupSignalWatcher(const sigset_t& signals, absl::Duration grace)
    : signals_(signals), grace_(grace), thread_([this] { Watch(); }) {}

StartupSignalWatcher::~StartupSignalWatcher() { Finish(); }

int StartupSignalWatcher::Finish() {
  {
    absl::MutexLock lock(&mu_);
    finished_ = true;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  return stopping_signal_;
}

void StartupSignalWatcher::Watch() {
  // Polls in short slices: sigtimedwait is the only way to take a blocked
  // signal without also taking the ones that arrive after start-up.
  const timespec slice = {0, 100 * 1000 * 1000};
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
    }
    siginfo_t info;
    const int signal = sigtimedwait(&signals_, &info, &slice);
    if (signal < 0) continue;  // EAGAIN (the slice ended) or EINTR
    if (signal == SIGHUP) {
      Log(LogLevel::kInfo, "SIGHUP during start-up: nothing to reload yet; ignored");
      continue;
    }
    Log(LogLevel::kInfo, absl::StrCat("received signal ", signal, " during start-up: stopping"));
    absl::MutexLock lock(&mu_);
    stopping_signal_ = signal;
    stop_requested_.store(true);
    if (mu_.AwaitWithTimeout(absl::Condition(&finished_), grace_)) return;
    Log(LogLevel::kError,
        absl::StrCat("start-up did not stop within ", absl::FormatDuration(grace_),
                     " of the signal; exiting without closing the database (it recovers from "
                     "its write-ahead log at the next start)"));
    std::_Exit(1);
  }
}

}  // namespace optout::service
