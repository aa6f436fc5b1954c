#include "client/pdq/region_luma.h"

#include <cstdint>

#include "client/pdq/image_decoder.h"
#include "client/pdq/luma.h"
#include "client/pdq/testing/image_encoder.h"
#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

TEST(RegionLumaTest, EachSampleIsTheMeanLumaOfAWholeBlockOfPixels) {
  // 1030 x 600: 3 x 2 blocks (the smallest whole factors to 512 or less).
  const Image photo = testing::SyntheticPhoto(1030, 600, 7);
  const LumaPlane plane = RegionLumaOf(photo);
  ASSERT_EQ(plane.width, 343);
  ASSERT_EQ(plane.height, 300);
  std::vector<float> row0(photo.width), row1(photo.width);
  for (int y : {0, 150, 299}) {
    ComputeLumaRow(photo, 2 * y, row0.data());
    ComputeLumaRow(photo, 2 * y + 1, row1.data());
    for (int x : {0, 100, 342}) {
      float sum = 0;
      for (int dx = 0; dx < 3; ++dx) sum += row0[3 * x + dx] + row1[3 * x + dx];
      EXPECT_NEAR(plane.v[static_cast<size_t>(y) * plane.width + x], sum / 6, 1e-3);
    }
  }
}

TEST(RegionLumaTest, GreyPixelsGiveTheSamePlaneInRgbAndInGrey) {
  const Image photo = testing::SyntheticPhoto(600, 400, 8);
  Image grey{photo.width, photo.height, 1, {}};
  Image grey_rgb{photo.width, photo.height, 3, {}};
  for (size_t i = 0; i < static_cast<size_t>(photo.width) * photo.height; ++i) {
    const uint8_t v = photo.pixels[3 * i + 1];
    grey.pixels.push_back(v);
    grey_rgb.pixels.insert(grey_rgb.pixels.end(), {v, v, v});
  }
  EXPECT_EQ(RegionLumaOf(grey).v, RegionLumaOf(grey_rgb).v);
}

TEST(RegionLumaTest, DecodingBuildsThePlaneOfEveryDecodedPixel) {
  const Image photo = testing::SyntheticPhoto(900, 700, 9);
  const auto decoded = DecodeForPdq(testing::EncodePng(photo), DecodeLimits{}, true);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->image.width, 512);  // the plain hash's pre-scale is unchanged
  EXPECT_EQ(decoded->region_luma.v, RegionLumaOf(photo).v);
  const auto plain_only = DecodeForPdq(testing::EncodePng(photo), DecodeLimits{});
  ASSERT_TRUE(plain_only.ok());
  EXPECT_TRUE(plain_only->region_luma.v.empty());
}

}  // namespace
}  // namespace optout::pdq
