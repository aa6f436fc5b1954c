#include "service/peer_rate_limiter.h"

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PeerKeyTest, Ipv4IsTheAddressAndIpv6IsItsSlash64) {
  EXPECT_EQ(PeerKey("ipv4:203.0.113.7:51234"), "203.0.113.7");
  EXPECT_EQ(PeerKey("ipv6:[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(PeerKey("ipv6:[2001:db8:1:2::99]:1"), PeerKey("ipv6:[2001:db8:1:2:ffff::1]:2"));
  EXPECT_NE(PeerKey("ipv6:[2001:db8:1:2::1]:1"), PeerKey("ipv6:[2001:db8:1:3::1]:1"));
  EXPECT_EQ(PeerKey("ipv6:[::ffff:198.51.100.4]:9"), "198.51.100.4");
  EXPECT_EQ(PeerKey("ipv6:[fe80::1%eth0]:9"), "fe80::/64");
  EXPECT_EQ(PeerKey("unix:/run/optout.sock"), "unix:/run/optout.sock");
}

TEST(PeerRateLimiterTest, BurstThenRatePerPeer) {
  PeerRateLimiter limiter(3);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 3; ++i) EXPECT_THAT(limiter.Admit("ipv4:10.0.0.1:1", t0), IsOk());
  EXPECT_THAT(limiter.Admit("ipv4:10.0.0.1:2", t0),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("at most 3 per minute (--register_rate_per_peer); retry in 20 s")));
  // Another address, and another /64, have their own buckets.
  EXPECT_THAT(limiter.Admit("ipv4:10.0.0.2:1", t0), IsOk());
  // One token back after 20 s, not two.
  const absl::Time t1 = t0 + absl::Seconds(20);
  EXPECT_THAT(limiter.Admit("ipv4:10.0.0.1:1", t1), IsOk());
  EXPECT_THAT(limiter.Admit("ipv4:10.0.0.1:1", t1).code(), absl::StatusCode::kResourceExhausted);
  // A long pause refills to the burst, no further.
  const absl::Time t2 = t1 + absl::Hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_THAT(limiter.Admit("ipv4:10.0.0.1:1", t2), IsOk());
  EXPECT_THAT(limiter.Admit("ipv4:10.0.0.1:1", t2).code(), absl::StatusCode::kResourceExhausted);
}

TEST(PeerRateLimiterTest, ZeroMeansUnlimited) {
  PeerRateLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_THAT(limiter.Admit("ipv4:10.0.0.1:1", absl::FromUnixSeconds(1)), IsOk());
  }
}

}  // namespace
}  // namespace optout::service
