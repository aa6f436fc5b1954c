// File: tests/e2e/shutdown_e2e_test.cc
//
// optoutd on SIGTERM: a call in flight, here an open CheckStream, is still
// served until it ends (within --shutdown_grace_seconds), then optoutd exits
// 0. (gRPC's graceful shutdown also waits for idle clients to close their
// connections after its GOAWAY: a synchronous C++ client does so at its next
// poll, within 5 s. Closing such connections at once when no call is in
// flight was tried and not kept: the client's next call then met the closed
// connection and failed UNAVAILABLE instead of reconnecting cleanly.)
// Real optoutd on loopback; about 2 s.
#include <csignal>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/e2e/optoutd_process.h"

namespace optout::testing {
namespace {

constexpr int kGraceSeconds = 30;

v1::CheckRequest OneUrl(int tag) {
  v1::CheckRequest request;
  request.set_tag(tag);
  request.add_items()->set_url(absl::StrCat("https://shutdown.example/", tag, ".jpg"));
  return request;
}

TEST(ShutdownE2eTest, AnOpenCheckStreamIsStillServedAfterSigtermUntilItEnds) {
  OptoutdProcess server;
  server.AddFlag(absl::StrCat("--shutdown_grace_seconds=", kGraceSeconds));
  ASSERT_TRUE(server.Start().ok());
  auto check = v1::Check::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = check->CheckStream(&context);
  v1::CheckResponse answer;
  ASSERT_TRUE(stream->Write(OneUrl(1)));
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.tag(), 1u);

  server.Signal(SIGTERM);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(server.ExitedWith(), -1) << "an open stream is a call in flight: the server waits";
  ASSERT_TRUE(stream->Write(OneUrl(2))) << "the stream is still served after SIGTERM";
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.tag(), 2u);
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_FALSE(stream->Read(&answer));
  const grpc::Status finished = stream->Finish();
  EXPECT_TRUE(finished.ok()) << finished.error_message();

  // The stream ended: optoutd exits, well before the grace is out.
  int exit_code = -1;
  const absl::Time ended = absl::Now();
  while ((exit_code = server.ExitedWith()) == -1 &&
         absl::Now() - ended < absl::Seconds(kGraceSeconds)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(exit_code, 0) << server.ReadLog();
  EXPECT_LT(absl::Now() - ended, absl::Seconds(kGraceSeconds / 2)) << server.ReadLog();
}

}  // namespace
}  // namespace optout::testing
