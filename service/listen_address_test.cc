#include "service/listen_address.h"

#include "gtest/gtest.h"

namespace optout::service {
namespace {

TEST(IsLoopbackListenAddressTest, LoopbackHostsAndLocalSocketsAreLoopback) {
  for (const char* listen : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051",
                             "LocalHost:1", "[::1]:50051", "[::ffff:127.0.0.1]:50051",
                             "unix:/run/optout.sock", "unix-abstract:optout"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(listen)) << listen;
  }
}

TEST(IsLoopbackListenAddressTest, AnythingReachableFromTheNetworkIsNot) {
  for (const char* listen : {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051",
                             "128.0.0.1:1", "registry.example.org:443", "localhost.example:1",
                             "[::ffff:10.0.0.1]:1", "50051", "", "ipv4:127.0.0.1:50051"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(listen)) << listen;
  }
}

}  // namespace
}  // namespace optout::service
