#include "client/parquet/rle.h"

#include <random>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::parquet {
namespace {

using ::optout::testing::StatusIs;

TEST(RleTest, RoundTripsRunsAndNoiseAtEveryWidth) {
  std::mt19937 rng(7);
  for (int width = 1; width <= 32; ++width) {
    std::vector<uint32_t> values;
    const uint64_t max = width == 32 ? 0xffffffffu : (1u << width) - 1;
    for (int block = 0; block < 40; ++block) {
      const uint32_t v = static_cast<uint32_t>(rng() & max);
      const int n = static_cast<int>(rng() % 30);
      for (int i = 0; i < n; ++i) values.push_back(block % 2 ? v : static_cast<uint32_t>(rng() & max));
    }
    std::string encoded;
    EncodeHybrid(values.data(), values.size(), width, &encoded);
    std::vector<uint32_t> decoded;
    ASSERT_TRUE(DecodeHybrid(encoded, width, values.size(), &decoded).ok()) << width;
    EXPECT_EQ(decoded, values) << width;
  }
}

TEST(RleTest, DecodesTheFormatSpecExample) {
  // Bit-packed 0..7 at width 3 (the example of the Parquet encodings page).
  const std::string packed = std::string("\x03\x88\xc6\xfa", 4);
  std::vector<uint32_t> out;
  ASSERT_TRUE(DecodeHybrid(packed, 3, 8, &out).ok());
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  // BIT_PACKED (deprecated, MSB first) 0..7 at width 3.
  std::vector<uint8_t> levels;
  ASSERT_TRUE(DecodeBitPackedLevels(std::string("\x05\x39\x77", 3), 3, 8, &levels).ok());
  EXPECT_EQ(levels, (std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(RleTest, RunsClaimingMoreThanTheInputAreDataLoss) {
  std::vector<uint32_t> out;
  // A bit-packed run of 100 groups with 2 bytes behind it.
  EXPECT_THAT(DecodeHybrid(std::string("\xc9\x01\x00\x00", 4), 8, 800, &out),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  // Values stop before `count`.
  EXPECT_THAT(DecodeHybrid(std::string("\x04\x01", 2), 1, 10, &out), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  // An RLE value wider than the bit width.
  EXPECT_THAT(DecodeHybrid(std::string("\x04\x05", 2), 1, 2, &out), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

}  // namespace
}  // namespace optout::parquet
