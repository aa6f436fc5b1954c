#include "client/digest/digest.h"

#include "gtest/gtest.h"

namespace optout::digest {
namespace {

TEST(DigestTest, Sha256OfAbcMatchesFips180Vector) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, Md5OfEmptyMatchesRfc1321Vector) {
  EXPECT_EQ(ToHex(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestTest, FromHexRoundTripsAndAcceptsUpperCase) {
  auto bytes = FromHex("00FFa5");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ToHex(*bytes), "00ffa5");
}

TEST(DigestTest, FromHexRejectsOddLengthBadDigitAndWrongSize) {
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
  EXPECT_FALSE(FromHex("abcd", 3).ok());
}

}  // namespace
}  // namespace optout::digest
