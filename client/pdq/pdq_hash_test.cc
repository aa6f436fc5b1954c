#include "client/pdq/pdq_hash.h"
#include "client/pdq/pdq_hex.h"

#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PdqHashTest, BitZeroIsTheLastHexDigitsLeastSignificantBit) {
  PdqHash hash;
  hash.set_bit(0);
  EXPECT_EQ(hash.ToHex(), std::string(63, '0') + "1");
  EXPECT_EQ(hash.bytes[0], 0x01);
}

TEST(PdqHashTest, BitK255IsTheFirstHexDigitsMostSignificantBit) {
  PdqHash hash;
  hash.set_bit(255);
  EXPECT_EQ(hash.ToHex(), "8" + std::string(63, '0'));
  EXPECT_EQ(hash.bytes[31], 0x80);
}

TEST(PdqHashTest, WireBitKIsBitKMod8OfByteKDiv8) {
  PdqHash hash;
  hash.set_bit(16 * 3 + 9);  // DCT row 3, column 9
  EXPECT_EQ(hash.bytes[57 / 8], 1 << (57 % 8));
  EXPECT_TRUE(hash.bit(57));
  EXPECT_FALSE(hash.bit(56));
}

TEST(PdqHashTest, FromHexRoundTripsAndAcceptsUpperCase) {
  const std::string hex = "e1c95d4aa7cc1853cf60248336b99ab56fc9e1e91839af516a48be4c4946cfba";
  auto hash = PdqHashFromHex(hex);
  ASSERT_THAT(hash, IsOk());
  EXPECT_EQ(hash->ToHex(), hex);
  auto upper = PdqHashFromHex("E1C95D4AA7CC1853CF60248336B99AB56FC9E1E91839AF516A48BE4C4946CFBA");
  ASSERT_THAT(upper, IsOk());
  EXPECT_EQ(*upper, *hash);
  // The last hex digit 'a' = 1010b holds bits 3..0: bits 1 and 3 set.
  EXPECT_FALSE(hash->bit(0));
  EXPECT_TRUE(hash->bit(1));
  EXPECT_TRUE(hash->bit(3));
}

TEST(PdqHashTest, FromHexRejectsWrongLengthAndNonHex) {
  EXPECT_THAT(PdqHashFromHex("abc"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64")));
  EXPECT_THAT(PdqHashFromHex(std::string(63, '0') + "g"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hex")));
}

TEST(PdqHashTest, HammingDistanceCountsDifferingBits) {
  PdqHash a, b;
  EXPECT_EQ(HammingDistance(a, b), 0);
  for (int k : {0, 7, 8, 63, 64, 200, 255}) b.set_bit(k);
  EXPECT_EQ(HammingDistance(a, b), 7);
  EXPECT_EQ(HammingDistance(b, a), 7);
  for (auto& byte : a.bytes) byte = 0xFF;
  EXPECT_EQ(HammingDistance(a, PdqHash{}), 256);
}

}  // namespace
}  // namespace optout::pdq
