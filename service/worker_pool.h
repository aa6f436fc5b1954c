// File: service/worker_pool.h
//
// A fixed set of threads for work that blocks (synced RocksDB writes), so
// gRPC reactors never block. Many blocked writers at once is the point:
// RocksDB commits their writes as one group with one WAL fsync.
//
// Thread-safety: Schedule may be called from any thread. The destructor runs
// every queued task, then joins.
#ifndef OPTOUT_SERVICE_WORKER_POOL_H_
#define OPTOUT_SERVICE_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace optout::service {

class WorkerPool final {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Schedule(std::function<void()> task);

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_WORKER_POOL_H_
