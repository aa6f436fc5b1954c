// Issue 9, finding 5 (streams that never read), in part: an idle stream is
// ended after --stream_idle_timeout_seconds with a status naming the flag.
// Not yet here: 200 non-reading streams within --max_memory_mb (answers
// waiting for their reader are not counted against the budget yet).
#include <iostream>
#include <memory>
#include <vector>

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

}  // namespace
}  // namespace optout
