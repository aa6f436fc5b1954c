#include "client/pdq/image_decoder.h"

#include <string>
#include <vector>

#include "client/pdq/testing/image_encoder.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

Image Gradient(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.pixels.push_back(static_cast<uint8_t>(x * 7));
      image.pixels.push_back(static_cast<uint8_t>(y * 11));
      image.pixels.push_back(static_cast<uint8_t>(x + y));
    }
  }
  return image;
}

TEST(ImageDecoderTest, DetectsFormatsFromMagicBytes) {
  EXPECT_EQ(DetectFormat("\xFF\xD8\xFF\xE0"), ImageFormat::kJpeg);
  EXPECT_EQ(DetectFormat(std::string("\x89PNG\r\n\x1A\n\0", 9)), ImageFormat::kPng);
  EXPECT_EQ(DetectFormat(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), ImageFormat::kWebp);
  EXPECT_EQ(DetectFormat("GIF87a...."), ImageFormat::kGif);
  EXPECT_EQ(DetectFormat(std::string("II*\0", 4)), ImageFormat::kTiff);
  EXPECT_EQ(DetectFormat(std::string("\0\0\0\x1C" "ftypheic", 12)), ImageFormat::kHeif);
  EXPECT_EQ(DetectFormat(std::string("\0\0\0\x1C" "ftypavif", 12)), ImageFormat::kAvif);
  EXPECT_EQ(DetectFormat(std::string("RIFF\x10\0\0\0WAVE", 12)), ImageFormat::kUnknown);
  EXPECT_EQ(DetectFormat("\xFF\xD8"), ImageFormat::kUnknown);
  EXPECT_EQ(DetectFormat(""), ImageFormat::kUnknown);
}

TEST(ImageDecoderTest, PngRgbRoundTripsExactly) {
  const Image image = Gradient(33, 17);
  auto decoded = DecodeFull(testing::EncodePng(image), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->channels, 3);
  EXPECT_EQ(decoded->pixels, image.pixels);
}

TEST(ImageDecoderTest, InterlacedPngDecodesLikeNonInterlaced) {
  const Image image = Gradient(41, 29);
  testing::PngOptions options;
  options.interlaced = true;
  auto decoded = DecodeFull(testing::EncodePng(image, options), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->pixels, image.pixels);
}

TEST(ImageDecoderTest, PngAlphaIsDroppedNotComposited) {
  const Image image = Gradient(10, 6);
  testing::PngOptions options;
  options.alpha = true;
  options.alpha_values.assign(60, 0);  // fully transparent
  auto decoded = DecodeFull(testing::EncodePng(image, options), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->channels, 3);
  EXPECT_EQ(decoded->pixels, image.pixels);
}

TEST(ImageDecoderTest, Png16BitSamplesScaleLikeImageMagickDepth8) {
  Image image;
  image.width = 6;
  image.height = 1;
  image.channels = 1;
  image.pixels.resize(6);
  testing::PngOptions options;
  options.bit_depth = 16;
  options.samples16 = {256, 257, 513, 514, 257 * 200, 65535};
  auto decoded = DecodeFull(testing::EncodePng(image, options), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->pixels, (std::vector<uint8_t>{0, 1, 1, 2, 200, 255}));
}

TEST(ImageDecoderTest, PalettePngExpandsColoursAndIgnoresTransparency) {
  const std::vector<uint8_t> palette = {10, 20, 30, 200, 100, 50};
  const std::vector<uint8_t> indices = {0, 1, 1, 0, 1, 0};
  auto decoded = DecodeFull(testing::EncodePalettePng(3, 2, indices, palette, {0, 128}),
                            DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->channels, 3);
  EXPECT_EQ(decoded->pixels, (std::vector<uint8_t>{10, 20, 30, 200, 100, 50, 200, 100, 50,
                                                   10, 20, 30, 200, 100, 50, 10, 20, 30}));
}

TEST(ImageDecoderTest, GreyPaletteIsFoldedToOneChannel) {
  auto decoded = DecodeFull(testing::EncodePalettePng(2, 1, {0, 1}, {0, 0, 0, 255, 255, 255}),
                            DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->channels, 1);
  EXPECT_EQ(decoded->pixels, (std::vector<uint8_t>{0, 255}));
}

TEST(ImageDecoderTest, GreyJpegDecodesToOneChannel) {
  Image grey = testing::Uniform(16, 16, 1, 90);
  auto decoded = DecodeFull(testing::EncodeJpeg(grey), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->channels, 1);
  EXPECT_EQ(decoded->width, 16);
}

TEST(ImageDecoderTest, CmykJpegDecodesToRgb) {
  // Uniform samples (Adobe convention: 255 = no ink): C=255, M=0, Y=255, K=255.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 16 * 8; ++i) cmyk.insert(cmyk.end(), {255, 0, 255, 255});
  auto decoded = DecodeFull(testing::EncodeCmykJpeg(16, 8, cmyk), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->channels, 3);
  EXPECT_EQ(decoded->width, 16);
  // Lossy, so only roughly: strong red and blue, no green.
  EXPECT_GT(decoded->pixels[0], 240);
  EXPECT_LT(decoded->pixels[1], 15);
  EXPECT_GT(decoded->pixels[2], 240);
}

TEST(ImageDecoderTest, ProgressiveJpegDecodesLikeBaselineOfSameImage) {
  const Image photo = testing::SyntheticPhoto(120, 90);
  auto baseline = DecodeFull(testing::EncodeJpeg(photo, 90, false), DecodeLimits{});
  auto progressive = DecodeFull(testing::EncodeJpeg(photo, 90, true), DecodeLimits{});
  ASSERT_THAT(baseline, IsOk());
  ASSERT_THAT(progressive, IsOk());
  EXPECT_EQ(progressive->width, 120);
  EXPECT_EQ(progressive->height, 90);
}

TEST(ImageDecoderTest, ProgressiveScanLimitIsEnforced) {
  DecodeLimits limits;
  limits.max_jpeg_scans = 2;
  EXPECT_THAT(DecodeFull(testing::EncodeJpeg(testing::SyntheticPhoto(64, 64), 90, true), limits),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("progressive scans")));
}

TEST(ImageDecoderTest, WebpLosslessRoundTripsExactly) {
  const Image image = Gradient(23, 19);
  auto decoded = DecodeFull(testing::EncodeWebpLossless(image), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->pixels, image.pixels);
}

TEST(ImageDecoderTest, PrescaledDecodeReportsTheSourceSize) {
  auto decoded = DecodeForPdq(testing::EncodePng(Gradient(700, 20)), DecodeLimits{});
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->source_width, 700);
  EXPECT_EQ(decoded->source_height, 20);
  EXPECT_EQ(decoded->image.width, 512);
  EXPECT_EQ(decoded->image.height, 512);
}

}  // namespace
}  // namespace optout::pdq
