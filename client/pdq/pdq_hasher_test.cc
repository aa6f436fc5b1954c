#include "client/pdq/pdq_hasher.h"

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "client/pdq/jarosz_filter.h"
#include "client/pdq/prescale.h"
#include "client/pdq/testing/image_encoder.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

// Pixel-level transforms, to check the DCT-domain dihedral variants.
Image Transformed(const Image& in, int variant) {
  const bool swap = variant == kRotate90 || variant == kRotate270 || variant == kFlipPlus1 ||
                    variant == kFlipMinus1;
  Image out;
  out.width = swap ? in.height : in.width;
  out.height = swap ? in.width : in.height;
  out.channels = in.channels;
  out.pixels.resize(in.pixels.size());
  const int w = in.width, h = in.height;
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;
      switch (variant) {
        case kRotate90: sx = w - 1 - y; sy = x; break;  // counter-clockwise
        case kRotate180: sx = w - 1 - x; sy = h - 1 - y; break;
        case kRotate270: sx = y; sy = h - 1 - x; break;
        case kFlipX: sy = h - 1 - y; break;
        case kFlipY: sx = w - 1 - x; break;
        case kFlipPlus1: sx = y; sy = x; break;
        case kFlipMinus1: sx = w - 1 - y; sy = h - 1 - x; break;
        default: break;
      }
      std::copy_n(in.row(sy) + sx * in.channels, in.channels, out.row(y) + x * in.channels);
    }
  }
  return out;
}

TEST(PdqHasherTest, JaroszWindowIsCeilingOfLengthOver128) {
  EXPECT_EQ(JaroszWindow(512), 4);
  EXPECT_EQ(JaroszWindow(300), 3);
  EXPECT_EQ(JaroszWindow(128), 1);
  EXPECT_EQ(JaroszWindow(129), 2);
  EXPECT_EQ(JaroszWindow(5), 1);
}

TEST(PdqHasherTest, JaroszScratchReusedAcrossSizesGivesTheSameMatrix) {
  // Region hashing filters many images through one scratch, whose buffers
  // keep what the previous, larger or smaller, image left in them.
  JaroszScratch scratch;
  for (const auto& [w, h] : {std::pair{300, 200}, std::pair{64, 90}, std::pair{256, 256},
                             std::pair{17, 300}}) {
    std::vector<float> luma(static_cast<size_t>(w) * h);
    for (size_t i = 0; i < luma.size(); ++i) {
      luma[i] = static_cast<float>((i * 37 + i / w * 11) % 256);
    }
    std::vector<float> fresh(64 * 64), reused(64 * 64);
    JaroszFilterAndDecimate(luma.data(), h, w, fresh.data());
    JaroszFilterAndDecimate(luma.data(), h, w, reused.data(), &scratch);
    EXPECT_EQ(fresh, reused) << w << "x" << h;
  }
}

// The reference's Jarosz filter as it is written (pdq/cpp downscaling.cpp):
// a whole-matrix box pass along every row, then every column, twice, then
// the 64x64 samples. The filter here streams its passes through small
// buffers and vectorises them; its floats must be these.
void ReferenceBox1D(const float* in, float* out, int length, int stride, int window) {
  const int half = (window + 2) / 2;
  int li = 0, ri = 0, oi = 0, size = 0;
  float sum = 0.0f;
  for (int i = 0; i < half - 1; ++i, ri += stride) {
    sum += in[ri];
    ++size;
  }
  for (int i = 0; i < window - half + 1; ++i, ri += stride, oi += stride) {
    sum += in[ri];
    ++size;
    out[oi] = sum / size;
  }
  for (int i = 0; i < length - window; ++i, ri += stride, li += stride, oi += stride) {
    sum += in[ri];
    sum -= in[li];
    out[oi] = sum / size;
  }
  for (int i = 0; i < half - 1; ++i, li += stride, oi += stride) {
    sum -= in[li];
    --size;
    out[oi] = sum / size;
  }
}

std::vector<float> ReferenceJarosz(std::vector<float> a, int h, int w) {
  std::vector<float> b(a.size());
  for (int pass = 0; pass < 2; ++pass) {
    for (int y = 0; y < h; ++y) {
      ReferenceBox1D(&a[static_cast<size_t>(y) * w], &b[static_cast<size_t>(y) * w], w, 1,
                     JaroszWindow(w));
    }
    for (int x = 0; x < w; ++x) ReferenceBox1D(&b[x], &a[x], h, w, JaroszWindow(h));
  }
  std::vector<float> out(64 * 64);
  for (int i = 0; i < 64; ++i) {
    for (int j = 0; j < 64; ++j) {
      const int y = static_cast<int>((i + 0.5) * h / 64), x = static_cast<int>((j + 0.5) * w / 64);
      out[64 * i + j] = a[static_cast<size_t>(y) * w + x];
    }
  }
  return out;
}

TEST(PdqHasherTest, JaroszFilterGivesTheReferencesFloatsAtAnySize) {
  // Heights around the 16-row strips and the ring of rows, widths under
  // PDQ's 64 columns, windows of 1 to 8.
  for (const auto& [w, h] :
       {std::pair{5, 5}, std::pair{7, 300}, std::pair{300, 7}, std::pair{17, 63},
        std::pair{64, 64}, std::pair{100, 257}, std::pair{513, 257}, std::pair{512, 512},
        std::pair{130, 1000}, std::pair{33, 17}, std::pair{960, 31}}) {
    std::vector<float> luma(static_cast<size_t>(w) * h);
    for (size_t i = 0; i < luma.size(); ++i) {
      // Fractions as luma has them, so the sums round.
      luma[i] = static_cast<float>((i * 2654435761u) % 25500) / 100.0f;
    }
    std::vector<float> got(64 * 64);
    JaroszFilterAndDecimate(luma.data(), h, w, got.data());
    EXPECT_EQ(got, ReferenceJarosz(luma, h, w)) << w << "x" << h;
  }
}

TEST(PdqHasherTest, SidesUnderFivePixelsAreRefused) {
  EXPECT_THAT(HashPixels(testing::SyntheticPhoto(4, 100), false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 5 px")));
  EXPECT_THAT(HashPixels(testing::SyntheticPhoto(100, 4), false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 5 px")));
  EXPECT_THAT(HashPixels(testing::SyntheticPhoto(5, 5), false), IsOk());
}

TEST(PdqHasherTest, MalformedImagesAreRefused) {
  Image image = testing::SyntheticPhoto(10, 10);
  image.channels = 4;
  EXPECT_THAT(HashPixels(image, false), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("channels")));
  image.channels = 3;
  image.pixels.pop_back();
  EXPECT_THAT(HashPixels(image, false), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size")));
}

TEST(PdqHasherTest, FlatImageHasQualityZero) {
  auto result = HashPixels(testing::Uniform(300, 200, 3, 128), false);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->quality, 0);
}

TEST(PdqHasherTest, DetailedImageHasHighQualityAndHalfTheBitsSet) {
  auto result = HashPixels(testing::SyntheticPhoto(400, 300), false);
  ASSERT_THAT(result, IsOk());
  EXPECT_GE(result->quality, 50);
  int ones = 0;
  for (int k = 0; k < PdqHash::kBits; ++k) ones += result->hash.bit(k);
  EXPECT_EQ(ones, 128);
}

TEST(PdqHasherTest, HashIsDeterministic) {
  const Image image = testing::SyntheticPhoto(257, 129, 3);
  auto a = HashPixels(image, true);
  auto b = HashPixels(image, true);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(a->hash, b->hash);
  EXPECT_EQ(a->dihedral, b->dihedral);
}

// A 301x301 image has a centred (odd) box window and a decimation grid that
// mirrors onto itself, so each variant should (nearly) equal the hash of the
// transformed pixels (exact equality is not expected:
// README.md#dihedral-variants).
TEST(PdqHasherTest, EachDihedralVariantIsCloseToTheTransformedImagesHash) {
  const Image image = testing::SyntheticPhoto(301, 301, 11);
  auto original = HashPixels(image, true);
  ASSERT_THAT(original, IsOk());
  for (int variant = 0; variant < 8; ++variant) {
    SCOPED_TRACE(variant);
    auto moved = HashPixels(Transformed(image, variant), false);
    ASSERT_THAT(moved, IsOk());
    const int own = HammingDistance(original->dihedral[variant], moved->hash);
    // Only float rounding differs between the two routes.
    EXPECT_LE(own, 4);
    for (int other = 0; other < 8; ++other) {
      if (other != variant) EXPECT_LT(own, HammingDistance(original->dihedral[other], moved->hash));
    }
  }
}

TEST(PdqHasherTest, MirrorBitsAreTheDihedralFlipY) {
  std::mt19937 rng(5);
  std::normal_distribution<float> value(0, 100);
  for (int trial = 0; trial < 20; ++trial) {
    float b[256];
    for (float& v : b) v = value(rng);
    EXPECT_EQ(MirrorBitsOf16(b), DihedralBitsOf16(b)[kFlipY]);
  }
}

TEST(PdqHasherTest, ExactSixtyFourSkipsTheFilterOnlyOnThePlainPath) {
  const Image image = testing::SyntheticPhoto(64, 64, 5);
  auto result = HashPixels(image, true);
  ASSERT_THAT(result, IsOk());
  // Growing the image by one pixel row re-enables the filter (window 1,
  // essentially identity), so both paths should still agree closely.
  EXPECT_LE(HammingDistance(result->hash, result->dihedral[kOriginal]), 32);
}

TEST(PdqHasherTest, PrescaleSamplesNearestNeighbourToExactly512) {
  Image wide;
  wide.width = 1024;
  wide.height = 4;
  wide.channels = 1;
  wide.pixels.resize(1024 * 4);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 1024; ++x) wide.pixels[y * 1024 + x] = static_cast<uint8_t>((x + 7 * y) & 0xFF);
  }
  const Image out = Prescale(wide);
  ASSERT_EQ(out.width, 512);
  ASSERT_EQ(out.height, 512);
  EXPECT_EQ(out.row(0)[1], wide.row(0)[2]);
  EXPECT_EQ(out.row(511)[300], wide.row(511 * 4 / 512)[600]);
  EXPECT_EQ(out.row(130)[5], wide.row(130 * 4 / 512)[10]);
}

TEST(PdqHasherTest, PrescaleLeavesImagesUpTo512Alone) {
  const Image image = testing::SyntheticPhoto(512, 100);
  const Image out = Prescale(image);
  EXPECT_EQ(out.width, 512);
  EXPECT_EQ(out.height, 100);
  EXPECT_EQ(out.pixels, image.pixels);
}

TEST(PdqHasherTest, PrescaleFoldsAllGreyRgbToOneChannel) {
  const Image grey_rgb = testing::Uniform(20, 10, 3, 77);
  const Image out = Prescale(grey_rgb);
  EXPECT_EQ(out.channels, 1);
  EXPECT_EQ(out.pixels, std::vector<uint8_t>(200, 77));
  Image tinted = grey_rgb;
  tinted.pixels[3 * 199 + 2] = 78;  // last pixel, blue
  EXPECT_EQ(Prescale(tinted).channels, 3);
}

}  // namespace
}  // namespace optout::pdq
