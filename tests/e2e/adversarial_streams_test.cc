// Issue 9, finding 5 (streams that never read): an idle stream is ended
// after --stream_idle_timeout_seconds with a status naming the flag, and
// streams that send but never read cannot grow the server past
// --max_memory_mb.
#include <atomic>
#include <iostream>
#include <thread>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/registry_client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/e2e/adversarial_util.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using testing::OptoutdProcess;

TEST(AdversarialStreamsTest, AStreamThatSendsNothingEndsAfterTheIdleTimeout) {
  OptoutdProcess server({"--stream_idle_timeout_seconds=2"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto stub = v1::Check::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto stream = stub->CheckStream(&context);
  const absl::Time start = absl::Now();
  v1::CheckResponse response;
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_NE(status.error_message().find("--stream_idle_timeout_seconds"), std::string::npos)
      << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(6));
  EXPECT_TRUE(server.Stop().ok());
}

// 1,000 URLs: its answer is ~17x its size, the amplification of finding 5.
v1::CheckRequest UrlBatch(int stream) {
  v1::CheckRequest request;
  for (int i = 0; i < 1000; ++i) {
    request.add_items()->set_url(
        absl::StrCat("https://images.example.org/s", stream, "/photo-", i, ".jpg?size=large"));
  }
  return request;
}

TEST(AdversarialStreamsTest, TwoHundredStreamsThatNeverReadStayWithinTheMemoryBudget) {
  constexpr int kBudgetMb = 256;
  constexpr int kStreams = 200;
  OptoutdProcess server({absl::StrCat("--max_memory_mb=", kBudgetMb),
                         "--stream_idle_timeout_seconds=60"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const int64_t rss_at_start = testing::ProcessRssBytes(server.pid());

  // Eight connections of 25 streams (under --max_streams_per_connection).
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct connections
    channels.push_back(grpc::CreateCustomChannel(server.address(),
                                                 grpc::InsecureChannelCredentials(), args));
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(kStreams);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> batches_sent{0};
  std::vector<std::thread> writers;
  for (int s = 0; s < kStreams; ++s) {
    contexts[s] = std::make_unique<grpc::ClientContext>();
    writers.emplace_back([&, s] {
      auto stub = v1::Check::NewStub(channels[s % channels.size()]);
      auto stream = stub->CheckStream(contexts[s].get());
      const v1::CheckRequest batch = UrlBatch(s);
      // Writes block once the server stops reading; answers are never read.
      while (!stop.load() && stream->Write(batch)) batches_sent.fetch_add(1);
    });
  }
  int64_t peak_growth = 0;
  for (int i = 0; i < 20; ++i) {
    absl::SleepFor(absl::Milliseconds(500));
    peak_growth = std::max(peak_growth, testing::ProcessRssBytes(server.pid()) - rss_at_start);
  }
  std::cerr << "batches sent: " << batches_sent.load() << ", peak RSS growth "
            << (peak_growth >> 20) << " MiB\n";
  // Other clients are still served meanwhile.
  EXPECT_LT(testing::TimedGetInfo(grpc::CreateChannel(server.address(),
                                                      grpc::InsecureChannelCredentials())),
            absl::Seconds(1));
  EXPECT_GT(batches_sent.load(), kStreams) << "the streams did not get going";
  EXPECT_LE(peak_growth, int64_t{kBudgetMb} << 20) << server.ReadLog();
  stop.store(true);
  for (auto& context : contexts) context->TryCancel();
  for (auto& writer : writers) writer.join();
  // The server is still there and serves.
  EXPECT_LT(testing::TimedGetInfo(channels[0]), absl::Seconds(1));
  EXPECT_TRUE(server.Stop().ok());
}

}  // namespace
}  // namespace optout
