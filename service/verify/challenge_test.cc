#include "service/verify/challenge.h"

#include "gtest/gtest.h"

namespace optout::verify {
namespace {

TEST(ChallengeTest, UrlAndDnsName) {
  EXPECT_EQ(ChallengeUrl("photos.example.com", "abc"),
            "https://photos.example.com/.well-known/optout-challenge/abc");
  EXPECT_EQ(ChallengeUrl("2001:db8::1", "abc"),
            "https://[2001:db8::1]/.well-known/optout-challenge/abc");
  EXPECT_EQ(ChallengeDnsName("photos.example.com"), "_optout-challenge.photos.example.com");
}

TEST(ChallengeTest, TokenMustMatchExactlyBesidesSurroundingWhitespace) {
  EXPECT_TRUE(MatchesToken("abc123", "abc123"));
  EXPECT_TRUE(MatchesToken("  abc123\r\n", "abc123"));
  EXPECT_FALSE(MatchesToken("abc1234", "abc123"));
  EXPECT_FALSE(MatchesToken("abc12", "abc123"));
  EXPECT_FALSE(MatchesToken("ABC123", "abc123"));
  EXPECT_FALSE(MatchesToken("token: abc123", "abc123"));
  EXPECT_FALSE(MatchesToken("", ""));
}

TEST(ChallengeTest, IpLiterals) {
  EXPECT_TRUE(IsIpLiteral("192.0.2.1"));
  EXPECT_TRUE(IsIpLiteral("2001:db8::1"));
  EXPECT_TRUE(IsIpLiteral("[2001:db8::1]"));
  EXPECT_FALSE(IsIpLiteral("example.com"));
}

}  // namespace
}  // namespace optout::verify
