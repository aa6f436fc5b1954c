// File: client/dataset/thread_pool.h
//
// A fixed set of worker threads running queued closures, for hashing images
// and digesting URLs on all cores. Schedule() is thread-safe. The destructor
// runs every closure already scheduled, then joins the workers.
#ifndef OPTOUT_CLIENT_DATASET_THREAD_POOL_H_
#define OPTOUT_CLIENT_DATASET_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace optout::dataset {

class ThreadPool final {
 public:
  // `threads` <= 0 means one per core.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Schedule(std::function<void()> work);
  int size() const { return static_cast<int>(workers_.size()); }

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_THREAD_POOL_H_
