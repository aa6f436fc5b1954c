// Issue 9, finding 4 (connections): idle connections are closed after
// --idle_timeout_seconds, so they cannot pile up. (A hard cap on open
// connections is not enforced yet; see README, Security model.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "optout/v1/optout.grpc.pb.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

using testing::OptoutdProcess;

int ConnectIdle(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Time until a fresh client's GetInfo succeeds (retrying), at most `limit`.
absl::Duration TimeToServe(const std::string& address, absl::Duration limit) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < limit) {
    auto stub = v1::Check::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(start + limit));
    v1::GetInfoResponse response;
    if (stub->GetInfo(&context, v1::GetInfoRequest(), &response).ok()) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::InfiniteDuration();
}

TEST(AdversarialConnectionsTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  OptoutdProcess server({"--idle_timeout_seconds=1"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::Check::NewStub(channel);
  grpc::ClientContext context;
  v1::GetInfoResponse response;
  ASSERT_TRUE(stub->GetInfo(&context, v1::GetInfoRequest(), &response).ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  // The server sends GOAWAY after 1 s (+ jitter) without calls.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (channel->GetState(false) == GRPC_CHANNEL_READY && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_NE(channel->GetState(false), GRPC_CHANNEL_READY) << "still connected after 10 s";
  EXPECT_TRUE(server.Stop().ok());
}

}  // namespace
}  // namespace optout
