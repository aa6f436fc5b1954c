#include "service/check_workers.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace optout::service {
namespace {

// Niceness of check workers relative to the rest of optoutd. On Linux,
// setpriority(PRIO_PROCESS, tid) applies to one thread.
constexpr int kWorkerNice = 10;

void LowerThisThreadsPriority() {
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  ::setpriority(PRIO_PROCESS, tid, ::getpriority(PRIO_PROCESS, tid) + kWorkerNice);
}

}  // namespace

CheckWorkers::CheckWorkers(int threads, size_t max_queued)
    : max_queued_(max_queued < 1 ? 1 : max_queued), pool_(threads) {}

absl::Status CheckWorkers::TrySchedule(std::function<void()> check) {
  const bool queued = pool_.TrySchedule(
      [check = std::move(check)] {
        LowerThisThreadsPriority();
        check();
      },
      max_queued_);
  if (queued) return absl::OkStatus();
  refused_.fetch_add(1, std::memory_order_relaxed);
  return absl::ResourceExhaustedError(
      absl::StrCat("server busy: ", max_queued_,
                   " checks already wait for a worker (--max_queued_checks); retry later"));
}

}  // namespace optout::service
