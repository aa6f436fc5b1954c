// File: service/check_workers.h
//
// CheckWorkers runs checks off the gRPC threads, on a fixed set of workers
// behind a bounded queue (issue 9, finding 3). A check that finds the queue
// full is refused at once with RESOURCE_EXHAUSTED rather than waiting: a
// queue that never refuses lets abandoned requests pile up and stall every
// call behind them. The workers run at a lower scheduling priority (nice)
// than gRPC's threads, so Health and GetInfo answer promptly while checks
// keep every core busy.
//
// gRPC-free. Thread-safety: TrySchedule may be called from any thread; the
// destructor runs every queued check, then joins the workers.
#ifndef OPTOUT_SERVICE_CHECK_WORKERS_H_
#define OPTOUT_SERVICE_CHECK_WORKERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "client/common/base/thread_pool.h"

namespace optout::service {

class CheckWorkers final {
 public:
  // `threads` <= 0: one per core. `max_queued` >= 1: checks that may wait
  // for a worker.
  CheckWorkers(int threads, size_t max_queued);

  // OK when `check` was queued; RESOURCE_EXHAUSTED naming the limit when
  // `max_queued` checks already wait (then `check` is dropped unrun).
  absl::Status TrySchedule(std::function<void()> check);

  int threads() const { return pool_.size(); }
  // Checks waiting for a worker now, and checks refused so far.
  size_t queued() const { return pool_.queued(); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  size_t max_queued() const { return max_queued_; }

 private:
  const size_t max_queued_;
  std::atomic<uint64_t> refused_{0};
  ThreadPool pool_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_WORKERS_H_
