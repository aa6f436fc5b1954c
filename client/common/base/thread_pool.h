// File: client/common/base/thread_pool.h
//
// A fixed set of worker threads running queued closures. The client uses it
// to hash images and digest URLs on all cores; optoutd uses it for work that
// blocks (synced RocksDB writes), so gRPC reactors never block. Many blocked
// writers at once is the point there: RocksDB commits their writes as one
// group with one WAL fsync.
//
// optoutd also runs checks on one, bounded by TrySchedule: a full queue
// refuses more work at once instead of letting waiting checks pile up.
//
// Thread-safety: Schedule and TrySchedule may be called from any thread. The destructor runs
// every closure already scheduled, then joins the workers.
#ifndef OPTOUT_CLIENT_COMMON_BASE_THREAD_POOL_H_
#define OPTOUT_CLIENT_COMMON_BASE_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace optout {

class ThreadPool final {
 public:
  // `threads` <= 0 means one per core.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Schedule(std::function<void()> work);
  // Queues `work` unless `max_queued` closures already wait for a worker;
  // false (and `work` dropped unrun) when the queue is full.
  bool TrySchedule(std::function<void()> work, size_t max_queued);
  int size() const { return static_cast<int>(workers_.size()); }
  // Closures waiting for a worker (not those running).
  size_t queued() const;

 private:
  void Run();

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace optout

#endif  // OPTOUT_CLIENT_COMMON_BASE_THREAD_POOL_H_
