#include "service/cluster/progress.h"

#include "client/common/digest/digest.h"
#include "gtest/gtest.h"
#include "client/common/base/testing/status_matchers.h"

namespace optout::service::cluster {
namespace {

TEST(ProgressTest, EncodeDecodeRoundTrips) {
  const Progress p = Progress().Next(1, "a").Next(2, "b");
  absl::StatusOr<Progress> back = Progress::Decode(p.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->sequence, 2u);
  EXPECT_EQ(back->digest, p.digest);
}

TEST(ProgressTest, DigestDependsOnOrderSequenceAndBytes) {
  const Progress ab = Progress().Next(1, "a").Next(2, "b");
  EXPECT_EQ(ab.digest, Progress().Next(1, "a").Next(2, "b").digest);
  EXPECT_NE(ab.digest, Progress().Next(1, "b").Next(2, "a").digest);
  EXPECT_NE(ab.digest, Progress().Next(1, "a").Next(3, "b").digest);
  EXPECT_NE(ab.digest, Progress().Next(1, "a").Next(2, "c").digest);
}

// Nodes compare digests across builds, so the chain's bytes are fixed:
// SHA-256(previous digest || big-endian sequence || message), from 32 zero
// bytes. The expected value was computed apart (Python's hashlib).
TEST(ProgressTest, DigestIsTheChainedSha256EveryBuildComputes) {
  const Progress first = Progress().Next(1, "register");
  EXPECT_EQ(digest::ToHex(first.digest),
            "2ff64e3d1c21f880b1012dcb61f867e82b6658688e8c9bdb87537749f5d836ce");
}

TEST(ProgressTest, FollowsOnlyTheMessageAppliedAtItsSequence) {
  const Progress p = Progress().Next(1, "a").Next(2, "b");
  EXPECT_TRUE(p.Follows(2, "b"));
  EXPECT_FALSE(p.Follows(2, "c"));  // another history at the same sequence
  EXPECT_FALSE(p.Follows(1, "a"));
  absl::StatusOr<Progress> back = Progress::Decode(p.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->Follows(2, "b"));
  EXPECT_FALSE(Progress().Follows(0, ""));
}

TEST(ProgressTest, DecodesTheEarlierFortyBytes) {
  const Progress p = Progress().Next(1, "a").Next(2, "b");
  absl::StatusOr<Progress> back = Progress::Decode(p.Encode().substr(0, 40));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->sequence, 2u);
  EXPECT_EQ(back->digest, p.digest);
  EXPECT_FALSE(back->Follows(2, "b"));  // cannot tell without the previous digest
}

TEST(ProgressTest, DecodeRefusesWrongSize) {
  EXPECT_THAT(Progress::Decode("short"),
              optout::testing::StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

}  // namespace
}  // namespace optout::service::cluster
