#include "service/token_bucket.h"

#include "gtest/gtest.h"

namespace optout::service {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(TokenBucketTest, StartsFullAndRefillsEvenlyOverThePeriod) {
  TokenBucket bucket(600, absl::Minutes(1), kStart);
  EXPECT_EQ(bucket.WaitFor(600, kStart), absl::ZeroDuration());
  bucket.Take(600);
  // Empty: 10 items refill in one second, 600 in a minute.
  EXPECT_EQ(bucket.WaitFor(10, kStart), absl::Seconds(1));
  EXPECT_EQ(bucket.WaitFor(600, kStart), absl::Seconds(60));
  EXPECT_EQ(bucket.WaitFor(10, kStart + absl::Seconds(1)), absl::ZeroDuration());
  EXPECT_FALSE(bucket.Full(kStart + absl::Seconds(59)));
  EXPECT_TRUE(bucket.Full(kStart + absl::Seconds(61)));
}

TEST(TokenBucketTest, MoreThanTheCapacityNeverFits) {
  TokenBucket bucket(100, absl::Hours(24), kStart);
  EXPECT_EQ(bucket.WaitFor(101, kStart), absl::InfiniteDuration());
  EXPECT_EQ(bucket.WaitFor(100, kStart), absl::ZeroDuration());
}

TEST(TokenBucketTest, WaitIsRoundedUpToWholeSecondsAndAClockStepBackRefillsNothing) {
  TokenBucket bucket(1000, absl::Hours(24), kStart);
  bucket.Take(1000);
  // One token per 86.4 s.
  EXPECT_EQ(bucket.WaitFor(1, kStart), absl::Seconds(87));
  EXPECT_EQ(bucket.WaitFor(1, kStart - absl::Hours(1)), absl::Seconds(87));
}

}  // namespace
}  // namespace optout::service
