#include "tests/e2e/child_processes.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/synchronization/notification.h"

namespace optout::testing {
namespace {

constexpr int kSlots = 256;
std::atomic<pid_t> children[kSlots];

}  // namespace

void RememberChild(pid_t pid) {
  for (auto& slot : children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void ForgetChild(pid_t pid) {
  for (auto& slot : children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void KillAllChildren() {
  for (auto& slot : children) {
    const pid_t pid = slot.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
}

struct Watchdog::State {
  absl::Notification done;
  std::atomic<const char*> phase{"starting"};
  std::thread thread;
};

Watchdog::Watchdog(const char* what, absl::Duration limit) : state_(new State) {
  State* state = state_;
  state->thread = std::thread([state, what, limit] {
    if (state->done.WaitForNotificationWithTimeout(limit)) return;
    std::fprintf(stderr, "WATCHDOG: %s overran %s while %s; killing its servers\n", what,
                 absl::FormatDuration(limit).c_str(), state->phase.load());
    std::fflush(stderr);
    KillAllChildren();
    ::_exit(1);
  });
}

Watchdog::~Watchdog() {
  state_->done.Notify();
  state_->thread.join();
  delete state_;
}

void Watchdog::Phase(const char* phase) { state_->phase = phase; }

}  // namespace optout::testing
