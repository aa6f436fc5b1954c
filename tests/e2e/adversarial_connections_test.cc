// Issue 9, finding 4 (connections): idle connections beyond the descriptor
// limit must not stop the server from accepting. gRPC 1.51's listener gives
// up for good once accept() fails with EMFILE; optoutd refuses connections
// past --max_connections (derived from RLIMIT_NOFILE) before that happens.
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

// Raises this test's own soft descriptor limit to its hard limit, which
// must allow `needed` descriptors.
void RaiseOwnDescriptorLimit(rlim_t needed) {
  rlimit own{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
  ASSERT_GE(own.rlim_max, needed) << "the test needs " << needed << " descriptors (ulimit -Hn)";
  own.rlim_cur = own.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &own), 0);
}

// Opens `count` idle connections; those the kernel refused are left out.
std::vector<int> ConnectIdleMany(int port, int count) {
  std::vector<int> sockets;
  for (int i = 0; i < count; ++i) {
    const int fd = ConnectIdle(port);
    if (fd >= 0) sockets.push_back(fd);
  }
  return sockets;
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

TEST(AdversarialConnectionsTest, ServesANewClientAfter1100IdleConnectionsAt1024Descriptors) {
  // This test itself holds 1,100 sockets.
  ASSERT_NO_FATAL_FAILURE(RaiseOwnDescriptorLimit(1300));

  OptoutdProcess server;
  server.set_descriptor_limit(1024);
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const std::string log_at_start = server.ReadLog();
  EXPECT_NE(log_at_start.find("max_connections"), std::string::npos) << log_at_start;

  const std::vector<int> sockets = ConnectIdleMany(server.port(), 1100);
  EXPECT_EQ(sockets.size(), 1100u) << "the kernel completes connections before accept";
  // Let the server accept (and refuse) them all.
  absl::SleepFor(absl::Seconds(3));
  EXPECT_NE(server.ReadLog().find("--max_connections reached"), std::string::npos)
      << server.ReadLog();
  for (int fd : sockets) ::close(fd);

  const absl::Duration served_after = TimeToServe(server.address(), absl::Seconds(2));
  EXPECT_LE(served_after, absl::Seconds(2)) << server.ReadLog();
  EXPECT_EQ(server.ReadLog().find("Failed accept4"), std::string::npos) << server.ReadLog();
  EXPECT_TRUE(server.Stop().ok());
}

// gRPC accepts a whole backlog in one loop before it closes anything, so a
// burst far larger than the descriptor reserve is the case that used to
// reach EMFILE (and stop the listener for good).
TEST(AdversarialConnectionsTest, ABurstOf4000ConnectionsAt1024DescriptorsNeverStopsTheListener) {
  ASSERT_NO_FATAL_FAILURE(RaiseOwnDescriptorLimit(4200));

  OptoutdProcess server;
  server.set_descriptor_limit(1024);
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const std::vector<int> sockets = ConnectIdleMany(server.port(), 4000);
  absl::SleepFor(absl::Seconds(1));  // let the server accept (and refuse) the burst
  EXPECT_NE(server.ReadLog().find("--max_connections reached"), std::string::npos)
      << server.ReadLog();
  for (int fd : sockets) ::close(fd);
  EXPECT_LE(TimeToServe(server.address(), absl::Seconds(2)), absl::Seconds(2)) << server.ReadLog();
  EXPECT_EQ(server.ReadLog().find("Failed accept4"), std::string::npos) << server.ReadLog();
  EXPECT_TRUE(server.Stop().ok());
}

TEST(AdversarialConnectionsTest, AMaxConnectionsThatDoesNotFitIsRefusedAtStart) {
  OptoutdProcess server({"--max_connections=5000"});
  server.set_descriptor_limit(1024);
  const absl::Status status = server.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("--max_connections 5000 does not fit"),
            std::string::npos)
      << status;
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
