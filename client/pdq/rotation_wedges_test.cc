#include "client/pdq/rotation_wedges.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace optout::pdq {
namespace {

constexpr int kWidth = 480, kHeight = 320;
constexpr float kBlank = 255;

// A textured picture of luma 20..180 (never as bright as the blank).
float Picture(double x, double y) {
  return static_cast<float>(100 + 40 * std::sin(x / 17) + 40 * std::cos(y / 11));
}

// The picture (of kWidth / keep x kHeight / keep pixels) turned by
// `degrees` onto a larger canvas, then cropped to kWidth x kHeight the way
// ImageMagick's -rotate, -gravity center -crop does (match_regions.cc,
// OwnerWindows): blank where the turned picture does not reach.
std::vector<float> TurnedCopy(double degrees) {
  const double t = std::abs(degrees) * 3.14159265358979323846 / 180;
  const double keep = 1 - std::abs(degrees) / 45;
  const double pw = kWidth / keep, ph = kHeight / keep;
  const double grow_w = pw * std::cos(t) + ph * std::sin(t) - pw;
  const double grow_h = pw * std::sin(t) + ph * std::cos(t) - ph;
  const double cs = std::cos(t), sn = (degrees < 0 ? -1 : 1) * std::sin(t);
  std::vector<float> v(static_cast<size_t>(kWidth) * kHeight);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      const double dx = x + 0.5 - kWidth / 2.0 + grow_w / 2;
      const double dy = y + 0.5 - kHeight / 2.0 + grow_h / 2;
      const double px = pw / 2 + cs * dx - sn * dy, py = ph / 2 + sn * dx + cs * dy;
      const bool inside = px >= 0 && py >= 0 && px < pw && py < ph;
      v[static_cast<size_t>(y) * kWidth + x] = inside ? Picture(px, py) : kBlank;
    }
  }
  return v;
}

int BlankPixels(const std::vector<float>& v) {
  int n = 0;
  for (float p : v) n += p == kBlank;
  return n;
}

TEST(RotationWedgesTest, FillsTheBlankCornersOfATurnedCopyAndNothingElse) {
  for (double degrees : {-5.5, -2.5, 1.5, 4.0}) {
    const std::vector<float> copy = TurnedCopy(degrees);
    ASSERT_GT(BlankPixels(copy), 100) << degrees;
    std::vector<float> filled;
    ASSERT_TRUE(FillRotationWedges(copy, kWidth, kHeight, kWidth, kHeight, &filled))
        << degrees;
    EXPECT_EQ(BlankPixels(filled), 0) << degrees;
    int changed = 0;
    for (size_t i = 0; i < copy.size(); ++i) {
      if (copy[i] != kBlank) changed += filled[i] != copy[i];
    }
    // Only the wedges' blended edge (one pixel along the long side) besides.
    EXPECT_LT(changed, kWidth + kHeight) << degrees;
  }
}

TEST(RotationWedgesTest, LeavesAPictureAPaddedPictureAndALargeAngleAlone) {
  std::vector<float> picture(static_cast<size_t>(kWidth) * kHeight);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) picture[static_cast<size_t>(y) * kWidth + x] = Picture(x, y);
  }
  std::vector<float> filled;
  EXPECT_FALSE(FillRotationWedges(picture, kWidth, kHeight, kWidth, kHeight, &filled));
  std::vector<float> padded = picture;
  for (int y = 0; y < 40; ++y) {
    for (int x = 0; x < kWidth; ++x) padded[static_cast<size_t>(y) * kWidth + x] = kBlank;
  }
  EXPECT_FALSE(FillRotationWedges(padded, kWidth, kHeight, kWidth, kHeight, &filled));
  // 20 degrees is a collage or a tilted photo on a page, not a straightened copy.
  EXPECT_FALSE(FillRotationWedges(TurnedCopy(20), kWidth, kHeight, kWidth, kHeight,
                                  &filled));
  EXPECT_TRUE(filled.empty());
}

}  // namespace
}  // namespace optout::pdq
