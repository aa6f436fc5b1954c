#include "client/common/digest/digest.h"

#include <openssl/evp.h>

#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::digest {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::_;

TEST(DigestTest, Sha256OfAbcMatchesFips180Vector) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, Sha256MatchesEvpAcrossThePaddingBoundaries) {
  std::string message;
  for (int len = 0; len <= 200; ++len) {
    unsigned char expected[32];
    unsigned int n = 0;
    EVP_Digest(message.data(), message.size(), expected, &n, EVP_sha256(), nullptr);
    const Sha256Digest got = Sha256(message);
    EXPECT_EQ(std::string(got.begin(), got.end()),
              std::string(reinterpret_cast<char*>(expected), 32))
        << "length " << len;
    message.push_back(static_cast<char>('a' + len % 26));
  }
}

TEST(DigestTest, Md5OfEmptyMatchesRfc1321Vector) {
  EXPECT_EQ(ToHex(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestTest, FromHexRoundTripsAndAcceptsUpperCase) {
  auto bytes = FromHex("00FFa5");
  ASSERT_THAT(bytes, IsOk());
  EXPECT_EQ(ToHex(*bytes), "00ffa5");
}

TEST(DigestTest, FromHexRejectsOddLengthBadDigitAndWrongSize) {
  EXPECT_THAT(FromHex("abc"), StatusIs(absl::StatusCode::kInvalidArgument, _));
  EXPECT_THAT(FromHex("zz"), StatusIs(absl::StatusCode::kInvalidArgument, _));
  EXPECT_THAT(FromHex("abcd", 3), StatusIs(absl::StatusCode::kInvalidArgument, _));
}

TEST(DigestTest, HexIntoAgreesWithFromHexAndReusesItsBuffer) {
  std::string out = "previous contents, longer than any digest here";
  ASSERT_TRUE(HexInto("00FFa5", &out));
  EXPECT_EQ(out, *FromHex("00FFa5"));
  ASSERT_TRUE(HexInto("", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(HexInto("abc", &out));
  // A bad digit anywhere, in either half of a byte.
  for (const char* bad : {"zz", "0g", "g0", "00ff0x", "00ff\x80\x80"}) {
    EXPECT_FALSE(HexInto(bad, &out)) << bad;
  }
}

}  // namespace
}  // namespace optout::digest
