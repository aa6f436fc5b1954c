// File: storage/code256_test.cc
#include "storage/code256.h"

#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::storage {
namespace {

using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

TEST(Code256Test, CodeFromBytesReadsLittleEndianWords) {
  std::string bytes(32, '\0');
  bytes[0] = 0x01;
  bytes[7] = static_cast<char>(0x80);
  bytes[8] = 0x02;
  bytes[31] = static_cast<char>(0xff);
  const Code256 code = CodeFromBytes(bytes);
  EXPECT_EQ(code[0], 0x8000000000000001ULL);
  EXPECT_EQ(code[1], 0x2ULL);
  EXPECT_EQ(code[2], 0ULL);
  EXPECT_EQ(code[3], 0xff00000000000000ULL);
}

TEST(Code256Test, CodeToBytesInvertsCodeFromBytes) {
  std::string bytes(32, '\0');
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<char>(i * 37 + 5);
  EXPECT_EQ(CodeToBytes(CodeFromBytes(bytes)), bytes);
}

TEST(Code256Test, PdqHexDistancesMatchBitCounts) {
  const std::string zero(64, '0');
  const std::string one = std::string(63, '0') + "1";
  const std::string top = "8" + std::string(63, '0');
  const std::string all(64, 'f');
  EXPECT_EQ(HammingDistance(*CodeFromPdqHex(zero), *CodeFromPdqHex(one)), 1);
  EXPECT_EQ(HammingDistance(*CodeFromPdqHex(one), *CodeFromPdqHex(top)), 2);
  EXPECT_EQ(HammingDistance(*CodeFromPdqHex(zero), *CodeFromPdqHex(all)), 256);
}

// The hex form is the big-endian number; the wire bytes (and the code) put
// bit 0 in the lowest bit of byte 0, as optout.v1.PdqHash and pdq::PdqHash do.
TEST(Code256Test, PdqHexMapsToTheWireBitOrder) {
  const Code256 low = *CodeFromPdqHex(std::string(63, '0') + "1");
  EXPECT_EQ(low, (Code256{1, 0, 0, 0}));
  const Code256 high = *CodeFromPdqHex("8" + std::string(63, '0'));
  EXPECT_EQ(high, (Code256{0, 0, 0, 0x8000000000000000ULL}));
  std::string wire(32, '\0');
  wire[0] = '\x01';
  wire[31] = '\x80';
  EXPECT_EQ(*CodeFromPdqHex("8" + std::string(62, '0') + "1"), CodeFromBytes(wire));
}

TEST(Code256Test, PdqHexRejectsBadInput) {
  EXPECT_THAT(CodeFromPdqHex("abc"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64 digits")));
  EXPECT_THAT(CodeFromPdqHex(std::string(63, '0') + "g"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("non-hex")));
}

TEST(Code256Test, HammingDistanceCountsDifferingBits) {
  const Code256 a = {0, 0, 0, 0};
  const Code256 b = {0xff, 1, 0, 0x8000000000000000ULL};
  EXPECT_EQ(HammingDistance(a, b), 10);
  EXPECT_EQ(HammingDistance(b, b), 0);
}

}  // namespace
}  // namespace optout::storage
