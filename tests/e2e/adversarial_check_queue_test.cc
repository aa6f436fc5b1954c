// Issue 9, finding 3 (abandoned work): checks run on a bounded worker queue,
// stop at cancellation and deadlines, a full queue answers RESOURCE_EXHAUSTED
// at once, and Health / GetInfo stay fast while checks keep the CPU busy.
#include <atomic>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/e2e/adversarial_util.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using testing::HeavyPdqCheck;
using testing::OptoutdProcess;

// 20,000 stored hashes: every heavy check scans them for each variant.
void StoreManyHashes(const std::string& address) {
  const absl::Status stored =
      testing::StoreManyPdqHashes(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(stored.ok()) << stored;
}

struct CallResult {
  grpc::Status status;
  absl::Duration took;
};

// Sends `request` asynchronously; `done` is notified with the outcome.
class AsyncCheck {
 public:
  AsyncCheck(v1::Check::Stub* stub, const v1::CheckRequest& request, absl::Duration deadline)
      : request_(request) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    start_ = absl::Now();
    stub->async()->Check(&context_, &request_, &response_, [this](grpc::Status s) {
      result_.status = std::move(s);
      result_.took = absl::Now() - start_;
      done_.Notify();
    });
  }
  void Cancel() { context_.TryCancel(); }
  const CallResult& Wait() {
    done_.WaitForNotification();
    return result_;
  }

 private:
  grpc::ClientContext context_;
  v1::CheckRequest request_;
  v1::CheckResponse response_;
  absl::Time start_;
  CallResult result_;
  absl::Notification done_;
};

TEST(AdversarialCheckQueueTest, HealthAndInfoAnswerWithin100MsWhileChecksSaturateTheCpu) {
  OptoutdProcess server({"--check_threads=2", "--max_queued_checks=8"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  StoreManyHashes(server.address());

  std::atomic<bool> stop{false};
  std::atomic<int> heavy_done{0};
  std::atomic<int> in_flight{0};
  std::vector<std::thread> attackers;
  for (int t = 0; t < 6; ++t) {
    attackers.emplace_back([&, t] {
      auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
      auto stub = v1::Check::NewStub(channel);
      std::mt19937_64 rng(100 + t);
      const v1::CheckRequest request = HeavyPdqCheck(rng, 1000);
      while (!stop.load()) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        v1::CheckResponse response;
        in_flight.fetch_add(1);
        if (stub->Check(&context, request, &response).ok()) heavy_done.fetch_add(1);
        in_flight.fetch_sub(1);
      }
    });
  }

  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  ASSERT_LT(testing::TimedGetInfo(channel), absl::Seconds(5));  // connected
  absl::SleepFor(absl::Seconds(1));  // the workers are busy by now
  const absl::Duration cpu_before = testing::ProcessCpuTime(server.pid());
  const absl::Time wall_before = absl::Now();
  absl::Duration slowest_info, slowest_health;
  int samples = 0, fewest_in_flight = 1000;
  while (absl::Now() - wall_before < absl::Seconds(5)) {
    fewest_in_flight = std::min(fewest_in_flight, in_flight.load());
    slowest_info = std::max(slowest_info, testing::TimedGetInfo(channel));
    slowest_health = std::max(slowest_health, testing::TimedHealthCheck(channel));
    ++samples;
    absl::SleepFor(absl::Milliseconds(40));
  }
  const double cores_used = absl::FDivDuration(
      testing::ProcessCpuTime(server.pid()) - cpu_before, absl::Now() - wall_before);
  stop.store(true);
  for (auto& t : attackers) t.join();

  // Both check threads always had work: the server ran checks as fast as
  // the machine let it (cores_used says how fast that was on this machine).
  EXPECT_GT(heavy_done.load(), 0) << "the heavy checks should complete";
  EXPECT_GE(fewest_in_flight, 3) << "the check workers should be kept busy";
  std::cout << "server used " << cores_used << " cores; " << heavy_done.load()
            << " heavy checks answered\n";
  EXPECT_GE(samples, 40);
  EXPECT_LE(slowest_info, absl::Milliseconds(100)) << samples << " samples";
  EXPECT_LE(slowest_health, absl::Milliseconds(100)) << samples << " samples";
  EXPECT_TRUE(server.Stop().ok());
}

TEST(AdversarialCheckQueueTest, FullQueueAnswersResourceExhaustedAtOnce) {
  OptoutdProcess server({"--check_threads=1", "--max_queued_checks=1"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  StoreManyHashes(server.address());
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::Check::NewStub(channel);
  std::mt19937_64 rng(1);
  const v1::CheckRequest request = HeavyPdqCheck(rng, 2000);
  std::vector<std::unique_ptr<AsyncCheck>> calls;
  for (int i = 0; i < 6; ++i) {
    calls.push_back(std::make_unique<AsyncCheck>(stub.get(), request, absl::Seconds(50)));
  }
  int refused = 0, answered = 0;
  for (auto& call : calls) {
    const CallResult& r = call->Wait();
    if (r.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      EXPECT_LT(r.took, absl::Milliseconds(500)) << "a full queue answers at once";
      EXPECT_NE(r.status.error_message().find("--max_queued_checks"), std::string::npos)
          << r.status.error_message();
    } else {
      EXPECT_TRUE(r.status.ok()) << r.status.error_message();
      ++answered;
    }
  }
  // One runs, one waits; the other four are refused (some may arrive after
  // the first finished, so at least three).
  EXPECT_GE(refused, 3);
  EXPECT_GE(answered, 2);
  EXPECT_TRUE(server.Stop().ok());
}

// Server CPU from now until it is idle: three 250 ms slices in a row with
// under 5 ms of CPU each (under a loaded machine a busy server still gets
// more than that), at most `most`.
absl::Duration CpuUntilIdle(pid_t server, absl::Duration most) {
  const absl::Duration start = testing::ProcessCpuTime(server);
  const absl::Time give_up = absl::Now() + most;
  for (int quiet = 0; quiet < 3 && absl::Now() < give_up;) {
    const absl::Duration slice_start = testing::ProcessCpuTime(server);
    absl::SleepFor(absl::Milliseconds(250));
    quiet = testing::ProcessCpuTime(server) - slice_start < absl::Milliseconds(5) ? quiet + 1 : 0;
  }
  return testing::ProcessCpuTime(server) - start;
}

TEST(AdversarialCheckQueueTest, AbandonedAndLateChecksStopCostingCpu) {
  // Bounded per-item work made a 10,000-item check finish in well under a
  // second; 80,000 dihedral items (23 MB) keep each call busy for seconds.
  OptoutdProcess server({"--check_threads=2", "--max_queued_checks=8",
                         "--max_batch_items=80000", "--max_message_mb=64"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  StoreManyHashes(server.address());
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Check::NewStub(channel);
  std::mt19937_64 rng(2);
  // Each would take several seconds of CPU to finish.
  const v1::CheckRequest request = HeavyPdqCheck(rng, 80000);
  // What one such call costs when it runs to the end: the yardstick, in CPU
  // time, so a loaded machine moves both sides alike.
  ASSERT_LT(CpuUntilIdle(server.pid(), absl::Seconds(20)), absl::Milliseconds(100));
  const absl::Duration before_full = testing::ProcessCpuTime(server.pid());
  AsyncCheck full(stub.get(), request, absl::Seconds(120));
  ASSERT_TRUE(full.Wait().status.ok()) << full.Wait().status.error_message();
  const absl::Duration full_cpu = testing::ProcessCpuTime(server.pid()) - before_full;

  const absl::Duration before_batch = testing::ProcessCpuTime(server.pid());
  std::vector<std::unique_ptr<AsyncCheck>> late, cancelled;
  for (int i = 0; i < 2; ++i) {
    late.push_back(std::make_unique<AsyncCheck>(stub.get(), request, absl::Milliseconds(400)));
    cancelled.push_back(std::make_unique<AsyncCheck>(stub.get(), request, absl::Seconds(50)));
  }
  absl::SleepFor(absl::Milliseconds(400));
  for (auto& call : cancelled) call->Cancel();
  for (auto& call : late) {
    EXPECT_EQ(call->Wait().status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  for (auto& call : cancelled) {
    EXPECT_EQ(call->Wait().status.error_code(), grpc::StatusCode::CANCELLED);
  }
  // Run to the end, the four calls would cost four times `full_cpu`.
  // Stopped at the chunk boundary after 400 ms, all four together (their
  // parse included) cost at most the 400 ms of both check threads on a quiet
  // machine, well under half of that.
  CpuUntilIdle(server.pid(), absl::Seconds(20));
  const absl::Duration batch_cpu = testing::ProcessCpuTime(server.pid()) - before_batch;
  EXPECT_LT(batch_cpu, 2 * full_cpu)
      << "abandoned checks still burn CPU (one full check: " << full_cpu << ")";
  EXPECT_LT(testing::TimedGetInfo(channel), absl::Milliseconds(100));
  EXPECT_TRUE(server.Stop().ok());
}

}  // namespace
}  // namespace optout
