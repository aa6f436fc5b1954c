#include "tests/load/register_load.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "optout/v1/optout.grpc.pb.h"

namespace optout::load {
namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  uint64_t calls = 0;
  LatencyRecorder latency;
  absl::Status status;
};

void Progress(const std::string& label, const std::atomic<uint64_t>& done, uint64_t total,
              Clock::time_point start, absl::Notification* stop) {
  while (!stop->WaitForNotificationWithTimeout(absl::Seconds(2))) {
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    const uint64_t d = done.load();
    std::fprintf(stderr, "%s: %llu/%llu (%.0f/s)\n", label.c_str(),
                 static_cast<unsigned long long>(d), static_cast<unsigned long long>(total),
                 d / s);
  }
}

}  // namespace

LoadTotals RunRegisterLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                           const Workload& workload, const RegisterLoadOptions& options) {
  std::vector<std::unique_ptr<v1::Registry::Stub>> stubs;
  for (const auto& c : channels) stubs.push_back(v1::Registry::NewStub(c));
  const int threads_n = std::max(1, options.concurrency);
  std::vector<Worker> workers(threads_n);
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> done{0};
  absl::Notification stop_progress;
  const Clock::time_point start = Clock::now();
  std::thread progress;
  if (!options.progress_label.empty()) {
    progress = std::thread(Progress, options.progress_label, std::cref(done), options.count,
                           start, &stop_progress);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      Worker& w = workers[t];
      v1::Registry::Stub& stub = *stubs[t % stubs.size()];
      v1::RegisterResponse response;
      for (;;) {
        const uint64_t i = next.fetch_add(1);
        if (i >= options.count) return;
        const v1::RegisterRequest request =
            workload.Registration(options.first + i, options.run, options.with_pdq);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        const Clock::time_point t0 = Clock::now();
        grpc::Status s = stub.Register(&context, request, &response);
        const int64_t nanos =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        if (!s.ok()) {
          w.status = absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
          next.store(options.count);  // stop every thread
          return;
        }
        ++w.calls;
        w.latency.Record(nanos);
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  LoadTotals totals;
  totals.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop_progress.Notify();
  if (progress.joinable()) progress.join();
  for (Worker& w : workers) {
    totals.calls += w.calls;
    totals.latency.Merge(w.latency);
    if (totals.status.ok() && !w.status.ok()) totals.status = w.status;
  }
  totals.items = totals.calls;
  return totals;
}

}  // namespace optout::load
